#!/usr/bin/env bash
# index / align refuse bad inputs with one error line naming the file (and line), the documented
# exit code, and no BAM left behind.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 10 --variants 40 --spacing 500 --reads --read-samples 1 --coverage 2 --seed 3 -q
gf 1 index c.ref.fa -q
zcat c.S000001_1.fq.gz > r1.fq; zcat c.S000001_2.fq.gz > r2.fq
sheet() { printf 'sample_id\tfastq_1\tfastq_2\n'; printf '%s\t%s\t%s\n' "$@"; }

# expect_error NAME CODE PATTERN STAGE ARGS...: run on 2 ranks, check exit code and the one line
expect_error() {
  local name=$1 code=$2 pattern=$3 stage=$4; shift 4
  rm -rf out
  set +e
  gf 2 "$stage" "$@" >stdout.txt 2>stderr.txt
  local rc=$?
  set -e
  local lines; lines=$(grep -c "error" stderr.txt || true)
  if [[ $rc -eq $code && $lines -eq 1 ]] && grep -qE "^genoforest $stage: error: $pattern" stderr.txt &&
     [[ -z "$(find . -path './out/*' -name '*.bam*' 2>/dev/null)" ]]; then
    ok "$name: exit $rc, $(grep error stderr.txt)"
  else
    not_ok "$name: exit $rc (want $code), stderr:"; cat stderr.txt
  fi
}

# Truncated gzip: cut the compressed file in the middle.
size=$(stat -c %s c.S000001_1.fq.gz); head -c $((size / 2)) c.S000001_1.fq.gz > trunc.fq.gz
sheet S1 trunc.fq.gz c.S000001_2.fq.gz > s.tsv
expect_error "truncated gzip" 3 ".*QC of sample S1: trunc.fq.gz line [0-9]+: truncated gzip data" align -S s.tsv -f c.ref.fa -o out
# Corrupt gzip: bytes in the middle overwritten (a bad block, or a CRC that no longer matches).
cp c.S000001_1.fq.gz corrupt.fq.gz
printf '\x55\xaa\x55\xaa' | dd of=corrupt.fq.gz bs=1 seek=$((size / 2)) conv=notrunc status=none
sheet S1 corrupt.fq.gz c.S000001_2.fq.gz > s.tsv
expect_error "corrupt gzip" 3 ".*QC of sample S1: corrupt.fq.gz line [0-9]+: corrupt gzip data" align -S s.tsv -f c.ref.fa -o out
# Malformed record: the 3rd record's '+' line replaced.
awk 'NR == 11 {print "oops"; next} {print}' r1.fq > bad.fq
sheet S1 bad.fq r2.fq > s.tsv
expect_error "malformed FASTQ record" 3 ".*QC of sample S1: bad.fq line 11: expected the '\+' separator line" align -S s.tsv -f c.ref.fa -o out
awk 'NR == 8 {print substr($0, 2); next} {print}' r1.fq > short.fq
sheet S1 short.fq r2.fq > s.tsv
expect_error "quality shorter than sequence" 3 ".*QC of sample S1: short.fq line 8: quality length 149 differs from sequence length 150" align -S s.tsv -f c.ref.fa -o out
# Mates: one record fewer; a different name.
n=$(wc -l < r2.fq); awk -v n="$n" 'NR <= n - 4' r2.fq > fewer.fq
sheet S1 r1.fq fewer.fq > s.tsv
expect_error "mates with different counts" 3 ".*QC of sample S1: fewer.fq: mates differ in number" align -S s.tsv -f c.ref.fa -o out
awk 'NR == 5 {print "@other"; next} {print}' r2.fq > renamed.fq
sheet S1 r1.fq renamed.fq > s.tsv
expect_error "mates with different names" 3 ".*QC of sample S1: renamed.fq line 5: mate names differ at record 2" align -S s.tsv -f c.ref.fa -o out
# Sample sheet.
{ sheet S1 r1.fq r2.fq; printf 'S1\tr1.fq\tr2.fq\n'; } > s.tsv
expect_error "duplicate sample IDs" 3 "s.tsv line 3: duplicate sample_id S1 \(first on line 2\)" align -S s.tsv -f c.ref.fa -o out
sheet S1 nope.fq r2.fq > s.tsv
expect_error "unreadable FASTQ" 3 "nope.fq: cannot read the FASTQ of sample S1" align -S s.tsv -f c.ref.fa -o out
printf 'sample\tfastq_1\nS1\tr1.fq\n' > s.tsv
expect_error "sheet without sample_id" 3 "s.tsv line 1: the header has no sample_id column" align -S s.tsv -f c.ref.fa -o out
# Reference and index.
sheet S1 r1.fq r2.fq > s.tsv
expect_error "missing reference" 3 "nope.fa: no such reference FASTA" align -S s.tsv -f nope.fa -o out
cp c.ref.fa noindex.fa
expect_error "missing index" 3 "noindex.fa.amb: missing bwa index file; build it with: genoforest index noindex.fa" align -S s.tsv -f noindex.fa -o out
cp c.ref.fa broken.fa; for x in amb ann bwt pac sa fai; do cp c.ref.fa.$x broken.fa.$x; done; : > broken.fa.sa
expect_error "empty index file" 3 "broken.fa.sa: empty bwa index file" align -S s.tsv -f broken.fa -o out
printf 'ACGT\n' > notfasta.fa
expect_error "index of a non-FASTA" 3 "notfasta.fa: not a FASTA file" index notfasta.fa
expect_error "index of a missing file" 3 "nope.fa: no such reference FASTA" index nope.fa
cp c.ref.fa stale.fa; for x in amb ann bwt pac sa fai; do cp c.ref.fa.$x stale.fa.$x; done; touch -d '+1 minute' stale.fa
expect_error "an index older than its FASTA" 3 "stale.fa.amb: this bwa index file is older than stale.fa .*genoforest index --force stale.fa" align -S s.tsv -f stale.fa -o out
{ cat c.ref.fa; head -2 c.ref.fa; } > dup.fa
expect_error "a reference with a contig twice" 3 "dup.fa: the contig name '$(head -1 c.ref.fa | cut -c2- | cut -d' ' -f1)' appears twice" index dup.fa
[[ ! -e dup.fa.bwt && ! -e dup.fa.fai ]] && ok "no index written for it" || not_ok "an index was written for a reference with a duplicate contig"
finish
