#!/usr/bin/env bash
# Sample and variant subsets with plink2's flags: features --keep/--remove/--extract/--exclude give
# the store that bcftools' subset of the VCF gives (filters computed on the kept samples), for 1, 2
# and 4 ranks; train, cv, predict and pca --keep/--remove, and train, cv and pca
# --extract/--exclude, give what the subset store gives.
source "$(dirname "$0")/../lib.sh"
command -v bcftools > /dev/null || { echo "skip: bcftools is not installed (scripts/install-deps.sh --test)"; exit 77; }
gf 1 simulate -o c -n 240 --variants 1500 --seed 8 -q
# plink's keep file: a header, FID IID.
{ echo "#FID IID"; awk 'NR > 1 && NR % 3 != 0 {print "0\t" $1}' c.pheno.tsv; } > keep.txt
awk 'NR > 1 && NR % 5 == 0 {print $1}' c.pheno.tsv > remove.txt
bcftools view -S <(awk 'NR > 1 {print $2}' keep.txt) c.vcf.gz -Oz -o k.vcf.gz && bcftools index -t k.vcf.gz
gf 2 features k.vcf.gz -p c.pheno.tsv --min-maf 0.05 -o k_ref.h5 -q 2> /dev/null
for n in 1 2 4; do gf $n features c.vcf.gz -p c.pheno.tsv --min-maf 0.05 --keep keep.txt -o k$n.h5 2> k$n.log; done
same_store k1.h5 k_ref.h5 && same_store k2.h5 k_ref.h5 && same_store k4.h5 k_ref.h5 &&
  ok "features --keep (FID IID): the store of 'bcftools view -S', MAF on the kept samples, for 1, 2, 4 ranks" || not_ok "--keep store differs"
grep -q -- "--keep keep.txt: 160 of 240 samples kept" k2.log && ok "the log says how many samples were kept" || { not_ok "keep log"; cat k2.log; }

zcat c.vcf.gz | grep -v '^#' | awk 'NR % 4 == 0 {print $3} NR % 7 == 0 {print $1 ":" $2 ":" $4 ":" $5}' > ids.txt
printf 'chr1\t0\t200000\n' > ex.bed
gf 2 features c.vcf.gz -p c.pheno.tsv --remove remove.txt --extract ids.txt --exclude ex.bed -o x.h5 2> x.log
expected=$(zcat c.vcf.gz | grep -v '^#' | awk 'NR % 4 == 0 || NR % 7 == 0 {if ($2 > 200000 || $1 != "chr1") n++} END {print n}')
got=$("$GENOFOREST" summary x.h5 -q | awk '$1 == "variants" {print $2}')
[[ "$got" == "$expected" ]] && grep -q -- "--remove remove.txt: 192 of 240 samples kept" x.log &&
  ok "--remove, --extract (IDs and CHROM:POS:REF:ALT) and --exclude BED: $got variants, as expected" || { not_ok "variant subset: $got, want $expected"; cat x.log; }
awk 'NR % 4 == 0' <(zcat c.vcf.gz | grep -v '^#' | cut -f3) > only_ids.txt
bcftools view -S ^remove.txt c.vcf.gz -Ou | bcftools view -T ^ex.bed -Ou | bcftools view -i 'ID=@only_ids.txt' -Oz -o ref2.vcf.gz
bcftools index -t ref2.vcf.gz
gf 2 features ref2.vcf.gz -p c.pheno.tsv -o x_ids.h5 -q 2> /dev/null
gf 2 features c.vcf.gz -p c.pheno.tsv --remove remove.txt --extract only_ids.txt --exclude ex.bed -o x2.h5 -q 2> /dev/null
same_store x2.h5 x_ids.h5 && ok "ID lists select what 'bcftools view -i ID=@list' does" || not_ok "ID subset differs from bcftools"

# Later stages: --keep on the whole store = the subset store.
gf 2 features c.vcf.gz -p c.pheno.tsv -o all.h5 -q
gf 2 features c.vcf.gz -p c.pheno.tsv --keep keep.txt -o sub.h5 -q 2> /dev/null
gf 2 train all.h5 --keep keep.txt -o m_keep.gfm --trees 40 2> t.log
gf 2 train sub.h5 -o m_sub.gfm --trees 40 -q
"$GF_TEST_TOOL" same-model m_keep.gfm m_sub.gfm > /dev/null && cmp -s m_keep.gfm.importance.tsv m_sub.gfm.importance.tsv &&
  grep -q "80 left out by --keep/--remove" t.log && ok "train --keep: the model of the subset store" || { not_ok "train --keep"; cat t.log; }
gf 2 train all.h5 --keep keep.txt -o m_keep_sh.gfm --trees 40 --matrix sharded -q
"$GF_TEST_TOOL" same-model m_keep.gfm m_keep_sh.gfm > /dev/null && ok "train --keep sharded: the same model" || not_ok "train --keep sharded"
gf 2 cv all.h5 --keep keep.txt --trees 30 -o cv_keep.json -q > /dev/null
gf 2 cv sub.h5 --trees 30 -o cv_sub.json -q > /dev/null
cmp -s <(grep -vE '_s"|date|command|"input"|"output"' cv_keep.json) <(grep -vE '_s"|date|command|"input"|"output"' cv_sub.json) &&
  ok "cv --keep: the report of the subset store" || not_ok "cv --keep"
gf 2 predict -m m_sub.gfm all.h5 -o p_all.tsv -q
gf 2 predict -m m_sub.gfm all.h5 --keep keep.txt -o p_keep.tsv -q
gf 1 predict -m m_sub.gfm c.vcf.gz --remove remove.txt -o p_rm.tsv -q
cmp -s p_keep.tsv <(awk 'NR == FNR {if (FNR > 1) k[$2] = 1; next} FNR == 1 || ($1 in k)' keep.txt p_all.tsv) &&
  cmp -s p_rm.tsv <(awk 'NR == FNR {r[$1] = 1; next} !($1 in r)' remove.txt p_all.tsv) &&
  ok "predict --keep (store, 2 ranks) and --remove (VCF): the kept samples' lines" || not_ok "predict subsets"
gf 2 pca all.h5 --keep keep.txt -o pk --pcs 3 -q
gf 2 pca sub.h5 -o ps --pcs 3 -q
cmp -s pk.eigenvec ps.eigenvec && cmp -s pk.eigenval ps.eigenval && ok "pca --keep: the PCs of the subset store" || not_ok "pca --keep"

# --extract/--exclude on train, cv and pca: what a store built with features --extract/--exclude gives.
gf 2 features c.vcf.gz -p c.pheno.tsv --extract only_ids.txt --exclude ex.bed -o vsub.h5 -q
gf 2 train all.h5 --extract only_ids.txt --exclude ex.bed -o m_ext.gfm --trees 40 2> te.log
gf 2 train vsub.h5 -o m_vsub.gfm --trees 40 -q
"$GF_TEST_TOOL" same-model m_ext.gfm m_vsub.gfm > /dev/null && cmp -s m_ext.gfm.importance.tsv m_vsub.gfm.importance.tsv &&
  grep -q "variants left out by --extract/--exclude" te.log && ok "train --extract/--exclude: the model of the subset store" || { not_ok "train --extract"; cat te.log; }
gf 2 train all.h5 --extract only_ids.txt --exclude ex.bed -o m_ext_sh.gfm --trees 40 --matrix sharded -q
"$GF_TEST_TOOL" same-model m_ext.gfm m_ext_sh.gfm > /dev/null && ok "train --extract sharded: the same model" || not_ok "train --extract sharded"
gf 2 cv all.h5 --extract only_ids.txt --exclude ex.bed --keep keep.txt --trees 30 -o cv_ext.json -q > /dev/null
gf 2 features c.vcf.gz -p c.pheno.tsv --keep keep.txt --extract only_ids.txt --exclude ex.bed -o kvsub.h5 -q 2> /dev/null
gf 2 cv kvsub.h5 --trees 30 -o cv_kvsub.json -q > /dev/null
cmp -s <(grep -vE '_s"|date|command|"input"|"output"' cv_ext.json) <(grep -vE '_s"|date|command|"input"|"output"' cv_kvsub.json) &&
  ok "cv --keep --extract --exclude: the report of the subset store" || not_ok "cv variant subset"
gf 3 pca all.h5 --extract only_ids.txt --exclude ex.bed -o pe --pcs 3 -q
gf 2 pca vsub.h5 -o pv --pcs 3 -q
cmp -s pe.eigenvec pv.eigenvec && cmp -s pe.eigenval pv.eigenval && ok "pca --extract/--exclude: the PCs of the subset store" || not_ok "pca --extract"

expect() {  # NAME CODE PATTERN STAGE ARGS...
  local name=$1 code=$2 pattern=$3; shift 3
  fails_once "$code" "$pattern" "$@" && ok "$name: $(grep error stderr.txt)" || { not_ok "$name (exit $rc)"; cat stderr.txt; }
}
printf 'nobody\n' > none.txt
expect "a --keep that matches nobody" 5 "--keep none.txt leaves none of the 240 samples of c.vcf.gz" features c.vcf.gz --keep none.txt -o y.h5
expect "predict --keep that matches nobody" 5 "--keep none.txt leaves none of the 240 samples" predict -m m_sub.gfm all.h5 --keep none.txt -o y.tsv
printf 'a b c\n' > wide.txt
expect "a sample list of three columns" 3 "wide.txt line 1: has 3 fields: a sample list has one \(ID\) or two \(FID IID\) per line" train all.h5 --keep wide.txt -o y.gfm
expect "the keep file as the output" 2 "-o/--output keep.txt is the same file as --keep" features c.vcf.gz --keep keep.txt -o keep.txt
finish
