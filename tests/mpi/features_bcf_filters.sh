#!/usr/bin/env bash
# BCF input gives the same store as VCF input; the filters remove what they say.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o v -n 80 --variants 2000 --multiallelic-rate 0.05 --indel-rate 0.1 --lowqual-rate 0.05 --seed 5 -q
gf 1 simulate -o b -O b -n 80 --variants 2000 --multiallelic-rate 0.05 --indel-rate 0.1 --lowqual-rate 0.05 --seed 5 -q
gf 2 features v.vcf.gz -o v.h5 -q
gf 2 features b.bcf -o b.h5 -q
same_store v.h5 b.h5 && ok "BCF and VCF inputs give the same store" || not_ok "BCF and VCF stores differ"
gf 2 features v.vcf.gz -o f.h5 --snps-only --biallelic-only --pass-only --min-maf 0.05 --max-missing 0.02 2>log.txt
cat log.txt
grep -q "removed" log.txt && ok "filter counts reported" || not_ok "no filter counts in the log"
h5dump -d /variants/type f.h5 > type.txt; grep -qE '\b(1|2)\b.*,|, (1|2)\b' type.txt && not_ok "non-SNV columns kept" || ok "only SNVs kept"
h5dump -d /variants/n_alleles f.h5 > nall.txt; grep -qE '\b3\b' nall.txt && not_ok "multi-allelic kept" || ok "only biallelic kept"
h5dump -d /variants/filter f.h5 > filter.txt; grep -q LowQual filter.txt && not_ok "LowQual kept" || ok "only PASS kept"
finish
