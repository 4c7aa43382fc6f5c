#!/usr/bin/env bash
# Real data: 1000 Genomes phase 3, 2,504 samples x 17,010 sites (../shared/data/1kg-phase3-hipster).
# The store's dosages of the four causal SNPs must reproduce every sample's published label.
source "$(dirname "$0")/../lib.sh"
src="$SHARED_DATA/1kg-phase3-hipster"
if [[ ! -f "$src/hipster.vcf.bgz" ]]; then
  echo "SKIP: $src/hipster.vcf.bgz not found (the shared data folder sits beside the checkout)"
  exit 77
fi
cp "$src/hipster.vcf.bgz" h.vcf.gz
"$GF_TEST_TOOL" index h.vcf.gz
# phenotype table: label from hipster_labels.txt, population from the 1000 Genomes panel
awk -F'\t' 'NR==FNR {pop[$1]=$3; next} FNR==1 {print "sample_id\tlabel\tpopulation"; next} {split($0,f,","); print f[1] "\t" f[3] "\t" pop[f[1]]}' \
  "$src/integrated_call_samples_v3.20130502.ALL.panel" "$src/hipster_labels.txt" > pheno.tsv
gf 2 features h.vcf.gz -p pheno.tsv -o h2.h5 --region-size 2000000 -q
gf 4 features h.vcf.gz -p pheno.tsv -o h4.h5 --region-size 500000 -q
same_store h2.h5 h4.h5 && ok "-n 2 and -n 4 identical on real data" || not_ok "real data differs across rank counts"
"$GF_TEST_TOOL" check-hipster h2.h5 && ok "labels reproduced from stored dosages" || not_ok "labels not reproduced"
"$GF_TEST_TOOL" compare-vcf h2.h5 h.vcf.gz && ok "every dosage matches the VCF text" || not_ok "dosages differ"
"$GENOFOREST" summary h2.h5 > summary.txt
cat summary.txt
grep -qE "^samples +2504" summary.txt && ok "summary counts 2504 samples" || not_ok "summary samples"
grep -qE "^AFR +661 " summary.txt && ok "summary: AFR has 661 samples" || not_ok "summary populations"
finish
