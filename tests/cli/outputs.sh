#!/usr/bin/env bash
# Nothing lost: no output replaces an input, another output, a device or a file outside the output
# folder; text outputs stream to standard output on request; temporaries of killed runs are removed
# by the next run of the same output; two runs never share a run folder; damaged or foreign inputs
# get one line and the documented exit code.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 40 --variants 150 --seed 4 -q
gf 1 features c.vcf.gz -p c.pheno.tsv -o c.h5 -q
gf 1 train c.h5 -o m.gfm --trees 5 -q
ln c.vcf.gz hard.vcf.gz
ln -s c.h5 soft.h5
digest() { md5sum c.vcf.gz c.vcf.gz.tbi c.pheno.tsv c.h5 m.gfm | md5sum; }
before=$(digest)

# expect_exit NAME CODE PATTERN STAGE ARGS...: 2 ranks, the exit code and the one line, every
# input unchanged.
expect_exit() {
  local name=$1 code=$2 pattern=$3 stage=$4; shift 4
  if fails_once "$code" "$pattern" "$stage" "$@" && [[ $(digest) == "$before" ]]; then
    ok "$name: exit $rc, $(grep error stderr.txt)"
  else
    not_ok "$name: exit $rc (want $code), stderr:"; cat stderr.txt
  fi
}

# ---- an output that is an input, or another output ------------------------------------------------
same="is the same file as"
expect_exit "features -o its input" 2 "-o/--output c.vcf.gz $same the input c.vcf.gz" features c.vcf.gz -o c.vcf.gz
expect_exit "features -o a hard link to its input" 2 "-o/--output hard.vcf.gz $same the input c.vcf.gz" features c.vcf.gz -o hard.vcf.gz
expect_exit "features -o its input's index" 2 "-o/--output c.vcf.gz.tbi $same the input's index" features c.vcf.gz -o c.vcf.gz.tbi
expect_exit "features -o its phenotypes" 2 "-o/--output c.pheno.tsv $same -p/--phenotypes c.pheno.tsv" features c.vcf.gz -p c.pheno.tsv -o c.pheno.tsv
expect_exit "train -o its input" 2 "-o/--output c.h5 $same the input c.h5" train c.h5 -o c.h5 --trees 5
expect_exit "train -o a symbolic link to its input" 2 "-o/--output soft.h5 $same the input c.h5" train c.h5 -o soft.h5 --trees 5
expect_exit "train --importance-output its input" 2 "--importance-output c.h5 $same the input c.h5" train c.h5 -o new.gfm --importance-output c.h5 --trees 5
expect_exit "train: two outputs, one file" 2 "--importance-output ./new.gfm $same -o/--output new.gfm" train c.h5 -o new.gfm --importance-output ./new.gfm --trees 5
expect_exit "predict -o its model" 2 "-o/--output m.gfm $same -m/--model m.gfm" predict -m m.gfm c.h5 -o m.gfm
expect_exit "cv -o its input" 2 "-o/--output c.h5 $same the input c.h5" cv c.h5 -o c.h5 --trees 5
[[ ! -e new.gfm ]] && ok "no output written by a refused command" || not_ok "a refused command wrote new.gfm"

# ---- devices and standard output -------------------------------------------------------------------
expect_exit "-o /dev/full" 2 "-o/--output /dev/full is a character device: outputs are written as new regular files" features c.vcf.gz -o /dev/full
[[ -c /dev/full ]] && ok "/dev/full is still a device" || not_ok "/dev/full was replaced"
expect_exit "a model to standard output" 2 "-o/--output -: this output is not text and cannot go to standard output" train c.h5 -o - --trees 5
expect_exit "a store to standard output" 2 "-o/--output -: this output is not text" features c.vcf.gz -o -
gf 2 predict -m m.gfm c.h5 -o - -q > streamed.tsv
gf 1 predict -m m.gfm c.h5 -o file.tsv -q
cmp -s streamed.tsv file.tsv && [[ $(wc -l < streamed.tsv) -eq 41 ]] && ok "predict -o - streams the TSV (41 lines, as the file)" || not_ok "predict -o -"
gf 2 train c.h5 -o m2.gfm --trees 5 --importance-output - -q > imp.tsv
head -1 imp.tsv | grep -q "^chrom	pos	id	ref	alt	importance" && [[ $(wc -l < imp.tsv) -gt 100 ]] && ok "train --importance-output - streams the TSV" || not_ok "importance to stdout"
gf 2 cv c.h5 --trees 5 -o - -q > cv.json 2> cv.err
python3 -c 'import json,sys; json.load(open("cv.json"))' && grep -q "^mean" cv.err && ok "cv -o -: the JSON alone on standard output, the table on standard error" || not_ok "cv -o -"

# ---- align: sample IDs never name files outside -o ---------------------------------------------------
gf 1 simulate -o r -n 4 --variants 20 --spacing 500 --reads --read-samples 1 --coverage 1 --seed 3 -q
gf 1 index r.ref.fa -q
mkdir -p precious; echo keep > precious/S1.bam
for id in ../S1 "$WORK/precious/S1" .S1 "S 1" 'S*1'; do
  printf 'sample_id\tfastq_1\tfastq_2\n%s\tr.S000001_1.fq.gz\tr.S000001_2.fq.gz\n' "$id" > sheet.tsv
  expect_exit "sample_id '$id'" 3 "sheet.tsv line 2: sample_id '.*' (starts with '.'|contains a path separator|contains a space|contains the character '\*')" \
    align -S sheet.tsv -f r.ref.fa -o out/bams
done
[[ $(cat precious/S1.bam) == keep && ! -e out/S1.bam && ! -e S1.bam ]] && ok "no file written outside the output folder" || not_ok "align wrote outside -o"

# ---- temporaries of a killed run ------------------------------------------------------------------
gf 1 simulate -o big -n 600 --variants 40000 --seed 2 -q
"$GENOFOREST" features big.vcf.gz -o big.h5 --region-size 20000 -q 2>/dev/null &
pid=$!
for _ in $(seq 200); do compgen -G "big.h5.tmp.*" >/dev/null && break; sleep 0.05; done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if compgen -G "big.h5.tmp.*" >/dev/null; then
  left=$(compgen -G "big.h5.tmp.*")
  gf 2 features big.vcf.gz -o big.h5 2> log.txt
  grep -q "removed 1 temporary file(s) of big.h5 left by a run that was killed: $left" log.txt && ! compgen -G "big.h5.tmp.*" >/dev/null \
    && ok "a killed features' temporary is removed by the next run, and the log says so" || { not_ok "stale temporary"; cat log.txt; ls; }
else
  not_ok "the killed features left no temporary to clean (it ended before the kill?)"
fi
echo other > big.h5.tmp.notours
gf 1 features big.vcf.gz -o big.h5 -q
[[ -e big.h5.tmp.notours ]] && ok "a file not of our naming is left alone" || not_ok "removed a file not ours"

# ---- one run per run folder ---------------------------------------------------------------------------
cat > p.ini <<'INI'
[simulate]
output = c
samples = 20
variants = 50
INI
mkdir -p run
echo "PID 4242 on elsewhere" > run/.genoforest-run.lock
flock -o -x run/.genoforest-run.lock sleep 30 &  # -o: the lock stays with flock, not with sleep
holder=$!
for _ in $(seq 100); do flock -n run/.genoforest-run.lock true 2>/dev/null || break; sleep 0.05; done
expect_exit "a second run in a run folder" 2 "another genoforest process \(PID 4242 on elsewhere\) is working in the run folder run" \
  run --config p.ini --run-dir run
[[ ! -e run/c.vcf.gz ]] && ok "the second run wrote nothing" || not_ok "the second run wrote into the folder"
pkill -P "$holder" sleep || true; wait "$holder" 2>/dev/null || true
gf 2 run --config p.ini --run-dir run -q && [[ -e run/c.vcf.gz ]] && ok "the folder is free again once its holder ends" || not_ok "run after the lock"

# ---- damaged and foreign inputs -----------------------------------------------------------------------
cp c.h5 damaged.h5
"$GF_TEST_TOOL" set-int32 damaged.h5 labels/code 3 9
expect_exit "a label code out of range" 3 "damaged.h5 dataset labels/code: entry 3 is 9, outside -1 \(missing\) \.\. 2 - 1" train damaged.h5 -o out.gfm --trees 5
expect_exit "--trees beyond the bound" 2 "--trees must be between 1 and 1000000" train c.h5 -o out.gfm --trees 4294967297
expect_exit "--sample-fraction 0" 2 "--sample-fraction must be in \(0, 1\] \(got 0" train c.h5 -o out.gfm --sample-fraction 0
# Another contig naming matches (chr1 against 1); another cohort's variants do not.
zcat c.vcf.gz | sed -e 's/^chr//' -e 's/<ID=chr/<ID=/' | bgzip > ens.vcf.gz
"$GF_TEST_TOOL" index ens.vcf.gz
gf 2 predict -m m.gfm ens.vcf.gz -o ens.tsv 2> ens.log
cmp -s ens.tsv file.tsv && grep -q "of the model's variants found under another naming of their contig (contig alias: chr1 (model) is 1 (input))" ens.log &&
  ok "predict matches '1' to the model's 'chr1', and says so" || { not_ok "contig aliases"; cat ens.log; }
gf 2 features ens.vcf.gz -r 1:1-20000 -o e1.h5 -q
gf 2 features ens.vcf.gz -r chr1:1-20000 -o e2.h5 2> e2.log
printf 'chr1\t0\t20000\n' > ucsc.bed
gf 2 features ens.vcf.gz -R ucsc.bed -o e3.h5 -q
same_store e1.h5 e2.h5 && same_store e1.h5 e3.h5 && grep -q "contig chr1 of -r/--regions is 1 in ens.vcf.gz (contig alias)" e2.log &&
  ok "features: -r chr1 and a BED on chr1 select contig 1 (logged)" || { not_ok "features contig alias"; cat e2.log; }
gf 1 simulate -o other -n 20 --variants 150 --spacing 777 --seed 9 -q
expect_exit "predict on other variants" 4 "other.vcf.gz: only [0-9]+ of the model's [0-9]+ variants are in this file \(--min-overlap 0.5\)" predict -m m.gfm other.vcf.gz -o out.tsv
gf 1 predict -m m.gfm other.vcf.gz -o low.tsv --min-overlap 0 -q && [[ $(wc -l < low.tsv) -eq 21 ]] && ok "--min-overlap 0 predicts anyway" || not_ok "--min-overlap 0"
# A phenotype table saved with a UTF-8 byte-order mark (as Excel writes CSV).
printf '\xef\xbb\xbf' > bom.tsv; cat c.pheno.tsv >> bom.tsv
gf 1 features c.vcf.gz -p bom.tsv -o bom.h5 -q && same_store c.h5 bom.h5 && ok "a BOM before the header is accepted" || not_ok "BOM"
finish
