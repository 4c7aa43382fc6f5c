#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the embedded demo
# (configs/demo.ini) on 2 MPI ranks: simulate a cohort and reads -> index -> align -> call -> feature
# store -> summary -> train -> cv -> predict.
#   scripts/demo.sh                 (OUTDIR=out/demo RANKS=2 by default)
# With GENOFOREST set to a built binary, it skips installing and building (used by the tests).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${GENOFOREST:-}" ]]; then
  "$root/scripts/install-deps.sh"
  "$root/scripts/build.sh"
  GENOFOREST="$root/build/genoforest"
fi
RANKS=${RANKS:-2}
OUTDIR=${OUTDIR:-$root/out/demo}
mkdir -p "$OUTDIR"
cd "$OUTDIR"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
run() { echo "+ mpirun -n $RANKS genoforest $*" >&2; mpirun -n "$RANKS" "$GENOFOREST" "$@"; }
run simulate --config "$root/configs/demo.ini" -@ 2
run index --config "$root/configs/demo.ini"
run align --config "$root/configs/demo.ini"
run call --config "$root/configs/demo.ini"
run features --config "$root/configs/demo.ini"
"$GENOFOREST" summary cohort.h5 -q
run train --config "$root/configs/demo.ini"
run cv --config "$root/configs/demo.ini"
run predict --config "$root/configs/demo.ini"
echo "top variants (cohort.gfm.importance.tsv):" >&2
head -6 cohort.gfm.importance.tsv >&2
echo "demo outputs in $OUTDIR" >&2
