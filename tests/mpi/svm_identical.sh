#!/usr/bin/env bash
# train / cv / predict --model svm: identical model and CV report for 1, 2 and 4 ranks; it learns
# a planted phenotype; a quantitative label is refused with one clear error.
source "$(dirname "$0")/../lib.sh"
gf 2 simulate -o c -n 600 --variants 2000 --causal 4 --heritability 0.9 --populations 3 --seed 11 -q
gf 2 features c.vcf.gz -p c.pheno.tsv -o c.h5 -q
for n in 1 2 4; do
  gf $n train c.h5 --model svm --C 0.01 -o m$n.gfm -q
  gf $n cv c.h5 --model svm --C 0.01 -k 4 -o cv$n.json --assignments folds$n.tsv -q > table$n.txt
done
for n in 2 4; do
  "$GF_TEST_TOOL" same-model m1.gfm m$n.gfm && ok "svm model: $n ranks identical to 1" || not_ok "svm model differs with $n ranks"
  cmp -s table1.txt table$n.txt && cmp -s folds1.tsv folds$n.tsv && ok "svm cv: $n ranks identical to 1" || not_ok "svm cv differs with $n ranks"
done
acc=$(awk '$1 == "mean" {print $2}' table1.txt)
awk -v a="$acc" 'BEGIN {exit !(a >= 0.6)}' && ok "svm learns the planted phenotype (CV accuracy $acc)" || not_ok "svm CV accuracy $acc < 0.6"
gf 1 predict -m m1.gfm c.vcf.gz -o pred.tsv -q
[[ $(wc -l < pred.tsv) -eq 601 && $(head -1 pred.tsv) == $'sample_id\tpredicted\tprob_0\tprob_1' ]] && ok "svm predicts from a VCF" || not_ok "svm predictions"
# Population as the label: three classes, one-vs-rest.
awk 'BEGIN{OFS="\t"} NR == 1 {print "sample_id", "label", "population"; next} {print $1, $3, $3}' c.pheno.tsv > pop.tsv
gf 2 features c.vcf.gz -p pop.tsv -o pop.h5 -q
gf 2 cv pop.h5 --model svm --C 0.01 -k 3 -q > pop.txt
acc=$(awk '$1 == "mean" {print $2}' pop.txt)
awk -v a="$acc" 'BEGIN {exit !(a >= 0.95)}' && ok "svm one-vs-rest separates 3 populations (accuracy $acc)" || not_ok "3-class svm accuracy $acc"
awk 'BEGIN{OFS="\t"} NR == 1 {print; next} {print $1, NR * 0.5, $3}' c.pheno.tsv > q.tsv
gf 1 features c.vcf.gz -p q.tsv --label-type quantitative -o q.h5 -q
set +e; gf 2 train q.h5 --model svm -o x.gfm > out.txt 2> err.txt; rc=$?; set -e
[[ $rc -eq 2 && $(grep -c error err.txt) -eq 1 ]] && grep -q "needs class labels" err.txt && ok "quantitative label refused: $(grep error err.txt)" \
  || { not_ok "quantitative label: exit $rc"; cat err.txt; }
finish
