#!/usr/bin/env bash
# Benchmark: joint variant calling, genoforest call against `bcftools mpileup | bcftools call -mv`
# (Debian's bcftools, default options) on the same BAMs, in one run:
#   (a) a simulated cohort: SAMPLES samples (default 8) on GRCh38 chr20:5,000,001-(5,000,000 +
#       SIM_MB Mb) (default 5) from ../shared/data/giab-chr20, reads simulated at each coverage of
#       COVERAGES (default "30 8") and aligned with genoforest align; truth = the planted genotypes;
#   (b) the real NA12878 reads of ../shared/data/giab-chr20 (its BAM, hg19) against the GIAB truth,
#       in chr20:10,000,001-10,100,000 without a BED (precision there is a lower bound: the truth
#       is only complete in its confident regions) and in the confident BED.
# Accuracy: genotype-aware precision, recall and F1 for SNPs and indels (bench/vcf_eval.py, after
# bcftools norm -m -any + atomisation of both sets; FILTER PASS or '.'). Speed: CPU seconds per
# sample-Mb and wall time (median of REPS runs), genoforest at 1 and 2 ranks, bcftools single
# threaded (as a pipe of two processes), the ratios ours / theirs, and peak memory.
# Not a test: run it by hand.
#   env: SAMPLES, SIM_MB, COVERAGES, REPS (3), BENCH_DIR (reuse data), GIAB (path of giab-chr20)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SAMPLES=${SAMPLES:-8}; SIM_MB=${SIM_MB:-5}; COVERAGES=${COVERAGES:-"30 8"}; REPS=${REPS:-3}
GIAB=${GIAB-$root/../shared/data/giab-chr20}
if [[ ! -d "$GIAB" ]]; then echo "call_vs_bcftools: $GIAB not found (the shared data sets sit beside the checkout)" >&2; exit 1; fi
GIAB=$(cd "$GIAB" && pwd)
"$root/scripts/install-deps.sh" --bench >/dev/null
"$root/scripts/build.sh" >/dev/null
G="$root/build/genoforest"
EVAL="python3 $root/bench/vcf_eval.py"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
W=${BENCH_DIR:-$(mktemp -d /tmp/gf-call-bench.XXXXXX)}
mkdir -p "$W" && cd "$W"
echo "working in $W"

source "$root/bench/lib.sh"  # measure, median, col

# run_set LABEL REF SAMPLE_MB REGION TRUTH BED BAM...: both callers, timings, accuracy
run_set() {
  local label=$1 ref=$2 smb=$3 region=$4 truth=$5 bed=$6; shift 6
  local bams=("$@")
  local rflag=(); [[ -n "$region" ]] && rflag=(-r "$region")
  rm -f "$label".*.times
  for r in $(seq "$REPS"); do
    measure "$label.gf1" mpirun -n 1 "$G" call -q -f "$ref" -o "$label.gf.vcf.gz" "${rflag[@]}" "${bams[@]}"
    measure "$label.gf2" mpirun -n 2 "$G" call -q -f "$ref" -o "$label.gf2.vcf.gz" "${rflag[@]}" "${bams[@]}"
    measure "$label.bcf" bash -o pipefail -c "bcftools mpileup -f $ref ${rflag[*]} -a AD,DP -Ou ${bams[*]} 2>/dev/null | bcftools call -mv -Oz -o $label.bcftools.vcf.gz"
  done
  bcftools index -ft "$label.bcftools.vcf.gz"
  cmp <(zcat "$label.gf.vcf.gz" | grep -v '^##genoforest_callCommand') <(zcat "$label.gf2.vcf.gz" | grep -v '^##genoforest_callCommand') \
    || { echo "call_vs_bcftools: -n 1 and -n 2 differ" >&2; exit 1; }
  echo
  echo "== $label: ${#bams[@]} sample(s), $smb sample-Mb (median of $REPS)"
  printf "%-14s %8s %8s %14s %9s\n" run wall_s cpu_s cpu_s/sample-Mb peak_MiB
  for k in gf1 gf2 bcf; do
    printf "%-14s %8.2f %8.2f %14.3f %9.0f\n" "$k" "$(col "$label.$k" 1)" "$(col "$label.$k" 2)" \
      "$(echo "$(col "$label.$k" 2) / $smb" | bc -l)" "$(echo "$(col "$label.$k" 3) / 1024" | bc -l)"
  done
  printf "ratio CPU gf1/bcftools %.3f   wall gf2/bcftools %.3f\n" \
    "$(echo "$(col "$label.gf1" 2) / $(col "$label.bcf" 2)" | bc -l)" "$(echo "$(col "$label.gf2" 1) / $(col "$label.bcf" 1)" | bc -l)"
  local bedflag=(); [[ -n "$bed" ]] && bedflag=(--bed "$bed")
  $EVAL --ref "$ref" --truth "$truth" --calls "$label.gf.vcf.gz" "${bedflag[@]}" --label "$label genoforest"
  $EVAL --ref "$ref" --truth "$truth" --calls "$label.bcftools.vcf.gz" "${bedflag[@]}" --label "$label bcftools"
}

# (a) simulated cohorts
if [[ ! -s sim.fa.fai ]]; then
  samtools faidx "$GIAB/grch38.chr20_and_21_10M.fa.gz" "chr20:5000001-$((5000000 + SIM_MB * 1000000))" \
    | sed '1s/.*/>chr20_5M/' > sim.fa
  "$G" index -q sim.fa
fi
for cov in $COVERAGES; do
  p=sim${cov}x
  if [[ ! -e $p.done ]]; then
    mpirun -n 2 "$G" simulate -q -o "$p" --samples "$SAMPLES" --variants $((SIM_MB * 1200)) --reads --reference sim.fa \
      --read-samples "$SAMPLES" --coverage "$cov" --seed 11
    mpirun -n 2 "$G" align -q -S "$p.samples.tsv" -f sim.fa -o "$p.bams"
    touch "$p.done"
  fi
  run_set "$p" sim.fa $((SAMPLES * SIM_MB)) "" "$p.planted.vcf.gz" "" "$p".bams/*.bam
done

# (b) real reads
run_set giab "$GIAB/ucsc.hg19.chr20.unittest.fasta.gz" 0.1 chr20:10000001-10100000 \
  "$GIAB/test_nist.b37_chr20_100kbp_at_10mb.vcf.gz" "" "$GIAB/NA12878_S1.chr20.10_10p1mb.bam"
echo "-- in the confident BED ($GIAB/test_nist.b37_chr20_100kbp_at_10mb.bed):"
$EVAL --ref "$GIAB/ucsc.hg19.chr20.unittest.fasta.gz" --truth "$GIAB/test_nist.b37_chr20_100kbp_at_10mb.vcf.gz" \
  --bed "$GIAB/test_nist.b37_chr20_100kbp_at_10mb.bed" --calls giab.gf.vcf.gz --label "giab-bed genoforest"
$EVAL --ref "$GIAB/ucsc.hg19.chr20.unittest.fasta.gz" --truth "$GIAB/test_nist.b37_chr20_100kbp_at_10mb.vcf.gz" \
  --bed "$GIAB/test_nist.b37_chr20_100kbp_at_10mb.bed" --calls giab.bcftools.vcf.gz --label "giab-bed bcftools"
