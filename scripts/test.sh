#!/usr/bin/env bash
# The README's second command (and what .ci/run calls): installs what is missing, builds with
# warnings as errors, and runs every test (unit, MPI on 1/2/4 ranks, CLI), each with a timeout;
# then the unit tests and the 1/2-rank MPI tests again under ASan + UBSan (build-asan/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" --test
"$root/scripts/build.sh" -DGENOFOREST_WERROR=ON
cd "$root/build"
ctest --output-on-failure --timeout 600 "$@"

# The same code under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan, -O1): the unit
# tests and the 1/2-rank MPI and CLI tests labelled 'sanitize'. GF_SANITIZERS=0 skips it.
if [[ "${GF_SANITIZERS:-1}" != 0 ]]; then
  if [[ ! -f "$root/build-asan/CMakeCache.txt" ]]; then
    cmake -S "$root" -B "$root/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGENOFOREST_WERROR=ON \
      -DGENOFOREST_SANITIZE=address,undefined >/dev/null
  fi
  cmake --build "$root/build-asan" -j "$(nproc)"
  cd "$root/build-asan"
  ctest --output-on-failure --timeout 900 -j "$(nproc)" -L 'unit|sanitize' "$@"
fi
