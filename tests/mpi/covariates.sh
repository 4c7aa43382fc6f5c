#!/usr/bin/env bash
# Covariates (plink2's --covar): features stores them (/covariates); train, cv and predict use them
# with --with-covariates, as binned features listed in the importances. The same store and model
# for 1, 2 and 4 ranks and in sharded mode; predict from the store and from the VCF with --covar
# agree; a pca .eigenvec is a covariate file as it is; a covariate that carries the label lifts
# the CV accuracy; refusals name the file and the fix.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 300 --variants 2000 --seed 5 -q
# AGE follows the label (60s for cases, 40s for controls); SEX is noise; 'site' is not a number.
awk 'BEGIN{OFS="\t"; srand(3); print "FID","IID","AGE","SEX","site"}
     NR>1 {print "0", $1, (($2 == "1") ? 60 : 40) + int(rand() * 10), (NR % 7 == 0) ? "NA" : 1 + int(rand() * 2), "A"}' c.pheno.tsv > c.cov
for n in 1 2 4; do gf $n features c.vcf.gz -p c.pheno.tsv --covar c.cov -o s$n.h5 2> f$n.log; done
same_store s1.h5 s2.h5 && same_store s1.h5 s4.h5 && ok "the store with covariates is the same for 1, 2, 4 ranks" || not_ok "stores differ"
grep -q "covariates: left out the columns of c.cov that are not numbers (site)" f2.log && grep -q "2 covariate(s) from c.cov: AGE, SEX" f2.log &&
  ok "numeric columns kept, the others named" || { not_ok "covariate columns"; cat f2.log; }
h5dump -d covariates/names s1.h5 > names.txt; h5dump -A -d covariates/values s1.h5 > values.txt
grep -q '"AGE", "SEX"' names.txt && grep -q 'DATASPACE  SIMPLE { ( 300, 2 )' values.txt &&
  ok "/covariates/values is samples x covariates, /covariates/names their names" || not_ok "covariates schema"

for n in 1 2 4; do gf $n train s1.h5 -o m$n.gfm --trees 60 --with-covariates -q; done
gf 2 train s1.h5 -o msh.gfm --trees 60 --with-covariates --matrix sharded -q
"$GF_TEST_TOOL" same-model m1.gfm m2.gfm > /dev/null && "$GF_TEST_TOOL" same-model m1.gfm m4.gfm > /dev/null &&
  "$GF_TEST_TOOL" same-model m1.gfm msh.gfm > /dev/null && cmp -s m1.gfm.importance.tsv m4.gfm.importance.tsv &&
  cmp -s m1.gfm.importance.tsv msh.gfm.importance.tsv && ok "the model with covariates is the same for 1, 2, 4 ranks and sharded" || not_ok "models differ"
[[ $(sed -n 2p m1.gfm.importance.tsv | cut -f3) == "covariates/AGE" ]] && ok "AGE tops the importances: $(sed -n 2p m1.gfm.importance.tsv)" ||
  { not_ok "AGE not first"; head -3 m1.gfm.importance.tsv; }

gf 2 predict -m m1.gfm s1.h5 -o p_store.tsv -q
gf 1 predict -m m1.gfm c.vcf.gz --covar c.cov -o p_vcf.tsv -q
cmp -s p_store.tsv p_vcf.tsv && ok "predict: the store's covariates and the VCF with --covar give the same predictions" || not_ok "predictions differ"

gf 2 cv s1.h5 --trees 60 --with-covariates -o cv_cov.json -q > /dev/null
gf 2 cv s1.h5 --trees 60 -o cv_plain.json -q > /dev/null
acc() { grep -o '"accuracy": {"mean": [0-9.]*' "$1" | head -1 | awk '{print $NF}'; }
awk -v a="$(acc cv_cov.json)" -v b="$(acc cv_plain.json)" 'BEGIN{exit !(a > b + 0.15)}' &&
  ok "cv: accuracy $(acc cv_cov.json) with the covariate, $(acc cv_plain.json) without" || not_ok "cv accuracy $(acc cv_cov.json) vs $(acc cv_plain.json)"

gf 2 pca s1.h5 -o pc --pcs 3 -q
gf 2 features c.vcf.gz -p c.pheno.tsv --covar pc.eigenvec --covar-name PC1-PC2 -o e.h5 2> e.log
gf 2 train e.h5 -o me.gfm --trees 20 --with-covariates -q
grep -q "2 covariate(s) from pc.eigenvec: PC1, PC2" e.log && grep -q "covariates/PC1" me.gfm.importance.tsv &&
  ok "a pca .eigenvec is a covariate file (--covar-name PC1-PC2)" || { not_ok ".eigenvec as covariates"; cat e.log; }

# One file for phenotypes and covariates (plink users keep both in one table): its label column is
# not a covariate (the model would learn the answer).
paste c.pheno.tsv <(cut -f3 c.cov) > both.tsv
gf 2 features c.vcf.gz -p both.tsv --covar both.tsv -o both.h5 2> both.log
grep -q "covariates: left out the label column label of both.tsv (it is the phenotype)" both.log && grep -q "1 covariate(s) from both.tsv: AGE" both.log &&
  ok "the phenotype table as covariate table: its label left out" || { not_ok "label as covariate"; cat both.log; }

# Refusals.
expect() {  # NAME CODE PATTERN STAGE ARGS...
  local name=$1 code=$2 pattern=$3; shift 3
  fails_once "$code" "$pattern" "$@" && ok "$name: $(grep error stderr.txt)" || { not_ok "$name (exit $rc)"; cat stderr.txt; }
}
gf 1 features c.vcf.gz -p c.pheno.tsv -o plain.h5 -q
expect "--with-covariates on a store without" 5 "plain.h5: the store has no covariates \(--with-covariates\): build it with 'genoforest features --covar FILE'" \
  train plain.h5 -o x.gfm --with-covariates
expect "a VCF without --covar for a model with covariates" 5 "the model uses covariates \(AGE, ...\): give their table with --covar" \
  predict -m m1.gfm c.vcf.gz -o x.tsv
expect "--covar with a store" 2 "--covar is for a VCF/BCF input" predict -m m1.gfm s1.h5 --covar c.cov -o x.tsv
expect "a covariate that is not a column" 3 "c.cov \(the header\): no column 'BMI' \(--covar-name\); its columns: AGE, SEX, site" \
  features c.vcf.gz --covar c.cov --covar-name BMI -o x.h5
expect "a named covariate that is not a number" 3 "c.cov line 2: covariate site is 'A', not a number" \
  features c.vcf.gz --covar c.cov --covar-name site -o x.h5
expect "--covar-name without --covar" 2 "--covar-name needs --covar" features c.vcf.gz --covar-name AGE -o x.h5
expect "the covariate file as the output" 2 "-o/--output c.cov is the same file as --covar" features c.vcf.gz --covar c.cov -o c.cov
finish
