#!/usr/bin/env bash
# genoforest's scale-offset codec writes exactly what libhdf5's own filter writes and reads back
# what it reads: the same stored chunks, byte for byte, and the same values either way round
# (edge cases: fill values, the full byte range, no fill value, one value, edge chunks, unsigned).
# Then a feature store written with each codec: identical contents and identical dosage chunks.
source "$(dirname "$0")/../lib.sh"
: "${GF_TEST_TOOL:?}"
builtin() { GENOFOREST_H5_BUILTIN_SCALEOFFSET=1 "$@"; }

builtin "$GF_TEST_TOOL" so-write lib.h5
"$GF_TEST_TOOL" so-write ours.h5
builtin "$GF_TEST_TOOL" so-dump lib.h5 > lib_by_lib.txt || true
builtin "$GF_TEST_TOOL" so-dump ours.h5 > ours_by_lib.txt || true
"$GF_TEST_TOOL" so-dump lib.h5 > lib_by_ours.txt || true
"$GF_TEST_TOOL" so-dump ours.h5 > ours_by_ours.txt || true
grep -q "one_bit values" lib_by_lib.txt && ok "libhdf5 reads back its own file" || not_ok "libhdf5 reads back its own file"
cmp -s lib_by_lib.txt ours_by_lib.txt && ok "the same chunks, byte for byte, as libhdf5's codec" ||
  { not_ok "chunks differ from libhdf5's"; diff lib_by_lib.txt ours_by_lib.txt | head -5; }
cmp -s lib_by_lib.txt lib_by_ours.txt && ok "our codec decodes libhdf5's chunks" || not_ok "our codec misreads libhdf5's chunks"
cmp -s lib_by_lib.txt ours_by_ours.txt && ok "our codec reads back its own chunks" || not_ok "our codec misreads its own chunks"
grep -c chunk lib_by_lib.txt | grep -qv '^0$' && ok "$(grep -c chunk lib_by_lib.txt) chunks compared" || not_ok "no chunk compared"

# A feature store (2 ranks, missing calls, multi-allelic sites) written with either codec.
gf 1 simulate -o c -n 700 --variants 1500 --seed 11 --missing-rate 0.05 -q
builtin gf 2 features c.vcf.gz -p c.pheno.tsv -o lib.store.h5 --chunk-samples 256 --chunk-variants 512 -q
gf 2 features c.vcf.gz -p c.pheno.tsv -o ours.store.h5 --chunk-samples 256 --chunk-variants 512 -q
same_store lib.store.h5 ours.store.h5 >/dev/null && ok "feature stores identical with either codec" ||
  not_ok "feature stores differ between codecs"
cmp -s <("$GF_TEST_TOOL" chunks lib.store.h5 /genotypes/dosage) <("$GF_TEST_TOOL" chunks ours.store.h5 /genotypes/dosage) &&
  ok "dosage chunks identical, byte for byte" || not_ok "dosage chunks differ between codecs"
"$GF_TEST_TOOL" compare-vcf ours.store.h5 c.vcf.gz >/dev/null && ok "dosages match the VCF's text" ||
  not_ok "dosages differ from the VCF's text"
finish
