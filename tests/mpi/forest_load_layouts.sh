#!/usr/bin/env bash
# The matrix loads the same from any store layout: the 2-bit chunk transpose (whole 512 x 1024
# chunks, every sample labelled) and the byte path (other chunk shapes) give the same trees, in
# node and sharded mode. 1,001 samples: a last chunk of 489 rows, a last group of one row.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 1001 --variants 5000 --causal 5 --seed 8 -q
gf 2 features c.vcf.gz -p c.pheno.tsv -o fast.h5 -q
gf 2 features c.vcf.gz -p c.pheno.tsv -o rows6.h5 --chunk-samples 6 -q
gf 2 features c.vcf.gz -p c.pheno.tsv -o cols1000.h5 --chunk-variants 1000 -q
for s in fast rows6 cols1000; do
  gf 1 train $s.h5 -o $s.gfm --trees 30 --seed 2 -q
  gf 2 train $s.h5 -o $s.sh.gfm --trees 30 --seed 2 --matrix sharded -q
done
for s in rows6 cols1000; do
  "$GF_TEST_TOOL" same-model fast.gfm $s.gfm >/dev/null && cmp -s fast.gfm.importance.tsv $s.gfm.importance.tsv &&
    ok "store chunked as $s: the same model" || not_ok "store chunked as $s: another model"
done
for s in fast rows6 cols1000; do
  "$GF_TEST_TOOL" same-model fast.gfm $s.sh.gfm >/dev/null && cmp -s fast.gfm.importance.tsv $s.sh.gfm.importance.tsv &&
    ok "$s, sharded over 2 ranks: the same model" || not_ok "$s, sharded: another model"
done
# A damaged chunk is still caught on the fast path (its checksum), with HDF5's words.
cp fast.h5 damaged.h5
read -r addr size < <("$GF_TEST_TOOL" chunk-address damaged.h5 /genotypes/dosage 0)
printf '0123456789abcdef' | dd of=damaged.h5 bs=1 seek=$((addr + size / 2)) conv=notrunc 2>/dev/null
set +e; gf 1 train damaged.h5 -o d.gfm --trees 3 -q 2>err.txt; rc=$?; set -e
[[ $rc -eq 3 ]] && grep -q "damaged.h5 dataset /genotypes/dosage rows 1-1001, columns 1-1024: a stored chunk fails its Fletcher32 checksum" err.txt &&
  ok "damaged chunk refused (exit 3)" || { cat err.txt; not_ok "damaged chunk (exit $rc)"; }
finish
