#!/usr/bin/env bash
# Installs the Debian 12 packages genoforest needs, by purpose (packages already present are left alone):
#   scripts/install-deps.sh           to build and run it (the demo: scripts/demo.sh); also fetches the
#                                     plotting library the report inlines (scripts/fetch-js.sh: Vega and
#                                     Vega-Lite from npm, checked against pinned SHA-256 sums)
#   scripts/install-deps.sh --test    also what the tests use (scripts/test.sh): the bwa and bcftools
#                                     programs (the alignment test compares with `bwa mem`, the calling
#                                     test normalises truth and calls with `bcftools norm`), plink2 (the
#                                     PLINK input test compares with its conversion), tabix and
#                                     hdf5-tools, Slurm's daemons and munge (a test submits the demo to a
#                                     local single-node cluster), procps's pkill (a test interrupts a run),
#                                     chromium and python3 (the report is opened in a headless browser and
#                                     its rendered DOM checked)
#   scripts/install-deps.sh --bench   also the anchors the benchmarks compare against (implies --test)
#   scripts/install-deps.sh --fuzz    also clang and libFuzzer (scripts/fuzz.sh)
# Flags combine. Idempotent: when everything is present it only runs dpkg-query (well under a second).
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config ninja-build git
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev
  libhts-dev zlib1g-dev libdeflate-dev libisal-dev
  libbwa-dev
  libeigen3-dev
  libboost-program-options-dev libboost-serialization-dev
  libgtest-dev
  nlohmann-json3-dev
  curl ca-certificates
)
test_pkgs=(bwa bcftools plink2 tabix hdf5-tools munge slurmctld slurmd slurm-client procps dpkg-dev file chromium python3)
for flag in "$@"; do
  case "$flag" in
    --test) pkgs+=("${test_pkgs[@]}") ;;
    --bench) pkgs+=("${test_pkgs[@]}" plink2 samtools time bc python3-sklearn python3-h5py python3-xgboost r-cran-ranger libopenblas0-pthread) ;;
    --fuzz) pkgs+=(clang libclang-rt-dev llvm) ;;
    *) echo "install-deps: unknown option $flag (use --test, --bench or --fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} packages present"
  "$(dirname "$0")/fetch-js.sh"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
"$(dirname "$0")/fetch-js.sh"
