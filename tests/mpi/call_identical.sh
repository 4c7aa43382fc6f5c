#!/usr/bin/env bash
# genoforest call: the VCF records are identical for 1, 2 and 4 ranks and for region sizes of 10 kb
# and 1 Mb (BCF and VCF output alike); the calls agree with the planted genotypes (genotype-aware,
# after bcftools norm); the output feeds genoforest features.
source "$(dirname "$0")/../lib.sh"
gf 2 simulate -o c -n 6 --variants 400 --spacing 500 --reads --read-samples 6 --coverage 12 --seed 3 -q
gf 1 index c.ref.fa -q
gf 2 align -S c.samples.tsv -f c.ref.fa -o bams -q
gf 1 call -f c.ref.fa -o n1.vcf.gz bams/*.bam -q
gf 2 call -f c.ref.fa -o n2.vcf.gz --region-size 10000 bams/*.bam -q
gf 4 call -f c.ref.fa -o n4.bcf --region-size 1000000 bams/*.bam -q
records() { "$GF_TEST_TOOL" dump-vcf "$1"; }
[[ -s n1.vcf.gz.tbi && -s n4.bcf.csi ]] && ok "outputs indexed (.tbi, .csi)" || not_ok "an index is missing"
n=$(records n1.vcf.gz | grep -vc '^#')
[[ $n -gt 100 ]] && ok "$n records called" || not_ok "only $n records"
cmp -s <(records n1.vcf.gz) <(records n2.vcf.gz) && ok "2 ranks, 10 kb regions: identical records" || not_ok "2 ranks, 10 kb regions differ"
cmp -s <(records n1.vcf.gz) <(records n4.bcf) && ok "4 ranks, 1 Mb regions, BCF: identical records" || not_ok "4 ranks, BCF differs"
ls -A | grep -q '\.tmp\.' && not_ok "temporary files left behind" || ok "no temporary files left"
records n1.vcf.gz > n1.txt
grep -q '^##contig=<ID=chr1,length=' n1.txt && ok "header has the reference's contigs" || not_ok "no contig lines"
grep '^#CHROM' n1.txt | grep -q 'S000006$' && ok "samples named from the read groups" || not_ok "sample columns wrong"

# Accuracy against the planted genotypes, genotype-aware, SNPs and indels apart.
if command -v bcftools >/dev/null; then
  norm() { bcftools norm -m -any -f c.ref.fa "$1" 2>/dev/null | bcftools query -f '%POS:%REF:%ALT[\t%GT]\n'; }
  score() {  # prints "snp_f1 indel_f1"
    awk -F'\t' '
      function dose(g) { gsub(/[|]/, "/", g); split(g, a, "/"); return (a[1] != "0" && a[1] != ".") + (a[2] != "0" && a[2] != ".") }
      function kind(k) { split(k, p, ":"); return (length(p[2]) == 1 && length(p[3]) == 1) ? "snp" : "indel" }
      FNR == NR { for (i = 2; i <= NF; i++) if ((d = dose($i)) > 0) t[$1, i] = d; next }
      { for (i = 2; i <= NF; i++) if ((d = dose($i)) > 0) c[$1, i] = d }
      END {
        for (k in t) { split(k, q, SUBSEP); if (c[k] == t[k]) tp[kind(q[1])]++; else fn[kind(q[1])]++ }
        for (k in c) { split(k, q, SUBSEP); if (t[k] != c[k]) fp[kind(q[1])]++ }
        for (x in tp) f[x] = 2 * tp[x] / (2 * tp[x] + fp[x] + fn[x])
        printf "%.4f %.4f\n", f["snp"], f["indel"]
      }' <(norm c.planted.vcf.gz) <(norm n1.vcf.gz)
  }
  read -r snp indel < <(score)
  awk -v s="$snp" 'BEGIN { exit !(s >= 0.97) }' && ok "SNP F1 $snp (>= 0.97 at 12x)" || not_ok "SNP F1 $snp, want >= 0.97"
  awk -v s="$indel" 'BEGIN { exit !(s >= 0.85) }' && ok "indel F1 $indel (>= 0.85 at 12x)" || not_ok "indel F1 $indel, want >= 0.85"
else
  echo "skip: bcftools is not installed (scripts/install-deps.sh installs it); accuracy not checked"
fi

gf 2 features n1.vcf.gz -o f.h5 -q && ok "the calls feed genoforest features" || not_ok "features rejects the calls"
finish
