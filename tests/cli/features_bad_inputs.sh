#!/usr/bin/env bash
# Every bad input: exit code, one error line naming the file/record and the reason, nothing written,
# and an earlier output left as it was.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 10 --variants 200 --seed 2 -q
zcat c.vcf.gz > plain.vcf

# expect_error NAME CODE PATTERN ARGS...: run features on 2 ranks and check the outcome.
expect_error() {
  local name=$1 code=$2 pattern=$3; shift 3
  echo "earlier" > out.h5
  set +e
  gf 2 features "$@" -o out.h5 >stdout.txt 2>stderr.txt
  local rc=$?
  set -e
  local lines; lines=$(grep -c "error" stderr.txt || true)
  if [[ $rc -eq $code && $lines -eq 1 ]] && grep -qE "^genoforest features: error: (rank [0-9]+, )?(task [0-9]+ \([^)]*\): )?$pattern" stderr.txt \
     && [[ "$(cat out.h5)" == "earlier" ]] && ! ls ./*.tmp.* >/dev/null 2>&1; then
    ok "$name: exit $rc, $(grep error stderr.txt)"
  else
    not_ok "$name: exit $rc (want $code), stderr:"; cat stderr.txt
  fi
}
mkvcf() {  # mkvcf NAME: bgzip + index the VCF text on stdin
  bgzip > "$1.vcf.gz"; "$GF_TEST_TOOL" index "$1.vcf.gz"
}

expect_error "missing VCF" 6 "cannot open nope.vcf.gz: no such file" nope.vcf.gz
cp c.vcf.gz noindex.vcf.gz
expect_error "unindexed VCF" 3 "noindex.vcf.gz: no index found .*bcftools index" noindex.vcf.gz
expect_error "plain VCF" 3 "plain.vcf: plain-text VCF cannot be indexed" plain.vcf
grep -v '^##FORMAT=<ID=GT' plain.vcf | mkvcf nogt
expect_error "no GT field" 3 "nogt.vcf.gz: the header declares no FORMAT/GT field" nogt.vcf.gz
awk 'BEGIN{OFS="\t"} !/^#/ && ++n==120 {NF=NF-3} {print}' plain.vcf | mkvcf short
expect_error "record with missing sample columns" 3 "short.vcf.gz record chr1:[0-9]+: wrong number of columns" short.vcf.gz
awk 'BEGIN{OFS="\t"} !/^#/ && ++n==77 {$2="12x4"} {print}' plain.vcf | bgzip > badpos.vcf.gz
"$GF_TEST_TOOL" index badpos.vcf.gz 2>/dev/null || true
[[ -f badpos.vcf.gz.tbi ]] && expect_error "malformed POS" 3 "badpos.vcf.gz" badpos.vcf.gz || ok "malformed POS: indexing refuses the file"
awk 'BEGIN{OFS="\t"} !/^#/ && ++n==1 {$2="0"} {print}' plain.vcf | mkvcf pos0 2>/dev/null
expect_error "POS 0" 3 "pos0.vcf.gz record chr1:0: POS is 0; VCF positions start at 1" pos0.vcf.gz
awk 'BEGIN{OFS="\t"} !/^#/ && ++n==200 {$1="chrQ"} {print}' plain.vcf | mkvcf undeclared
expect_error "contig absent from the header" 4 "undeclared.vcf.gz: contig 'chrQ' has records but no ##contig line in the header" undeclared.vcf.gz
grep -v '^##contig' plain.vcf | mkvcf nocontigs
gf 2 features nocontigs.vcf.gz -o nocontigs.h5 -q && ok "a header without any ##contig line takes its contigs from the index" \
  || not_ok "a header without ##contig lines refused"
awk 'BEGIN{OFS="\t"} !/^#/ && ++n==10 {$10="0/1/1"} {print}' plain.vcf | mkvcf triploid
expect_error "triploid call" 3 "triploid.vcf.gz record chr1:[0-9]+: sample S000001 has a call of 3 alleles: only haploid and diploid" triploid.vcf.gz
gf 1 simulate -o e -n 12 --variants 300 --seed 3 -q
cp e.vcf.gz stale.vcf.gz; cp c.vcf.gz.tbi stale.vcf.gz.tbi
expect_error "an index from another file" 3 "stale.vcf.gz after record 0: cannot read the next line \(truncated or corrupt file, or an index stale.vcf.gz.tbi that does not match it\)" stale.vcf.gz
touch -d '1 hour ago' stale.vcf.gz.tbi
expect_error "an index older than its file" 3 "stale.vcf.gz after record 0: cannot read the next line \(its index stale.vcf.gz.tbi is older than the file and likely stale: rebuild it with 'bcftools index -f -t stale.vcf.gz'" stale.vcf.gz
head -c $(( $(stat -c %s c.vcf.gz) / 2 )) c.vcf.gz > trunc.vcf.gz; cp c.vcf.gz.tbi trunc.vcf.gz.tbi
expect_error "truncated BGZF" 3 "trunc.vcf.gz: the BGZF end-of-file marker is missing: the file is truncated" trunc.vcf.gz
sed '/^#CHROM/ s/S000003/S000001/' plain.vcf | bgzip > dup.vcf.gz; cp c.vcf.gz.tbi dup.vcf.gz.tbi
expect_error "duplicate sample IDs" 3 "dup.vcf.gz: duplicate sample ID 'S000001' in the #CHROM line \(columns 10 and 12\)" dup.vcf.gz
{ cat c.pheno.tsv; printf 'GHOST1\t1\tPOP1\nGHOST2\t0\tPOP1\n'; } > ghost.tsv
gf 2 features c.vcf.gz -p ghost.tsv -o ghost.h5 2>stderr.txt &&
  grep -qE "warning( \(rank 0\))?: 2 of 12 samples of ghost.tsv are not in c.vcf.gz \(GHOST1, GHOST2\): left out" stderr.txt &&
  ok "phenotype samples absent from the VCF: counted, left out (as plink2)" || { not_ok "absent phenotype samples"; cat stderr.txt; }
printf 'sample_id\tlabel\nGHOST1\t1\nGHOST2\t0\n' > ghosts.tsv
expect_error "no phenotype sample in the VCF" 4 "ghosts.tsv: none of its 2 samples \(GHOST1, GHOST2\) is in c.vcf.gz \(S000001, S000002, S000003, ...\)" c.vcf.gz -p ghosts.tsv
{ cat c.pheno.tsv; printf 'S000001\t1\n'; } > ragged.tsv
expect_error "malformed phenotype TSV" 3 "ragged.tsv line 12: has 2 fields but the header has 3" c.vcf.gz -p ragged.tsv
printf 'id\tlabel\n' > nohead.tsv
expect_error "phenotype TSV without sample_id" 3 "nohead.tsv line 1 \(the header\): no sample ID column: expected sample_id \(or IID, as plink writes it\)" c.vcf.gz -p nohead.tsv
# plink's .pheno (FID IID NAME, blanks, -9 missing) and a many-column table with --pheno-name:
# the labels of the TSV.
awk 'NR == 1 {print "#FID IID case"; next} {print "0 " $1 "  " ($2 == "" ? -9 : $2)}' c.pheno.tsv > c.pheno
awk -F'\t' 'BEGIN {OFS=","} NR == 1 {print "\"\"", "\"sample_id\"", "\"age\"", "\"disease\""; next} {print "\"" NR-1 "\"", "\"" $1 "\"", 40 + NR, $2}' c.pheno.tsv > r.csv
gf 2 features c.vcf.gz -p c.pheno -o plink.h5 -q && gf 2 features c.vcf.gz -p r.csv --pheno-name disease -o r.h5 -q &&
  gf 2 features c.vcf.gz -p c.pheno.tsv -o tsv.h5 -q &&
  "$H5DIFF" tsv.h5 plink.h5 /labels/code /labels/code >/dev/null && "$H5DIFF" tsv.h5 r.h5 /labels/code /labels/code >/dev/null &&
  ok "plink .pheno and an R CSV with --pheno-name give the TSV's labels" || not_ok "plink/R phenotype tables"
expect_error "--pheno-name of no column" 3 "r.csv line 1 \(the header\): no column 'weight' \(--pheno-name\); its columns: age, disease" c.vcf.gz -p r.csv --pheno-name weight
{ cat c.pheno.tsv; tail -1 c.pheno.tsv; } > dupph.tsv
expect_error "duplicate phenotype rows" 3 "dupph.tsv line 12: duplicate sample ID 'S000010' \(first on line 11\)" c.vcf.gz -p dupph.tsv
expect_error "unknown contig in a region" 4 "region chrZ:1-100: contig 'chrZ' is not in c.vcf.gz" c.vcf.gz -r chrZ:1-100
printf 'chr1\tx\t10\n' > bad.bed
expect_error "malformed BED" 3 "bad.bed line 1: start and end must be integers" c.vcf.gz -R bad.bed
# A gVCF (GATK's <NON_REF>, bcftools' <*>): its reference blocks would become dosage columns.
awk 'BEGIN{OFS="\t"} /^##FORMAT/ && !d {print "##ALT=<ID=NON_REF,Description=\"Represents any possible alternative allele\">"; d=1} !/^#/ {$5=$5",<NON_REF>"} {print}' plain.vcf | mkvcf gvcf
expect_error "a gVCF" 3 "gvcf.vcf.gz record chr1:[0-9]+: a gVCF record \(ALT <NON_REF>\): genotype the gVCFs jointly first" gvcf.vcf.gz
expect_error "filters leave nothing" 5 "no variant column left in c.vcf.gz" c.vcf.gz --min-maf 0.5

# unwritable output: a folder that does not exist, and a read-only folder (root ignores modes)
set +e; gf 2 features c.vcf.gz -o no/such/dir/out.h5 2>stderr.txt; rc=$?; set -e
[[ $rc -eq 6 ]] && grep -q "cannot write no/such/dir/out.h5: folder no/such/dir does not exist" stderr.txt \
  && ok "unwritable output: exit 6, $(cat stderr.txt)" || { not_ok "unwritable output (exit $rc)"; cat stderr.txt; }

# VCF samples without phenotype: counted and reported, labels missing
head -6 c.pheno.tsv > some.tsv
gf 2 features c.vcf.gz -p some.tsv -o some.h5 2>stderr.txt
grep -qE "warning( \(rank 0\))?: 5 of 10 samples of c.vcf.gz have no row in some.tsv: their label is missing" stderr.txt \
  && ok "samples without phenotype are counted" || { not_ok "no count of samples without phenotype"; cat stderr.txt; }

# a usage error
set +e; gf 2 features c.vcf.gz -o x.h5 --min-maf 0.7 2>stderr.txt; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "^genoforest features: error: --min-maf must be in \[0, 0.5\]" stderr.txt \
  && ok "bad option value: exit 2" || { not_ok "bad option value (exit $rc)"; cat stderr.txt; }
# Over 65,536 variants the tables are chunked (and checksummed; HDF5 refuses Fletcher32 on the
# variable-length string tables, which once failed 'cannot create dataset chrom').
gf 1 simulate -o wide -n 10 --variants 70000 --seed 1 -q
if gf 2 features wide.vcf.gz -p wide.pheno.tsv -o wide.h5 -q && gf 1 train wide.h5 -o wide.gfm --trees 2 -q &&
   h5dump -p -H wide.h5 | grep -A12 'DATASET "pos"' | grep -q FLETCHER32; then
  ok "a store of 70,699 variants: chunked tables with checksums, read back by train"
else
  not_ok "a store of more than 65,536 variants"
fi
finish
