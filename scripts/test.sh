#!/usr/bin/env bash
# The README's second command (and what .ci/run calls): installs what is missing, builds with
# warnings as errors, and runs every test (unit, MPI on 1/2/4 ranks, CLI), each with a timeout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DGENOFOREST_WERROR=ON
cd "$root/build"
ctest --output-on-failure --timeout 600 "$@"
