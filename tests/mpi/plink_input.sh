#!/usr/bin/env bash
# PLINK 1 binary filesets (.bed/.bim/.fam) as input to features: plink2's own conversion of a VCF
# gives the store the VCF gives (dosages, positions, IDs, alleles, samples, statistics; plink's
# contig names aside), for 1, 2 and 4 ranks; a .fam's case/control column gives the labels; subsets
# agree with plink2's; a truncated, unsorted or incomplete fileset is refused with its file and line.
source "$(dirname "$0")/../lib.sh"
command -v plink2 > /dev/null || { echo "skip: plink2 is not installed (scripts/install-deps.sh --test)"; exit 77; }
gf 1 simulate -o c -n 150 --variants 1200 --contigs 2 --missing-rate 0.02 --seed 12 -q
plink2 --vcf c.vcf.gz --max-alleles 2 --make-bed --out pl --silent
gf 2 features c.vcf.gz -p c.pheno.tsv --biallelic-only -o vcf.h5 -q
for n in 1 2 4; do gf $n features pl.bed -p c.pheno.tsv -o pl$n.h5 -q; done
gf 2 features pl -p c.pheno.tsv -o prefix.h5 -q   # the prefix, as plink's --bfile
same_store pl1.h5 pl2.h5 && same_store pl1.h5 pl4.h5 && same_store pl1.h5 prefix.h5 && ok "the same store for 1, 2, 4 ranks, from PREFIX.bed or PREFIX" ||
  not_ok "PLINK stores differ across rank counts"
bad=""
for d in genotypes/dosage variants/pos variants/id variants/ref variants/alt variants/af variants/call_rate samples/id labels/code \
  sample_stats/n_het sample_stats/n_missing sample_stats/titv sample_stats/window_mean; do
  "$H5DIFF" pl2.h5 vcf.h5 "$d" > /dev/null || bad+=" $d"
done
[[ -z "$bad" ]] && ok "plink2's .bed of the VCF gives the VCF's store (dosages, variants, samples, labels, statistics)" || not_ok "differ:$bad"
h5dump -d variants/chrom pl2.h5 > chrom.txt && grep -q '"1", "1"' chrom.txt && grep -q '"2", "2"' chrom.txt && ok "contigs named as the .bim names them" || not_ok "contig names"

# The .fam's phenotype (plink2 --pheno writes 1/2) gives case/control labels when no table is given.
awk 'BEGIN{OFS="\t"; print "#FID", "IID", "CASE"} NR > 1 {print "0", $1, $2 + 1}' c.pheno.tsv > cc.pheno
plink2 --bfile pl --pheno cc.pheno --make-bed --out plp --silent
gf 2 features plp.bed -o fam.h5 2> fam.log
"$H5DIFF" fam.h5 vcf.h5 genotypes/dosage > /dev/null && h5dump -d labels/classes fam.h5 > classes.txt && grep -q '"case", "control"' classes.txt &&
  grep -q "labels from the PHENOTYPE column of plp.fam" fam.log && ok ".fam phenotypes 1/2 become the labels control/case" || { not_ok ".fam labels"; cat fam.log; }

# Subsets: features --keep/--extract on the .bed = plink2 --keep/--extract.
awk 'NR > 1 && NR % 2 == 0 {print "0\t" $1}' c.pheno.tsv > keep.txt
zcat c.vcf.gz | grep -v '^#' | awk 'NR % 3 == 0 {print $3}' > ids.txt
plink2 --bfile pl --keep keep.txt --extract ids.txt --make-bed --out sub --silent
gf 2 features sub.bed -o sub_ref.h5 -q
gf 2 features pl.bed --keep keep.txt --extract ids.txt -o sub.h5 -q
"$H5DIFF" sub.h5 sub_ref.h5 genotypes/dosage > /dev/null && "$H5DIFF" sub.h5 sub_ref.h5 variants/id > /dev/null &&
  "$H5DIFF" sub.h5 sub_ref.h5 samples/id > /dev/null && ok "--keep/--extract on a .bed: what plink2 --keep/--extract writes" || not_ok "subsets of a .bed"
gf 2 train pl2.h5 -o m.gfm --trees 20 -q && gf 1 predict -m m.gfm vcf.h5 -o p.tsv -q && ok "a store from a .bed trains; its model predicts the VCF's store" || not_ok "train/predict"

expect() {  # NAME CODE PATTERN STAGE ARGS...
  local name=$1 code=$2 pattern=$3; shift 3
  fails_once "$code" "$pattern" "$@" && ok "$name: $(grep error stderr.txt)" || { not_ok "$name (exit $rc)"; cat stderr.txt; }
}
cp pl.bim t.bim; cp pl.fam t.fam; head -c 2000 pl.bed > t.bed
expect "a truncated .bed" 3 "t.bed: 2000 bytes, but [0-9]+ variants \(.bim\) of 150 samples \(.fam\) take [0-9]+: truncated" features t.bed -o x.h5
cp pl.bed u.bed; cp pl.fam u.fam; awk 'NR == 5 {l = $0; next} {print} NR == 6 {print l}' pl.bim > u.bim
expect "an unsorted .bim" 3 "u.bim line 6: position [0-9]+ after [0-9]+ on 1: the variants must be sorted by position" features u.bed -o x.h5
cp pl.bed v.bed; cp pl.bim v.bim
expect "a missing .fam" 6 "cannot open v.fam \(the PLINK fileset's .fam\)" features v.bed -o x.h5
expect "-r with a .bed" 2 "-r/-R select regions of an indexed VCF/BCF; of pl.bed select variants with --extract FILE.bed" features pl.bed -r 1 -o x.h5
expect "the .bim as the output" 2 "-o/--output pl.bim is the same file as the input pl.bim" features pl.bed -o pl.bim
finish
