#!/usr/bin/env bash
# pca and cluster: identical outputs for 1, 2 and 4 ranks; the simulated sub-populations are
# recovered (ARI >= 0.9 at Fst 0.1) by k-means and by hierarchical clustering, on PCs and on
# genotypes; bad inputs give one clear error.
source "$(dirname "$0")/../lib.sh"
gf 2 simulate -o c -n 240 --variants 4000 --populations 3 --fst 0.1 --seed 8 -q
gf 2 features c.vcf.gz -p c.pheno.tsv -o c.h5 -q
for n in 1 2 4; do gf $n pca c.h5 -o p$n --pcs 6 -q; done
for n in 2 4; do
  if cmp -s p1.eigenvec p$n.eigenvec && cmp -s p1.eigenval p$n.eigenval; then ok "pca: $n ranks identical to 1"; else not_ok "pca: $n ranks differ"; fi
done
[[ $(head -1 p1.eigenvec) == $'#IID\tpopulation\tPC1\tPC2\tPC3\tPC4\tPC5\tPC6' && $(wc -l < p1.eigenval) -eq 6 ]] && ok "pca outputs" || not_ok "pca outputs"
for n in 1 3; do gf $n cluster c.h5 -k 3 -o g$n -q; done
cmp -s g1.clusters.tsv g3.clusters.tsv && cmp -s g1.cluster.json g3.cluster.json && ok "k-means on genotypes: 3 ranks identical to 1" \
  || not_ok "k-means on genotypes differs with 3 ranks"
for n in 1 2; do gf $n cluster c.h5 -k 3 --method hierarchical -o h$n -q; done
cmp -s h1.clusters.tsv h2.clusters.tsv && ok "hierarchical on genotypes: 2 ranks identical to 1" || not_ok "hierarchical differs"
gf 2 cluster p1.pca.h5 -k 3 --pcs 2 -o kp -q
gf 1 cluster p1.pca.h5 -k 3 --pcs 2 --method hierarchical --linkage average -o hp -q
for f in g1 h1 kp hp; do
  ari=$(awk -F': ' '/ari_population/ {gsub(",", "", $2); print $2}' $f.cluster.json)
  awk -v a="$ari" 'BEGIN {exit !(a >= 0.9)}' && ok "$f: populations recovered (ARI $ari)" || not_ok "$f: ARI $ari < 0.9"
done

expect_error() {
  local name=$1 code=$2 pattern=$3 stage=$4; shift 4
  set +e; gf 2 "$stage" "$@" >stdout.txt 2>stderr.txt; local rc=$?; set -e
  if [[ $rc -eq $code && $(grep -c error stderr.txt) -eq 1 ]] && grep -qE "^genoforest $stage: error: $pattern" stderr.txt; then
    ok "$name: $(grep error stderr.txt)"
  else
    not_ok "$name: exit $rc (want $code):"; cat stderr.txt
  fi
}
expect_error "k larger than the samples" 2 "-k 500 is larger than the number of samples \(240\)" cluster c.h5 -k 500 -o x
expect_error "more PCs than samples" 2 "--pcs 300 must be smaller than the number of samples \(240\)" pca c.h5 --pcs 300 -o x
expect_error "unknown linkage" 2 "--linkage must be average, complete or ward" cluster c.h5 -k 2 --method hierarchical --linkage single -o x
# A constant matrix: every sample homozygous reference.
gf 1 simulate -o z -n 20 --variants 50 --min-af 0.01 --seed 1 -q
zcat z.vcf.gz | awk 'BEGIN{OFS="\t"} /^#/ {print; next} {for (i = 10; i <= NF; i++) $i = "0/0"; print}' | bgzip > zc.vcf.gz
"$GF_TEST_TOOL" index zc.vcf.gz
gf 1 features zc.vcf.gz -o zc.h5 -q
expect_error "constant matrix" 5 "zc.h5: no polymorphic variant" pca zc.h5 -o x
finish
