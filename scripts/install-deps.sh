#!/usr/bin/env bash
# Installs every Debian 12 package genoforest needs to build, test and benchmark. (The bwa and
# bcftools programs are test dependencies: the alignment test compares with `bwa mem`, the calling
# test normalises the truth and the calls with `bcftools norm` before scoring them; Slurm's
# daemons let a test submit the demo to a local single-node cluster; procps's pkill lets a test
# interrupt a run.)
# Idempotent: when everything is present it only runs dpkg-query and exits (well under a second).
#   scripts/install-deps.sh           build + test dependencies
#   scripts/install-deps.sh --bench   also the anchors the benchmarks compare against
#   scripts/install-deps.sh --fuzz    also clang and libFuzzer (scripts/fuzz.sh)
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config ninja-build
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev hdf5-tools
  libhts-dev zlib1g-dev libdeflate-dev libisal-dev tabix
  libbwa-dev bwa bcftools
  munge slurmctld slurmd slurm-client procps
  libeigen3-dev
  libboost-program-options-dev libboost-serialization-dev
  libgtest-dev
)
if [[ "${1:-}" == "--fuzz" ]]; then
  pkgs+=(clang libclang-rt-dev llvm)
fi
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(plink2 samtools time bc python3-sklearn python3-h5py r-cran-ranger libopenblas0-pthread)
fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
