#!/usr/bin/env bash
# genoforest align: the BAMs are identical (records and QC report) for 1, 2 and 4 ranks and for
# any chunk size; with QC off, primary alignments agree with Debian's `bwa mem` on the same reads
# (>= 99.9 %); duplicates are marked where planted; the index is rebuilt only when stale.
source "$(dirname "$0")/../lib.sh"
gf 2 simulate -o c -n 20 -m 150 --spacing 1000 --reads --read-samples 3 --coverage 8 --seed 5 -q
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

gf 1 align -s sheet.tsv -r c.ref.fa -o r1 -q
gf 1 align -s sheet.tsv -r c.ref.fa -o b1 --batch-bases 100000 -q
gf 2 align -s sheet.tsv -r c.ref.fa -o b2 --batch-bases 100000 --chunk-bases 1 -q
gf 4 align -s sheet.tsv -r c.ref.fa -o b4 --batch-bases 100000 --chunk-bases 250000 -q
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
gf 2 align -s sheet.tsv -r c.ref.fa -o cram --batch-bases 100000 --output-format cram -q
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
  gf 2 align -s c.samples.tsv -r c.ref.fa -o raw --no-qc -q
  bwa mem -K 10000000 c.ref.fa c.S000001_1.fq.gz c.S000001_2.fq.gz > bwa.sam 2>/dev/null
  if out=$("$GF_TEST_TOOL" compare-primary raw/S000001.bam bwa.sam 0.999); then ok "agreement with bwa mem: $out"; else not_ok "agreement with bwa mem: $out"; fi
else
  echo "skip: bwa is not installed (scripts/install-deps.sh installs it); agreement with bwa mem not checked"
fi
finish
