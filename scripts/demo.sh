#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the embedded demo
# (configs/demo.ini) on 2 MPI ranks with `genoforest run`: a simulated cohort of 200 samples with
# reads -> index -> align -> joint calling -> feature store of the called genotypes -> forest,
# cross-validation, prediction -> PCA, clusters -> HTML report. Then the same cross-validation on
# the true genotypes, to show what calling at 4x costs. Rerunning it skips what is done.
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
echo "top variants (cohort.gfm.importance.tsv; the causal ones are in cohort.truth.tsv):" >&2
head -6 cohort.gfm.importance.tsv >&2
# The same filters and cross-validation on the true genotypes of the same samples.
if [[ ! -s truth.cv.json ]]; then
  "$GENOFOREST" features cohort.vcf.gz -p cohort.pheno.tsv -o truth.h5 --min-maf 0.01 --max-missing 0.1 -q
  mpirun -n "$RANKS" "$GENOFOREST" cv truth.h5 --folds 5 --trees 300 --seed 7 -o truth.cv.json -q > /dev/null
fi
auc() { grep -o '"auc": {"mean": [0-9.]*' "$1" | grep -o '[0-9.]*$'; }
called=$(auc cohort.cv.json)
truth=$(auc truth.cv.json)
awk -v c="$called" -v t="$truth" 'BEGIN { printf "CV AUC %.3f from the called genotypes (reads at 4x) against %.3f from the true genotypes of the same samples\n", c, t }'
echo "report: $OUTDIR/genoforest-report.html" >&2
