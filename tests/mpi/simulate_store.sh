#!/usr/bin/env bash
# simulate -O h: the store that 'features' makes of the simulated VCF and its phenotypes, drawn and
# written by any number of ranks, with no VCF on the way.
source "$(dirname "$0")/../lib.sh"
args=(-n 150 -m 3000 --contigs 2 --ld-block 10 --multiallelic-rate 0.1 --indel-rate 0.1 --lowqual-rate 0.05 --seed 4 -q)
gf 1 simulate "${args[@]}" -o v
gf 1 features v.vcf.gz -p v.pheno.tsv -o v.h5 -q
for n in 1 2 3 4; do
  gf $n simulate "${args[@]}" -O h -o h$n
  same_store v.h5 h$n.h5 >diff.txt && ok "$n rank(s): the store of simulate + features" || { cat diff.txt; not_ok "$n rank(s): another store"; }
  cmp -s v.pheno.tsv h$n.pheno.tsv && cmp -s v.truth.tsv h$n.truth.tsv && ok "$n rank(s): the same phenotype and truth tables" ||
    not_ok "$n rank(s): other tables"
done
[[ ! -e h1.vcf.gz && ! -e h1.vcf.gz.tbi ]] && ok "no VCF written" || not_ok "a VCF was written"
ls -a | grep -q '\.tmp' && not_ok "temporaries left: $(ls -a | grep tmp)" || ok "no temporaries left"

# A quantitative trait: its labels are the liabilities of the phenotype table.
gf 1 simulate -n 80 --variants 500 --trait quantitative --seed 2 -o q -q
gf 1 features q.vcf.gz -p q.pheno.tsv -o q.h5 -q
gf 2 simulate -n 80 --variants 500 --trait quantitative --seed 2 -O h -o qh -q
same_store q.h5 qh.h5 >/dev/null && ok "quantitative trait: the same store" || not_ok "quantitative trait: another store"

# The store trains as the one from the VCF does.
gf 2 train h2.h5 -o h2.gfm --trees 20 --seed 3 -q
gf 2 train v.h5 -o v.gfm --trees 20 --seed 3 -q
"$GF_TEST_TOOL" same-model h2.gfm v.gfm && cmp -s h2.gfm.importance.tsv v.gfm.importance.tsv && ok "trains to the same model" ||
  not_ok "another model"

# model dump: the forest as JSON, one "nodes" list per tree, features with their variant keys.
gf 1 model dump h2.gfm -o h2.json -q
[[ $(grep -c '"nodes"' h2.json) -eq 20 ]] && grep -q '"format": "genoforest.model.json"' h2.json &&
  grep -q '"type": "variant", "chrom": "chr1", "pos": ' h2.json && ok "model dump: 20 trees as JSON" || not_ok "model dump"

# Refusals: one line, exit 2, nothing written.
fails_once 2 "--reads needs the cohort as a VCF" simulate -O h --reads -n 10 --variants 50 -o r && [[ ! -e r.h5 ]] &&
  ok "--reads with -O h refused" || { cat stderr.txt; not_ok "--reads with -O h"; }
fails_once 2 "-O/--output-type must be z, b or h" simulate -O x -n 10 --variants 50 -o r && ok "-O x refused" || { cat stderr.txt; not_ok "-O x"; }
mkdir d.h5
fails_once 2 ".*d.h5" simulate -O h -n 10 --variants 50 -o d && [[ ! -e d.pheno.tsv ]] && ok "a folder in the store's place refused before anything is written" ||
  { cat stderr.txt; not_ok "folder as output"; }
finish
