#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer) into
# build-fuzz/ and runs each for SECONDS (default 60) on a seed corpus made from the test data:
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: vcf phenotype sample_sheet ini fastq model report
# Prints, per target, the executions and the findings; a finding (crash, sanitizer report, an
# exception that is not a clean refusal) is kept as build-fuzz/findings/TARGET/crash-* and makes
# the script exit 1. Reproduce one with: build-fuzz/tests/fuzz/fuzz_TARGET FILE
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(vcf phenotype sample_sheet ini fastq model report)

"$root/scripts/install-deps.sh" --fuzz >/dev/null
"$root/scripts/build.sh" >/dev/null  # the seeds are made by genoforest itself
out="$root/build-fuzz"
if [[ ! -f "$out/CMakeCache.txt" ]]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGENOFOREST_BUILD_TESTS=OFF \
    -DGENOFOREST_FUZZ=ON -DGENOFOREST_SANITIZE=address,undefined >/dev/null
fi
cmake --build "$out" -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

# Seeds: small valid inputs of each format, from a simulated cohort.
seeds="$out/seeds"
if [[ ! -f "$seeds/.done" ]]; then
  rm -rf "$seeds"; mkdir -p "$seeds"/{vcf,phenotype,sample_sheet,ini,fastq,model,report}
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  gf="$root/build/genoforest"
  (cd "$work" && "$gf" simulate -o c -n 6 --variants 30 --spacing 500 --reads --read-samples 1 --coverage 1 --seed 1 -q &&
    "$gf" simulate -o m -n 4 --variants 12 --contigs 2 --seed 2 -q &&
    "$gf" features c.vcf.gz -p c.pheno.tsv -o c.h5 -q && "$gf" train c.h5 -o c.gfm --trees 2 -q &&
    "$gf" cv c.h5 -k 2 --trees 2 -o c.cv.json --predictions c.cv.tsv -q && "$gf" pca c.h5 -o c --pcs 2 -q &&
    printf '[features]\ninput = ../c.vcf.gz\noutput = r.h5\n' > r.ini && "$gf" run --config r.ini --run-dir run -q)
  zcat "$work/c.vcf.gz" > "$seeds/vcf/simulated.vcf"
  zcat "$work/m.vcf.gz" > "$seeds/vcf/two-contigs.vcf"
  printf '##fileformat=VCFv4.2\n##contig=<ID=1,length=1000>\n##FORMAT=<ID=GT,Number=1,Type=String,Description="GT">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC\n1\t10\t.\tA\tC,G\t.\tPASS\t.\tGT\t0|1\t1/2\t./.\n1\t20\t.\tAT\tA\t.\tPASS\t.\tGT\t0\t1\t.\n1\t30\t.\tG\tT\t.\tq10\t.\tGT:DP\t0/1:3\t1/1:.\t0/.:2\n' > "$seeds/vcf/hand-made.vcf"
  cp "$work/c.pheno.tsv" "$seeds/phenotype/"
  printf 'sample_id,label,population\nA,1.5,P1\nB,NA,P2\nC,-3e2,\n' > "$seeds/phenotype/quantitative.csv"
  printf 'FID IID AGE SEX PC1 PC2\n0 A 41 1 0.1 -9\n0 B NA 2 0.2 0.3\n' > "$seeds/phenotype/covariates.cov"
  cp "$work/c.samples.tsv" "$seeds/sample_sheet/"
  printf 'sample_id\tfastq_1\tfastq_2\tlabel\tread_group\tlibrary\tplatform\nS1\ta.fq\tb.fq\tcase\trg1\tlib\tILLUMINA\n' > "$seeds/sample_sheet/full.tsv"
  cp "$root/configs/demo.ini" "$seeds/ini/"
  printf '[features]\noutput = x.h5 ; comment\npass-only = true\n[train]\ntrees = 5\n' > "$seeds/ini/small.ini"
  zcat "$work"/c.S000001_1.fq.gz | head -40 > "$seeds/fastq/reads.fq"
  head -40 "$seeds/fastq/reads.fq" | gzip -c > "$seeds/fastq/reads.fq.gz"
  cp "$work/c.gfm" "$seeds/model/"
  # report: a first byte '1' makes the rest the run report, '0' the content of every file it names.
  { printf 1; cat "$work/run/genoforest-run.json"; } > "$seeds/report/run.json"
  for f in c.cv.json c.cv.tsv c.gfm.importance.tsv c.eigenvec c.eigenval; do { printf 0; cat "$work/$f"; } > "$seeds/report/$f"; done
  { printf 0; zcat "$work/c.vcf.gz"; } > "$seeds/report/calls.vcf"
  touch "$seeds/.done"
fi

status=0
for t in "${targets[@]}"; do
  corpus="$out/corpus/$t" findings="$out/findings/$t"
  mkdir -p "$corpus" "$findings"
  log="$out/fuzz_$t.log"
  set +e
  (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "$out/tests/fuzz/fuzz_$t" "$corpus" "$seeds/$t" -max_total_time="$seconds" \
    -timeout=20 -rss_limit_mb=4096 -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1) >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  crashes=$(find "$findings" -type f | wc -l)
  echo "fuzz_$t: $runs executions in ${seconds} s, corpus $(find "$corpus" -type f | wc -l) inputs, $crashes finding(s)$( ((rc)) && echo " (exit $rc; see $log)")"
  ((rc == 0 && crashes == 0)) || status=1
done
exit $status
