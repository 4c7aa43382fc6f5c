#!/usr/bin/env bash
# genoforest align: the BAMs are identical (records and QC report) for 1, 2 and 4 ranks and for
# any chunk size, and byte for byte for any rank count and merge piece size, indexed as htslib
# indexes them; with QC off, primary alignments agree with Debian's `bwa mem` on the same reads
# (>= 99.9 %); duplicates are marked where planted; the index is rebuilt only when stale.
source "$(dirname "$0")/../lib.sh"
gf 2 simulate -o c -n 20 --variants 150 --spacing 1000 --reads --read-samples 3 --coverage 8 --seed 5 -q
# Single-end sample: read 1 of sample 3 only; planted duplicates: sample 2's first 300 pairs twice.
awk 'BEGIN{OFS="\t"} NR==4 {$3=""} {print}' c.samples.tsv > sheet.tsv
zcat c.S000002_1.fq.gz | awk 'NR <= 1200' > dup_1.fq; zcat c.S000002_1.fq.gz >> dup_1.fq
zcat c.S000002_2.fq.gz | awk 'NR <= 1200' > dup_2.fq; zcat c.S000002_2.fq.gz >> dup_2.fq
sed -i 's/^@S000002\./@D/' dup_1.fq dup_2.fq   # new names, same sequences
awk 'BEGIN{OFS="\t"} NR==3 {$2="dup_1.fq"; $3="dup_2.fq"} {print}' sheet.tsv > sheet2.tsv && mv sheet2.tsv sheet.tsv

gf 1 index c.ref.fa -q
[[ -s c.ref.fa.bwt && -s c.ref.fa.fai ]] && ok "index built" || not_ok "index files missing"
before=$(stat -c %Y c.ref.fa.bwt)
sleep 1
gf 1 index c.ref.fa 2> index2.txt
[[ $(stat -c %Y c.ref.fa.bwt) == "$before" ]] && grep -q "up to date" index2.txt && ok "index skipped when up to date" \
  || not_ok "index rebuilt although up to date"

gf 1 align -S sheet.tsv -f c.ref.fa -o r1 -q
gf 1 align -S sheet.tsv -f c.ref.fa -o b1 --batch-bases 100000 -q
gf 2 align -S sheet.tsv -f c.ref.fa -o b2 --batch-bases 100000 --chunk-bases 1 -q
gf 4 align -S sheet.tsv -f c.ref.fa -o b4 --batch-bases 100000 --chunk-bases 250000 -q
for s in S000001 S000002 S000003; do
  for d in b2 b4; do
    if cmp -s <("$GF_TEST_TOOL" dump-bam b1/$s.bam) <("$GF_TEST_TOOL" dump-bam $d/$s.bam) &&
       cmp -s b1/$s.qc.json $d/$s.qc.json; then
      ok "$s: $d identical to 1 rank"
    else
      not_ok "$s: $d differs from 1 rank"
    fi
  done
  [[ -s r1/$s.bam.bai ]] && ok "$s: indexed" || not_ok "$s: no index"
done
# The BAM is written in pieces of whole bins by several ranks: its bytes do not depend on the cut
# (--piece-records) or the rank count, and its index is htslib's own (samtools index) to the byte.
mkdir x1 x3 x4
for n in 1 3 4; do  # the same command line, so the same @PG line
  (cd x$n && gf $n align -S ../sheet.tsv -f ../c.ref.fa -o out --batch-bases 100000 --piece-records 1500 2> log.txt)
done
grep -qE "one copy shared by the (3|${GF_MAX_RANKS:-3}) ranks" x3/log.txt && ok "the bwa index is shared by the ranks of the node" \
  || not_ok "the bwa index is not shared: $(grep 'bwa index' x3/log.txt)"
pieces=$(grep -o '[0-9]*/[0-9]* merge pieces done' x3/log.txt | tail -1 | cut -d/ -f2 | cut -d' ' -f1)
[[ ${pieces:-0} -ge 6 ]] && ok "the merge ran in $pieces pieces" || not_ok "the merge ran in ${pieces:-?} pieces, want >= 6"
body() { tail -c +$(($("$GF_TEST_TOOL" bam-body "$1") + 1)) "$1" | md5sum; }
for s in S000001 S000002 S000003; do
  if cmp -s x1/out/$s.bam x3/out/$s.bam && cmp -s x1/out/$s.bam x4/out/$s.bam && cmp -s x1/out/$s.bam.bai x4/out/$s.bam.bai; then
    ok "$s: BAM and index identical, byte for byte, for 1, 3 and 4 ranks"
  else
    not_ok "$s: BAM or index bytes differ between 1, 3 and 4 ranks"
  fi
  [[ "$(body x1/out/$s.bam)" == "$(body b1/$s.bam)" ]] && ok "$s: records' bytes identical for pieces of 1,500 records and one piece" \
    || not_ok "$s: the BAM's bytes depend on how it was cut into pieces"
  "$GF_TEST_TOOL" bam-index x1/out/$s.bam htslib.bai
  cmp -s htslib.bai x1/out/$s.bam.bai && ok "$s: index identical to htslib's own" || not_ok "$s: index differs from htslib's own"
done
# --no-shared-index: a copy per rank (on huge pages), the same bytes.
mkdir x5
(cd x5 && gf 2 align -S ../sheet.tsv -f ../c.ref.fa -o out --batch-bases 100000 --piece-records 1500 --no-shared-index 2> log.txt)
if grep -q "per rank (--no-shared-index" x5/log.txt && cmp -s <(body x1/out/S000001.bam) <(body x5/out/S000001.bam); then
  ok "--no-shared-index: a copy per rank, the same BAM"
else
  not_ok "--no-shared-index: $(grep 'bwa index' x5/log.txt)"
fi
# Where shared memory cannot hold the index, each rank loads its own copy: same output, a warning.
mkdir x2
(cd x2 && OMPI_MCA_osc_sm_backing_directory=/nonexistent gf 2 align -S ../sheet.tsv -f ../c.ref.fa -o out --batch-bases 100000 \
   --piece-records 1500 2> log.txt)
if grep -q "cannot hold the bwa index" x2/log.txt && ! grep -q "one copy shared" x2/log.txt &&
   cmp -s <(body x1/out/S000001.bam) <(body x2/out/S000001.bam); then
  ok "without room in shared memory: a copy per rank, a warning, the same BAM"
else
  not_ok "without room in shared memory: $(grep -i 'bwa index' x2/log.txt)"
fi
gf 2 align -S sheet.tsv -f c.ref.fa -o cram --batch-bases 100000 --output-format cram -q
# CRAM stores MD/NM by recomputing them and reorders tags: compare the 11 mandatory fields.
if [[ -s cram/S000001.cram.crai ]] && cmp -s <("$GF_TEST_TOOL" dump-bam b1/S000001.bam | cut -f1-11) \
     <("$GF_TEST_TOOL" dump-bam cram/S000001.cram c.ref.fa | cut -f1-11); then
  ok "CRAM output holds the same records"
else
  not_ok "CRAM output differs or is not indexed"
fi
ls -A b4 | grep -q '^\.genoforest' && not_ok "temporary folder left behind" || ok "no temporary files left"
dups=$(grep -o '"duplicates": [0-9]*' r1/S000002.qc.json | awk '{print $2}')
# 300 planted pairs (600 reads) plus the few that coincide by chance.
[[ $dups -ge 600 && $dups -le 660 ]] && ok "planted duplicates marked ($dups reads)" || not_ok "duplicates: $dups reads, want 600-660"
grep -q '"reads_in": ' r1/S000003.qc.json && ok "single-end sample aligned" || not_ok "single-end sample"

if command -v bwa >/dev/null; then
  gf 2 align -S c.samples.tsv -f c.ref.fa -o raw --no-qc -q
  bwa mem -K 10000000 c.ref.fa c.S000001_1.fq.gz c.S000001_2.fq.gz > bwa.sam 2>/dev/null
  if out=$("$GF_TEST_TOOL" compare-primary raw/S000001.bam bwa.sam 0.999); then ok "agreement with bwa mem: $out"; else not_ok "agreement with bwa mem: $out"; fi
else
  echo "skip: bwa is not installed (scripts/install-deps.sh installs it); agreement with bwa mem not checked"
fi
finish
