#!/usr/bin/env bash
# genoforest call refuses bad inputs with one error line naming the file, the documented exit
# code, and no VCF left behind: a BAM without index, a reference whose contig names or lengths
# disagree with a BAM, two BAMs of one sample name, a truncated BAM, a file that is not a BAM, a
# missing BAM, bad options.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 4 --variants 60 --spacing 500 --reads --read-samples 2 --coverage 4 --seed 3 -q
gf 1 index c.ref.fa -q
gf 1 align -S c.samples.tsv -f c.ref.fa -o bams -q
A=bams/S000001.bam B=bams/S000002.bam

# expect_error NAME CODE PATTERN ARGS...: genoforest call on 2 ranks (env REF, OUT: -f and -o)
expect_error() {
  local name=$1 code=$2 pattern=$3; shift 3
  rm -f out.vcf.gz out.vcf.gz.tbi
  set +e
  gf 2 call -f "${REF:-c.ref.fa}" -o "${OUT:-out.vcf.gz}" "$@" >stdout.txt 2>stderr.txt
  local rc=$?
  set -e
  local lines; lines=$(grep -c "error" stderr.txt || true)
  if [[ $rc -eq $code && $lines -eq 1 ]] && grep -qE "^genoforest call: error: $pattern" stderr.txt &&
     [[ ! -e out.vcf.gz ]] && [[ -z "$(ls -A | grep '\.tmp\.' || true)" ]]; then
    ok "$name: exit $rc, $(grep error stderr.txt)"
  else
    not_ok "$name: exit $rc (want $code), stderr:"; cat stderr.txt
  fi
}

gf 1 call -f c.ref.fa -o good.vcf.gz $A $B -q && ok "the good inputs are called" || not_ok "the good inputs fail"
gf 2 call -f c.ref.fa -o - $A $B -q > streamed.vcf
cmp <(grep -v '^##genoforest_callCommand' streamed.vcf) <(zcat good.vcf.gz | grep -v '^##genoforest_callCommand') && [[ ! -e -.tbi ]] \
  && ok "-o - streams the same calls as plain VCF (no index)" || not_ok "-o - differs from the file"

# Contig aliases: -r 1 and a BED on "chr1" call the reference's chr1, saying so.
gf 2 call -f c.ref.fa -o r1.vcf.gz -r 1:1-20000 $A $B 2> alias.log && gf 2 call -f c.ref.fa -o r2.vcf.gz -r chr1:1-20000 $A $B -q &&
  cmp <(zcat r1.vcf.gz | grep -v '^##genoforest_callCommand') <(zcat r2.vcf.gz | grep -v '^##genoforest_callCommand') &&
  grep -q "contig 1 of -r/--regions is chr1 in the reference c.ref.fa (contig alias)" alias.log &&
  ok "-r 1 calls the reference's chr1 (contig alias, logged)" || { not_ok "contig alias in call -r"; cat alias.log; }
printf '1\t0\t20000\n' > ens.bed
gf 2 call -f c.ref.fa -o r3.vcf.gz -R ens.bed $A $B -q &&
  cmp <(zcat r3.vcf.gz | grep -v '^##genoforest_callCommand') <(zcat r2.vcf.gz | grep -v '^##genoforest_callCommand') &&
  ok "a BED naming contig 1 calls chr1" || not_ok "contig alias in call -R"

# Samples as bcftools' -s/-S: the BAMs of the named samples only (^: all but those).
gf 2 call -f c.ref.fa -o one.vcf.gz $A -q
gf 2 call -f c.ref.fa -o s1.vcf.gz -s S000001 $A $B 2> s1.log
printf 'S000002\n' > drop.txt
gf 2 call -f c.ref.fa -o s2.vcf.gz -S ^drop.txt $A $B -q
same_calls() { cmp <(zcat "$1" | grep -v '^##genoforest_callCommand') <(zcat "$2" | grep -v '^##genoforest_callCommand'); }
same_calls one.vcf.gz s1.vcf.gz && same_calls one.vcf.gz s2.vcf.gz && grep -q -- "-s S000001: 1 of 2 samples called" s1.log &&
  ok "-s S000001 and -S ^list call what the sample's BAM alone calls" || { not_ok "call -s/-S"; cat s1.log; }
expect_error "-s naming a sample without a BAM" 4 "-s S000009: sample 'S000009' has no BAM among the 2 given" -s S000009 $A $B

cp $A noindex.bam
expect_error "BAM without index" 3 "noindex.bam: has no index \(.bai, .csi or .crai\); build one with 'samtools index noindex.bam'" noindex.bam $B

sed 's/^>chr1$/>chrX/' c.ref.fa > renamed.fa
REF=renamed.fa expect_error "contig name not in the BAM" 4 "$A: contig 'chrX' of the reference renamed.fa is not in the BAM header" $A

# chr1 without its last line of sequence
awk '/^>/ {if (n++ == 1) held = ""} {if (held != "") print held; held = $0} END {if (n > 1) print held}' c.ref.fa > shorter.fa
REF=shorter.fa expect_error "contig length differs" 4 "$A: contig 'chr1' has length [0-9]+ in the BAM header but [0-9]+ in the reference shorter.fa" $A

cp $A same.bam; cp $A.bai same.bam.bai
expect_error "two BAMs of one sample" 4 "same.bam: its sample name 'S000001' \(read group SM\) is also that of $A" $A same.bam

size=$(stat -c %s $A); head -c $((size / 2)) $A > trunc.bam; cp $A.bai trunc.bam.bai
expect_error "truncated BAM" 3 "trunc.bam: truncated: the BGZF end-of-file marker is missing" trunc.bam $B

echo "not a BAM" > text.bam
expect_error "not a BAM" 3 "text.bam: " text.bam $B
expect_error "missing BAM" 3 "nowhere.bam: alignment file not found" nowhere.bam $B
REF=nowhere.fa expect_error "missing reference" 3 "nowhere.fa: reference FASTA not found" $A
expect_error "bad option value" 2 "--min-alt-fraction must be between 0 and 1" --min-alt-fraction 2 $A
expect_error "no BAM given" 2 "give the BAM/CRAM files" 
OUT=out.vcf expect_error "bad output name" 2 "-o/--output must end in .vcf.gz" $A
echo "earlier result" > out2.vcf.gz
set +e; gf 2 call -f c.ref.fa -o out2.vcf.gz noindex.bam 2>/dev/null; set -e
[[ "$(cat out2.vcf.gz)" == "earlier result" ]] && ok "a failed run leaves an earlier result alone" || not_ok "earlier result destroyed"
finish
