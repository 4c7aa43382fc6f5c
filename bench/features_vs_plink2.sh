#!/usr/bin/env bash
# Benchmark: VCF -> feature store, genoforest (1 and 2 ranks) against plink2 --make-pgen and
# bcftools query on the same file, in one run. Prints wall time, CPU time, peak RSS and ratios
# (ours / theirs), medians of REPS runs. Not a test: run it by hand.
#   bench/features_vs_plink2.sh [SAMPLES] [VARIANTS]     (default 2000 x 100000, REPS=3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-2000}; M=${2:-100000}; REPS=${REPS:-3}
"$root/scripts/install-deps.sh" --bench >/dev/null
"$root/scripts/build.sh" >/dev/null
G="$root/build/genoforest"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=PASSIVE
W=${BENCH_DIR:-$(mktemp -d /tmp/gf-bench.XXXXXX)}
cd "$W"
[[ -f c.vcf.gz ]] || "$G" simulate -o c -n "$N" --variants "$M" --contigs 2 --ld-block 50 -@ 2 -q
echo "data: $W/c.vcf.gz, $N samples x $M sites, $(du -h c.vcf.gz | cut -f1)"

# measure NAME CMD...: appends "wall cpu rss_kb" of one run to NAME.times
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o t.txt "$@" >/dev/null 2>&1
  awk '{printf "%s %.2f %d\n", $1, $2 + $3, $4}' t.txt >> "$name.times"
}
rm -f ./*.times
for r in $(seq "$REPS"); do
  measure gf1 mpirun -n 1 "$G" features c.vcf.gz -o g1.h5 -q
  measure gf2 mpirun -n 2 "$G" features c.vcf.gz -o g2.h5 -q
  measure plink2_t1 plink2 --vcf c.vcf.gz --make-pgen --out p1 --threads 1 --memory 8000
  measure plink2_t2 plink2 --vcf c.vcf.gz --make-pgen --out p2 --threads 2 --memory 8000
  measure bcftools_query bash -c "bcftools query -f '[%GT\t]\n' c.vcf.gz > q.txt"
done
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$2" '{print $c}' "$1.times" | median; }
printf "\n%-16s %9s %9s %10s\n" tool wall_s cpu_s peak_MiB
for t in gf1 gf2 plink2_t1 plink2_t2 bcftools_query; do
  printf "%-16s %9.2f %9.2f %10.0f\n" "$t" "$(col $t 1)" "$(col $t 2)" "$(echo "$(col $t 3) / 1024" | bc -l)"
done
ratio() { echo "scale=2; $(col "$1" 1) / $(col "$2" 1)" | bc -l; }
echo
echo "ratios (wall, ours / theirs, median of $REPS):"
echo "  genoforest -n 1 / plink2 --threads 1 : $(ratio gf1 plink2_t1)"
echo "  genoforest -n 2 / plink2 --threads 2 : $(ratio gf2 plink2_t2)"
echo "  genoforest -n 1 / bcftools query     : $(ratio gf1 bcftools_query)"
echo "  genoforest -n 2 / genoforest -n 1    : $(ratio gf2 gf1)"
