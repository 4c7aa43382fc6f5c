#!/usr/bin/env bash
# train / cv / predict refuse bad inputs with one error line, the documented exit code, and no
# output written.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 40 --variants 150 --seed 4 -q
gf 1 features c.vcf.gz -o nolabels.h5 -q
gf 1 features c.vcf.gz -p c.pheno.tsv -o c.h5 -q
awk 'BEGIN{OFS="\t"} NR==1 {print; next} {$2="1"; print}' c.pheno.tsv > one.tsv
gf 1 features c.vcf.gz -p one.tsv -o one.h5 -q
awk 'BEGIN{OFS="\t"} NR==1 {print; next} {$2 = (NR <= 3 ? "1" : "0"); print}' c.pheno.tsv > rare.tsv
gf 1 features c.vcf.gz -p rare.tsv -o rare.h5 -q
gf 1 train c.h5 -o good.gfm --trees 5 -q

# expect_error NAME CODE PATTERN STAGE ARGS...: 2 ranks, the exit code and the one line, no output
expect_error() {
  local name=$1 code=$2 pattern=$3 stage=$4; shift 4
  if fails_once "$code" "$pattern" "$stage" "$@" && [[ ! -e out.gfm && ! -e out.tsv ]]; then
    ok "$name: exit $rc, $(grep error stderr.txt)"
  else
    not_ok "$name: exit $rc (want $code), stderr:"; cat stderr.txt
  fi
}
expect_error "store without labels" 5 "nolabels.h5: the feature store has no labels" train nolabels.h5 -o out.gfm
expect_error "one class only" 5 "one.h5: only one class \(1\) among the 40 labelled samples" train one.h5 -o out.gfm
expect_error "k larger than the smallest class" 5 "--folds 3 is larger than class '1', which has only 2 labelled samples" cv rare.h5 -k 3
expect_error "mtry larger than p" 2 "--mtry 100000 is larger than the number of features" train c.h5 --mtry 100000 -o out.gfm
expect_error "unknown criterion" 2 "--criterion must be gini, entropy or variance" train c.h5 --criterion foo -o out.gfm
cp good.gfm other.gfm; printf '\x07' | dd of=other.gfm bs=1 seek=17 conv=notrunc 2>/dev/null
expect_error "model of another format version" 3 "other.gfm: model format version 7, but this genoforest reads version 1" predict -m other.gfm c.h5 -o out.tsv
cp good.gfm bad.gfm; size=$(stat -c %s bad.gfm); printf '\xff\xfe' | dd of=bad.gfm bs=1 seek=$((size - 40)) conv=notrunc 2>/dev/null
expect_error "corrupt model" 3 "bad.gfm: corrupt model file" predict -m bad.gfm c.h5 -o out.tsv
expect_error "not a model" 3 "c.pheno.tsv: not a genoforest model file" predict -m c.pheno.tsv c.h5 -o out.tsv
expect_error "missing model" 6 "cannot open nope.gfm" predict -m nope.gfm c.h5 -o out.tsv
head -c $(( $(stat -c %s c.h5) / 2 )) c.h5 > cut.h5
expect_error "a store cut in half" 3 "cut.h5: an HDF5 file that cannot be opened: truncated or damaged" train cut.h5 -o out.gfm
# A damaged dosage chunk (16 bytes overwritten): HDF5's Fletcher32 checksum catches it on read.
cp c.h5 damaged.h5
read -r addr size < <("$GF_TEST_TOOL" chunk-address damaged.h5 /genotypes/dosage 0)
printf '0123456789abcdef' | dd of=damaged.h5 bs=1 seek=$((addr + size / 2)) conv=notrunc 2>/dev/null
for stage in train cv pca; do
  case $stage in train) args=(-o out.gfm);; cv) args=(--trees 5);; pca) args=(-o outpca);; esac
  expect_error "a damaged dosage chunk ($stage)" 3 "(rank [0-9]+: )?damaged.h5 dataset /genotypes/dosage rows 1-40, columns 1-[0-9]+: a stored chunk fails its Fletcher32 checksum: the file is damaged" $stage damaged.h5 "${args[@]}"
done
expect_error "a damaged dosage chunk (predict)" 3 "damaged.h5 dataset /genotypes/dosage .*: a stored chunk fails its Fletcher32 checksum" predict -m good.gfm damaged.h5 -o out.tsv
mkdir -p adir
expect_error "a folder as the model" 3 "adir: is a folder, not a model file" predict -m adir c.h5 -o out.tsv
finish
