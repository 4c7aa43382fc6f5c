#!/usr/bin/env bash
# Same seed, same bytes, whatever the rank count and thread count; another seed, other data.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o a -n 100 --variants 1000 --ld-block 20 --seed 9 -q
gf 2 simulate -o b -n 100 --variants 1000 --ld-block 20 --seed 9 -@ 2 -q
gf 1 simulate -o c -n 100 --variants 1000 --ld-block 20 --seed 10 -q
# (the ## header records each command line; the records must be identical)
[[ "$(zcat a.vcf.gz | grep -v '^##' | md5sum)" == "$(zcat b.vcf.gz | grep -v '^##' | md5sum)" ]] && ok "same seed: identical VCF records" || not_ok "same seed, different VCF"
cmp -s a.pheno.tsv b.pheno.tsv && ok "same seed: identical phenotypes" || not_ok "phenotypes differ"
[[ "$(zcat a.vcf.gz | md5sum)" != "$(zcat c.vcf.gz | md5sum)" ]] && ok "another seed: other genotypes" || not_ok "seed ignored"
[[ $(tail -n +2 a.truth.tsv | wc -l) -eq 10 ]] && ok "truth lists 10 causal variants" || not_ok "truth file"
cut -f2 a.pheno.tsv | tail -n +2 | sort | uniq -c | awk '$2==1{c=$1} END{exit !(c==50)}' && ok "prevalence 0.5 gives 50 cases" || not_ok "case count"
finish
