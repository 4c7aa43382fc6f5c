#!/usr/bin/env bash
# train / cv / predict give the same model, OOB error, importances, predictions and CV report for
# 1, 2 and 4 ranks; and a planted signal is found: causal variants rank at the top.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 400 -m 1500 --contigs 2 --ld-block 1 --causal 4 --heritability 0.9 --seed 5 -q
gf 2 features c.vcf.gz -p c.pheno.tsv -o c.h5 -q
for n in 1 2 4; do
  # (--seed 4: with per-node feature draws, seed 3 is the one in eleven where the second causal
  # variant ranks 17th; the other ten put both first)
  gf $n train c.h5 -o m$n.gfm --trees 200 --seed 4 2>train$n.log
  gf $n cv c.h5 --trees 30 -k 3 --seed 3 -o cv$n.json -q >cv$n.txt
  gf $n predict -m m$n.gfm c.h5 -o p$n.tsv -q
done
for n in 2 4; do
  cmp -s m1.gfm.importance.tsv m$n.gfm.importance.tsv && ok "importances identical, -n 1 and -n $n" || not_ok "importances differ (-n $n)"
  cmp -s p1.tsv p$n.tsv && ok "predictions identical, -n 1 and -n $n" || not_ok "predictions differ (-n $n)"
  cmp -s cv1.json cv$n.json && cmp -s cv1.txt cv$n.txt && ok "CV report identical, -n 1 and -n $n" || not_ok "CV reports differ (-n $n)"
  [[ "$(grep -o 'OOB error.*' train1.log)" == "$(grep -o 'OOB error.*' train$n.log)" ]] && ok "OOB error identical (-n $n)" || not_ok "OOB error differs (-n $n)"
done
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
