#!/usr/bin/env bash
# Benchmark: principal components, genoforest pca (1 and 2 ranks) against plink2 --pca (1 and 2
# threads), in one run, on the same simulated cohort (biallelic variants only, as plink2 --pca
# needs). Prints wall time and peak memory of each, the ratios (ours / theirs), and the
# correlation |r| of each PC with plink2's (>= 0.99 is the check, on the PCs that carry structure:
# K - 1 for K sub-populations; the later ones are noise, with near-equal eigenvalues, and do not
# match between any two methods). Medians of REPS runs. Not a test: run it by hand.
#   bench/pca_vs_plink2.sh [SAMPLES] [VARIANTS]   (default 2000 x 100000, 6 sub-populations)
#   env: PCS (10), REPS (3), BENCH_DIR (reuse data)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-2000}; M=${2:-100000}; PCS=${PCS:-10}; REPS=${REPS:-3}; K=6
"$root/scripts/install-deps.sh" --bench >/dev/null
"$root/scripts/build.sh" >/dev/null
G="$root/build/genoforest"
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
W=${BENCH_DIR:-$(mktemp -d /tmp/gf-pca-bench.XXXXXX)}
mkdir -p "$W" && cd "$W"
if [[ ! -f c.h5 ]]; then
  "$G" simulate -o c -n "$N" --variants "$M" --populations $K --fst 0.02 --ld-block 10 -@ 2 -q
  mpirun -n 2 "$G" features c.vcf.gz -p c.pheno.tsv -o c.h5 --biallelic-only -q
  plink2 --vcf c.vcf.gz --max-alleles 2 --make-pgen --out c --silent
fi
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o t.txt "$@" > /dev/null 2>&1
  cat t.txt >> "$name.times"
}
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$2" '{print $c}' "$1.times" | median; }
rm -f ./*.times
for r in $(seq "$REPS"); do
  measure gf1 mpirun -n 1 "$G" pca c.h5 -o gf --pcs "$PCS"
  measure gf2 mpirun -n 2 "$G" pca c.h5 -o gf2 --pcs "$PCS"
  measure plink1 plink2 --pfile c --pca "$PCS" --threads 1 --out pl1
  measure plink2 plink2 --pfile c --pca "$PCS" --threads 2 --out pl2
done
echo "data: $W, $(head -1 c.pheno.tsv >/dev/null; wc -l < c.pheno.tsv) samples (header included), $PCS PCs, $K sub-populations"
printf "%-10s %8s %9s\n" run wall_s peak_MiB
for k in gf1 gf2 plink1 plink2; do printf "%-10s %8.2f %9.0f\n" $k "$(col $k 1)" "$(echo "$(col $k 2) / 1024" | bc -l)"; done
echo "wall time, ours / plink2: 1 core $(echo "scale=3; $(col gf1 1) / $(col plink1 1)" | bc -l), 2 cores $(echo "scale=3; $(col gf2 1) / $(col plink2 1)" | bc -l)"
echo "scaling 1 -> 2 ranks: $(echo "scale=3; $(col gf1 1) / $(col gf2 1)" | bc -l)x"
"$PY" - "$PCS" $((K - 1)) <<'PY'
import sys, numpy as np
k, s = int(sys.argv[1]), int(sys.argv[2])
a = np.loadtxt("gf.eigenvec", skiprows=1, usecols=range(2, 2 + k))
b = np.loadtxt("pl1.eigenvec", skiprows=1, usecols=range(1, 1 + k))
r = [abs(np.corrcoef(a[:, i], b[:, i])[0, 1]) for i in range(k)]
print("|r| per PC (ours vs plink2): " + " ".join(f"{x:.4f}" for x in r))
print(f"structured PCs 1-{s}: min |r| = {min(r[:s]):.4f} ({'ok' if min(r[:s]) >= 0.99 else 'BELOW 0.99'})")
ea = np.loadtxt("gf.eigenval"); eb = np.loadtxt("pl1.eigenval")
print("eigenvalues ours:   " + " ".join(f"{x:.3f}" for x in ea))
print("eigenvalues plink2: " + " ".join(f"{x:.3f}" for x in eb))
PY
