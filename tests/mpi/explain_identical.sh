#!/usr/bin/env bash
# genoforest explain: TreeSHAP values of boosted trees and of a forest are the same file for 1, 2
# and 3 ranks; with the expected value they add up to predict's probabilities (local accuracy);
# on a label made of an interaction of two variants (a case when exactly one is carried), those
# two lead the mean |SHAP| and make the strongest interaction; refusals.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o s -n 400 --variants 800 --seed 21 -q
# Two common sites (alternate allele frequency 0.3-0.7 in the VCF's calls), far apart.
bcftools query -f '%CHROM:%POS\t[%GT\t]\n' s.vcf.gz | awk -F'\t' '{c = 0; n = 0; for (i = 2; i < NF; i++) { if ($i ~ /\./) continue; split($i, a, /[\/|]/); c += a[1] + a[2]; n += 2 } if (n && c / n > 0.3 && c / n < 0.7 && $0 !~ /,/) print $1}' > common.txt
a=$(sed -n 2p common.txt); b=$(sed -n "$(( $(wc -l < common.txt) * 2 / 3 ))p" common.txt)
[[ -n "$a" && -n "$b" ]] || { not_ok "no common sites ($(wc -l < common.txt))"; finish; }
bcftools query -l s.vcf.gz > ids.txt
bcftools query -r "${a%:*}:${a#*:}-${a#*:}" -f '[%GT\n]' s.vcf.gz > ga.txt
bcftools query -r "${b%:*}:${b#*:}-${b#*:}" -f '[%GT\n]' s.vcf.gz > gb.txt
paste ids.txt ga.txt gb.txt | awk 'BEGIN {FS = OFS = "\t"; print "sample_id", "label"} {ca = ($2 ~ /1/); cb = ($3 ~ /1/); print $1, (ca != cb) ? 1 : 0}' > xor.tsv
gf 2 features s.vcf.gz -p xor.tsv -o s.h5 -q
gf 2 train s.h5 --model gbt --rounds 40 --max-depth 3 --seed 2 -o g.gfm -q
gf 2 train s.h5 --trees 60 --seed 2 -o f.gfm -q
for n in 1 2 3; do
  gf $n explain -m g.gfm s.h5 -o g$n.h5 --interactions 5 -q
  gf $n explain -m f.gfm s.h5 -o f$n.h5 --interactions 3 -q
done
same=1
for n in 2 3; do
  for m in g f; do
    "$H5DIFF" $m"1".h5 $m$n.h5 > /dev/null && cmp -s $m"1".h5.importance.tsv $m$n.h5.importance.tsv && cmp -s $m"1".h5.interactions.tsv $m$n.h5.interactions.tsv || same=0
  done
done
[[ $same -eq 1 ]] && ok "SHAP values, importances and interactions identical at 1, 2 and 3 ranks (boosted trees and forest)" || not_ok "explain differs by rank count"
gf 1 predict -m g.gfm s.h5 -o pg.tsv -q
gf 1 predict -m f.gfm s.h5 -o pf.tsv -q
"$GF_TEST_TOOL" check-shap g1.h5 pg.tsv && ok "boosted trees: expected value + SHAP values = the predicted margin (local accuracy)" || not_ok "gbt local accuracy"
"$GF_TEST_TOOL" check-shap f1.h5 pf.tsv && ok "forest: expected value + SHAP values = the predicted probabilities" || not_ok "forest local accuracy"
top2=$(awk -F'\t' 'NR > 1 && NR <= 3 {print $1 ":" $2}' g1.h5.importance.tsv | sort | tr '\n' ' ')
want=$(printf '%s\n%s\n' "$a" "$b" | sort | tr '\n' ' ')
[[ "$top2" == "$want" ]] && ok "the two interacting variants lead the mean |SHAP| ($top2)" || not_ok "top mean |SHAP| $top2, planted $want"
pair=$(awk -F'\t' 'NR == 2 {split($1, x, ":"); split($2, y, ":"); print x[1] ":" x[2] "\n" y[1] ":" y[2]}' g1.h5.interactions.tsv | sort | tr '\n' ' ')
[[ "$pair" == "$want" ]] && ok "and make the strongest SHAP interaction" || { head -3 g1.h5.interactions.tsv; not_ok "strongest interaction $pair"; }
# Refusals.
gf 1 train s.h5 --model svm -o v.gfm -q
fails_once 2 "explain needs trees; v.gfm is a linear SVM" explain -m v.gfm s.h5 -o v.h5 && ok "an SVM model is refused" || { cat stderr.txt; not_ok "svm refused"; }
fails_once 2 "-o/--output must end in .h5" explain -m g.gfm s.h5 -o v.tsv && ok "an output that is not .h5 is refused" || { cat stderr.txt; not_ok "output name"; }
echo nobody > none.txt
fails_once 5 "no sample to explain" explain -m g.gfm s.h5 -o v.h5 --keep none.txt && ok "--keep leaving nothing is refused" || { cat stderr.txt; not_ok "keep none"; }
[[ ! -e v.h5 ]] && ok "no output from a refused run" || not_ok "v.h5 written"
finish
