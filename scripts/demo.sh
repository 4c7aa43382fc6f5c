#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the embedded demo
# (configs/demo.ini) on 2 MPI ranks with `genoforest run`: simulate a cohort and reads -> index ->
# align -> call -> feature store -> train -> cv -> predict, then prints the store's summary and the
# top variants. Rerunning it skips what is done.
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
# One command runs every stage of the config in order, in the run folder; rerunning it resumes.
echo "+ mpirun -n $RANKS genoforest run --config configs/demo.ini --run-dir $OUTDIR" >&2
mpirun -n "$RANKS" "$GENOFOREST" run --config "$root/configs/demo.ini" --run-dir "$OUTDIR"
"$GENOFOREST" summary cohort.h5 -q
echo "top variants (cohort.gfm.importance.tsv):" >&2
head -6 cohort.gfm.importance.tsv >&2
echo "demo outputs in $OUTDIR" >&2
