#!/usr/bin/env bash
# --model gbt: train, cv and predict give the same model, importances, CV report and predictions
# for 1, 2, 3 and 4 ranks (two classes with row and column subsampling and early stopping; three
# classes; a quantitative label; the per-sample statistics); the planted variants lead the
# importances; predict reads a store or the VCF alike; refusals.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o s -n 300 --variants 1500 --populations 3 --causal 3 --heritability 0.9 --seed 8 -q
gf 2 features s.vcf.gz -p s.pheno.tsv -o s.h5 -q
G=(--model gbt --rounds 40 --eta 0.2 --max-depth 4 --subsample 0.8 --colsample 0.5 --early-stopping 5 --class-weight balanced --seed 3)
for n in 1 2 3 4; do
  gf $n train s.h5 "${G[@]}" -o m$n.gfm -q
  gf $n cv s.h5 "${G[@]}" -k 4 -o cv$n.json --predictions p$n.tsv -q > cv$n.txt
done
same=1
for n in 2 3 4; do
  "$GF_TEST_TOOL" same-model m1.gfm m$n.gfm > /dev/null && cmp -s m1.gfm.importance.tsv m$n.gfm.importance.tsv &&
    cmp -s cv1.json cv$n.json && cmp -s p1.tsv p$n.tsv || same=0
done
[[ $same -eq 1 ]] && ok "two classes: model, importances, CV report and predictions identical at 1-4 ranks" || not_ok "gbt differs by rank count"
"$GENOFOREST" model dump m1.gfm -o m1.json -q
grep -q '"kind": "gbt"' m1.json && grep -q '"objective": "binary:logistic"' m1.json && ok "model dump names the objective" || not_ok "model dump"
tail -n +2 s.truth.tsv | cut -f1,2 | sort > causal.txt
awk -F'\t' -v OFS='\t' 'NR > 1 && NR <= 4 {print $1, $2}' m1.gfm.importance.tsv | sort > top.txt
[[ $(comm -12 causal.txt top.txt | wc -l) -ge 2 ]] && ok "the planted variants lead the importances ($(comm -12 causal.txt top.txt | wc -l) of 3 in the top 3)" \
  || { cat causal.txt top.txt; not_ok "importances"; }
auc=$(grep -o '"auc": {"mean": [0-9.]*' cv1.json | grep -o '[0-9.]*$')
awk -v a="$auc" 'BEGIN { exit !(a >= 0.75) }' && ok "CV AUC $auc" || not_ok "CV AUC $auc"

# predict: from the store and from the VCF, 1 and 2 ranks.
gf 1 predict -m m1.gfm s.h5 -o pr1.tsv -q
gf 2 predict -m m1.gfm s.vcf.gz -o pr2.tsv -q
cmp -s pr1.tsv pr2.tsv && [[ $(wc -l < pr1.tsv) -eq 301 ]] && ok "predict: the store and the VCF give the same lines" || not_ok "predict differs"

# Three classes (the population as the label) and the per-sample statistics.
awk 'BEGIN {FS = OFS = "\t"} NR == 1 {print "sample_id", "label"; next} {print $1, $3}' s.pheno.tsv > pop.tsv
gf 2 features s.vcf.gz -p pop.tsv -o pop.h5 -q
for n in 1 3; do
  gf $n train pop.h5 --model gbt --rounds 15 --with-sample-stats --seed 4 -o q$n.gfm -q
  gf $n cv pop.h5 --model gbt --rounds 15 -k 3 --seed 4 -o qcv$n.json -q > /dev/null
done
"$GF_TEST_TOOL" same-model q1.gfm q3.gfm > /dev/null && cmp -s qcv1.json qcv3.json && cmp -s q1.gfm.importance.tsv q3.gfm.importance.tsv \
  && ok "three classes (softmax) with the sample statistics: identical at 1 and 3 ranks" || not_ok "softmax differs"
acc=$(grep -o '"accuracy": {"mean": [0-9.]*' qcv1.json | grep -o '[0-9.]*$')
awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }' && ok "populations told apart (CV accuracy $acc)" || not_ok "population accuracy $acc"

# A quantitative label.
gf 1 simulate -o qt -n 200 --variants 600 --trait quantitative --causal 3 --heritability 0.8 --seed 9 -q
gf 1 features qt.vcf.gz -p qt.pheno.tsv -o qt.h5 -q
for n in 1 2; do gf $n cv qt.h5 --model gbt --rounds 30 --eta 0.1 -k 3 -o rcv$n.json --predictions rp$n.tsv -q > rcv$n.txt; done
cmp -s rcv1.json rcv2.json && cmp -s rp1.tsv rp2.tsv && grep -q '"r2"' rcv1.json && ok "a quantitative label: identical CV at 1 and 2 ranks" || not_ok "regression differs"

# Refusals: one line, a documented code.
fails_once 2 "--model gbt needs the whole matrix on every node" train s.h5 --model gbt --matrix sharded -o x.gfm && ok "sharded matrix refused" || { cat stderr.txt; not_ok "sharded"; }
fails_once 2 "--eta \(the learning rate\) must be in \(0, 1\]" train s.h5 --model gbt --eta 0 -o x.gfm && ok "--eta 0 refused" || { cat stderr.txt; not_ok "eta"; }
fails_once 2 "--subsample must be in \(0, 1\]" cv s.h5 --model gbt --subsample 1.5 && ok "--subsample 1.5 refused" || { cat stderr.txt; not_ok "subsample"; }
gf 1 simulate -o tiny -n 6 --variants 30 --seed 2 -q
gf 1 features tiny.vcf.gz -p tiny.pheno.tsv -o tiny.h5 -q
fails_once 5 "--early-stopping holds out --validation-fraction" train tiny.h5 --model gbt --early-stopping 3 -o x.gfm && ok "nothing to hold out: refused" || { cat stderr.txt; not_ok "hold-out"; }
[[ ! -e x.gfm ]] && ok "no model written by a refused run" || not_ok "x.gfm written"
finish
