#!/usr/bin/env bash
# Benchmark: read alignment, genoforest align (QC off, so both tools see the same reads; BWA-MEM
# in-process, then sorting, duplicate marking, BAM compression and indexing) against Debian's
# `bwa mem` (SAM text out, nothing else), in one run, at 1 and 2 cores, on
#   (a) simulated 2x150 reads (PAIRS pairs in all, default 2,000,000, over SAMPLES samples, default
#       1) on a random REF_MB Mb reference with repeats (default 5), and
#   (b) the real NA12878 reads of ../shared/data/giab-chr20 (25,839 pairs, 2x101) on hg19 chr20.
# Prints wall time, CPU time, reads per CPU-second, peak memory, the ratios (ours / theirs, per
# core: >= 0.95 is the goal), 1 -> 2 rank scaling, and the agreement of primary alignments with
# bwa mem -t 1. Medians of REPS runs; each of ours is paired with bwa's run next to it, and the
# per-core ratio is the median of the pairs' ratios. Not a test: run it by hand.
#   env: PAIRS, SAMPLES, REF_MB, REPS (3), BENCH_DIR (reuse data), GIAB (path of giab-chr20; "" skips it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PAIRS=${PAIRS:-2000000}; SAMPLES=${SAMPLES:-1}; REF_MB=${REF_MB:-5}; REPS=${REPS:-3}
GIAB=${GIAB-$root/../shared/data/giab-chr20}
"$root/scripts/install-deps.sh" --bench >/dev/null
"$root/scripts/build.sh" >/dev/null
G="$root/build/genoforest"
T="$root/build/tests/gf_test_tool"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
W=${BENCH_DIR:-$(mktemp -d /tmp/gf-align-bench.XXXXXX)}
mkdir -p "$W" && cd "$W"

source "$root/bench/lib.sh"  # measure, median, col

# bench_set LABEL REF READS SAMPLE R1 R2 [SAMPLE R1 R2 ...]: bwa mem runs the samples one after the other
bench_set() {
  local label=$1 ref=$2 reads=$3; shift 3
  printf "sample_id\tfastq_1\tfastq_2\n" > "$label.tsv"
  local bwa_cmd="" first=""
  while (($#)); do
    printf "%s\t%s\t%s\n" "$1" "$2" "$3" >> "$label.tsv"
    bwa_cmd+="bwa mem -t \$T -K 10000000 -o $label.\$T.$1.sam $ref $2 $3; "
    [[ -z "$first" ]] && first=$1
    shift 3
  done
  rm -f "$label".*.times
  # Each of our runs is paired with bwa's at the same core count, run just before or just after it
  # (alternating, so that a drift of the machine's speed does not favour one side).
  run_gf() { measure "$label.gf$1" mpirun -n "$1" "$G" align -S "$label.tsv" -f "$ref" -o "$label.gf$1" --no-qc -q; }
  run_bwa() { measure "$label.bwa$1" env T="$1" bash -c "$bwa_cmd"; }
  for r in $(seq "$REPS"); do
    for n in 1 2; do
      if ((r % 2)); then run_gf $n; run_bwa $n; else run_bwa $n; run_gf $n; fi
    done
  done
  measure "$label.gfqc" mpirun -n 2 "$G" align -S "$label.tsv" -f "$ref" -o "$label.gfqc" -q
  echo
  echo "== $label: $reads reads in $(($(wc -l < "$label.tsv") - 1)) sample(s), reference $ref (median of $REPS)"
  printf "%-26s %8s %8s %12s %9s\n" run wall_s cpu_s reads/cpu_s peak_MiB
  for k in gf1 gf2 bwa1 bwa2; do
    printf "%-26s %8.2f %8.2f %12.0f %9.0f\n" "$k" "$(col "$label.$k" 1)" "$(col "$label.$k" 2)" \
      "$(echo "$reads / $(col "$label.$k" 2)" | bc -l)" "$(echo "$(col "$label.$k" 3) / 1024" | bc -l)"
  done
  printf "%-26s %8.2f %8.2f %12s %9.0f\n" "gf2 with QC (default)" "$(col "$label.gfqc" 1)" "$(col "$label.gfqc" 2)" - \
    "$(echo "$(col "$label.gfqc" 3) / 1024" | bc -l)"
  echo "throughput per core, ours / bwa mem (>= 0.95 is the goal): median of the paired runs' ratios [each pair's]; ratio of the medians"
  for n in 1 2; do
    local pairs
    pairs=$(paste -d' ' "$label.bwa$n.times" "$label.gf$n.times" | awk '{printf "%.3f\n", $2 / $5}')
    echo "  $n core(s): $(echo "$pairs" | median) [$(echo $pairs | tr ' ' ',')]; $(echo "scale=3; $(col "$label.bwa$n" 2) / $(col "$label.gf$n" 2)" | bc -l)"
  done
  echo "wall time, ours / bwa mem: 1 core $(echo "scale=3; $(col "$label.gf1" 1) / $(col "$label.bwa1" 1)" | bc -l)," \
       "2 cores $(echo "scale=3; $(col "$label.gf2" 1) / $(col "$label.bwa2" 1)" | bc -l)"
  echo "scaling 1 -> 2 ranks (wall): $(echo "scale=3; $(col "$label.gf1" 1) / $(col "$label.gf2" 1)" | bc -l)x"
  echo -n "agreement with bwa mem -t 1: "
  "$T" compare-primary "$label.gf1/$first.bam" "$label.1.$first.sam" 0
}

# (a) simulated
if [[ ! -f sim.ready ]]; then
  cov=$(echo "scale=4; $PAIRS * 300 / ($REF_MB * 1000000) / $SAMPLES" | bc -l)
  mpirun -n 2 "$G" simulate -o sim -n "$SAMPLES" --variants $((REF_MB * 1000)) --spacing 1000 --reads --coverage "$cov" -q
  "$G" index sim.ref.fa -q
  touch sim.ready
fi
args=(); sim_reads=0
while IFS=$'\t' read -r id f1 f2 _; do
  [[ $id == sample_id ]] && continue
  args+=("$id" "$f1" "$f2")
  sim_reads=$((sim_reads + $(zcat "$f1" | wc -l) / 2))
done < sim.samples.tsv
bench_set sim sim.ref.fa "$sim_reads" "${args[@]}"

# (b) real reads
if [[ -n "$GIAB" && -d "$GIAB" ]]; then
  if [[ ! -f hg19.ready ]]; then
    zcat "$GIAB/ucsc.hg19.chr20.unittest.fasta.gz" > hg19.chr20.fa
    "$G" index hg19.chr20.fa -q
    touch hg19.ready
  fi
  giab_reads=$(( $(zcat "$GIAB/NA12878_S1.chr20.10_10p1mb.R1.fastq.gz" | wc -l) / 2 ))
  bench_set giab hg19.chr20.fa "$giab_reads" NA12878 "$GIAB/NA12878_S1.chr20.10_10p1mb.R1.fastq.gz" "$GIAB/NA12878_S1.chr20.10_10p1mb.R2.fastq.gz"
else
  echo "(real reads skipped: $GIAB not found)"
fi
