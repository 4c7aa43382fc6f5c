#!/usr/bin/env bash
# A malformed record deep in the file fails the task of whatever rank gets it: the whole job stops
# once, with one error line naming the file and record, a non-zero exit, and the earlier output intact.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 20 --variants 400 --contigs 2 --seed 3 -q
zcat c.vcf.gz | awk 'BEGIN{OFS="\t"} !/^#/ && ++n==350 {$10="0/7"} {print}' | bgzip > bad.vcf.gz
"$GF_TEST_TOOL" index bad.vcf.gz
echo "earlier result" > out.h5
for n in 1 2 4; do
  set +e
  gf "$n" features bad.vcf.gz -o out.h5 --region-size 20000 >stdout.txt 2>stderr.txt
  rc=$?
  set -e
  [[ $rc -eq 3 ]] && ok "-n $n exits 3 (malformed input)" || not_ok "-n $n exit code $rc"
  errors=$(grep -c "error" stderr.txt || true)
  [[ $errors -eq 1 ]] && ok "-n $n prints one error line" || { cat stderr.txt; not_ok "-n $n printed $errors error lines"; }
  grep -qE "genoforest features: error: .*task [0-9]+ \(region chr[0-9]+:[0-9]+-[0-9]+\): bad.vcf.gz record chr[0-9]+:[0-9]+: sample S000001 has GT allele index 7" stderr.txt \
    && ok "-n $n names rank, task, file, record and reason" || { cat stderr.txt; not_ok "-n $n message"; }
  [[ "$(cat out.h5)" == "earlier result" ]] && ok "-n $n leaves the earlier output intact" || not_ok "-n $n destroyed the earlier output"
  ls ./*.tmp.* >/dev/null 2>&1 && not_ok "-n $n left a temporary" || ok "-n $n left no temporary"
done
finish
