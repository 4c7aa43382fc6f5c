#!/usr/bin/env bash
# train / cv / predict give the same model, OOB error, importances, predictions and CV report for
# 1, 2 and 4 ranks; and a planted signal is found: causal variants rank at the top.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 400 --variants 1500 --contigs 2 --ld-block 1 --causal 4 --heritability 0.9 --seed 5 -q
gf 2 features c.vcf.gz -p c.pheno.tsv -o c.h5 -q
for n in 1 2 4; do
  # (--seed 4: with per-node feature draws, seed 3 is the one in eleven where the second causal
  # variant ranks 17th; the other ten put both first)
  gf $n train c.h5 -o m$n.gfm --trees 200 --seed 4 2>train$n.log
  gf $n cv c.h5 --trees 30 -k 3 --seed 3 -o cv$n.json --predictions cvp$n.tsv -q >cv$n.txt
  gf $n predict -m m$n.gfm c.h5 -o p$n.tsv -q
done
for n in 2 4; do
  cmp -s m1.gfm.importance.tsv m$n.gfm.importance.tsv && ok "importances identical, -n 1 and -n $n" || not_ok "importances differ (-n $n)"
  cmp -s p1.tsv p$n.tsv && ok "predictions identical, -n 1 and -n $n" || not_ok "predictions differ (-n $n)"
  cmp -s cv1.json cv$n.json && cmp -s cv1.txt cv$n.txt && cmp -s cvp1.tsv cvp$n.tsv && ok "CV report and out-of-fold predictions identical, -n 1 and -n $n" || not_ok "CV reports differ (-n $n)"
  [[ "$(grep -o 'OOB error.*' train1.log)" == "$(grep -o 'OOB error.*' train$n.log)" ]] && ok "OOB error identical (-n $n)" || not_ok "OOB error differs (-n $n)"
done
# Out-of-fold predictions: one row per labelled sample, its true label from the phenotype table,
# and as many right as the report's confusion matrix has on its diagonal.
labelled=$(awk -F'\t' 'NR > 1 && $2 != "" && $2 != "NA"' c.pheno.tsv | wc -l)
[[ $(tail -n +2 cvp1.tsv | wc -l) -eq $labelled ]] && head -1 cvp1.tsv | grep -q $'^sample_id\trepeat\tfold\ttruth\tpredicted\tprob_0\tprob_1$' &&
  ok "--predictions: one row per labelled sample" || { not_ok "--predictions rows"; head -3 cvp1.tsv; }
join -t $'\t' <(tail -n +2 c.pheno.tsv | cut -f1,2 | sort) <(tail -n +2 cvp1.tsv | cut -f1,4 | sort) | awk -F'\t' '$2 != $3 {bad=1} END {exit bad}' &&
  ok "--predictions: truth column = the phenotype table's labels" || not_ok "--predictions truth column"
right=$(awk -F'\t' 'NR > 1 && $4 == $5' cvp1.tsv | wc -l)
diag=$(awk '/^confusion matrix/ {on=1; getline; r=0; next} on && NF >= 3 {r++; d += $(r + 1)} END {print d}' cv1.txt)
[[ $right -eq $diag ]] && ok "--predictions: $right right, the confusion matrix's diagonal" || { not_ok "--predictions: $right right, diagonal $diag"; cat cv1.txt; }
# The model itself: the same trees (the file differs only by its creation time).
"$GF_TEST_TOOL" same-model m1.gfm m4.gfm && ok "models have identical trees" || not_ok "models differ"
# predicting from the VCF gives what predicting from the store gives
gf 1 predict -m m1.gfm c.vcf.gz -o pv.tsv -q
cmp -s p1.tsv pv.tsv && ok "VCF and store inputs predict the same" || not_ok "VCF and store predictions differ"
# learning: the top variants are causal ones
causal=$(awk 'NR>1 {print $1":"$2":"$4":"$5}' c.truth.tsv | sort)
top=$(awk 'NR>1 && NR<=3 {print $1":"$2":"$4":"$5}' m1.gfm.importance.tsv | sort)
hits=$(comm -12 <(echo "$causal") <(echo "$top") | wc -l)
[[ $hits -eq 2 ]] && ok "the 2 most important variants are causal" || { not_ok "top variants not causal ($hits of 2)"; head -5 m1.gfm.importance.tsv; cat c.truth.tsv; }
acc=$(awk '$1=="mean" {print $2}' cv1.txt)
awk -v a="$acc" 'BEGIN {exit !(a > 0.6)}' && ok "CV accuracy $acc > 0.6 (chance 0.5)" || not_ok "CV accuracy $acc too low"
ls ./*.tmp.* >/dev/null 2>&1 && not_ok "temporary files left" || ok "no temporary file left"
finish
