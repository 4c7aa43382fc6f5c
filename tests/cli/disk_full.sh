#!/usr/bin/env bash
# A full disk: every stage ends with one line naming the file and "No space left on device", exit 6,
# on 1, 2 and 4 ranks; no hang, no signal; the earlier output kept, no temporary left. Runs on a
# 2 MiB tmpfs, and is skipped (with the reason) where mounting one is refused.
source "$(dirname "$0")/../lib.sh"
mkdir -p small
if ! mount -t tmpfs -o size=2m tmpfs small 2>mount.err; then
  echo "skip: cannot mount a small tmpfs here ($(head -1 mount.err)); the disk-full paths are not tested"
  exit 0
fi
trap 'umount "$WORK/small" 2>/dev/null; rm -rf "$WORK"' EXIT
gf 1 simulate -o c -n 40 --variants 150 --seed 4 -q
gf 1 features c.vcf.gz -p c.pheno.tsv -o c.h5 -q
gf 1 train c.h5 -o m.gfm --trees 5 -q
gf 1 simulate -o big -n 500 --variants 20000 --seed 2 -q
gf 1 simulate -o r -n 4 --variants 40 --spacing 500 --reads --read-samples 2 --coverage 4 --seed 3 -q
gf 1 index r.ref.fa -q
gf 1 align -S r.samples.tsv -f r.ref.fa -o bams -q
gf 1 features c.vcf.gz -o small/x.h5 -q  # the earlier output, which must survive
old=$(md5sum < small/x.h5)

# expect_full NAME RANKS STAGE ARGS...: exit 6 within 60 s, one line naming the disk, nothing left.
expect_full() {
  local name=$1 n=$2 stage=$3; shift 3
  set +e
  timeout 90 "$MPIEXEC" -n "$n" --oversubscribe "$GENOFOREST" "$stage" "$@" >stdout.txt 2>stderr.txt
  local rc=$?
  set -e
  local lines; lines=$(grep -c "error:" stderr.txt || true)
  if [[ $rc -eq 6 && $lines -eq 1 ]] && grep -qE "^genoforest $stage: error: .*small/.*No space left on device" stderr.txt &&
     [[ $(md5sum < small/x.h5) == "$old" ]] && ! compgen -G "small/*.tmp.*" >/dev/null; then
    ok "$name, $n rank(s): exit 6, $(grep error: stderr.txt)"
  else
    not_ok "$name, $n rank(s): exit $rc (want 6; 124 is a hang), stderr:"; cat stderr.txt; ls -la small
  fi
}
for n in 1 2 4; do
  expect_full "features over an earlier store" "$n" features big.vcf.gz -o small/x.h5 --region-size 100000
done
# Fill the disk to the last byte, then write small outputs.
dd if=/dev/zero of=small/filler bs=64k status=none 2>/dev/null || true
expect_full "train" 2 train c.h5 -o small/m.gfm --trees 5
expect_full "predict" 2 predict -m m.gfm c.h5 -o small/p.tsv
expect_full "cv report" 2 cv c.h5 --trees 5 -o small/cv.json
expect_full "features of a small cohort" 2 features c.vcf.gz -o small/y.h5
expect_full "align" 2 align -S r.samples.tsv -f r.ref.fa -o small/aln
expect_full "call" 2 call -f r.ref.fa -o small/calls.vcf.gz bams/S000001.bam bams/S000002.bam
finish
