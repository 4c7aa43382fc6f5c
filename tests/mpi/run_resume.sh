#!/usr/bin/env bash
# genoforest run: the stages of a config in one run folder; a run stopped by SIGTERM (cleanly, at a
# task boundary) or killed outright (SIGKILL, as a node failure) resumes with the same command,
# redoing neither finished stages nor finished tasks, and ends with the outputs of an uninterrupted
# run; a finished run is skipped stage by stage; a changed section reruns from that stage; another
# config is refused in the same folder unless --force; an edited input file reruns its stage; a
# failing stage is named.
source "$(dirname "$0")/../lib.sh"
cat > p.ini <<'INI'
[simulate]
output = c
samples = 1000
variants = 6000
spacing = 60
ld-block = 10
causal = 10
seed = 4
reads = true
read-samples = 2
coverage = 30
[index]
reference = c.ref.fa
[align]
samples = c.samples.tsv
reference = c.ref.fa
output-dir = bams
batch-bases = 100000
chunk-bases = 100000
[call]
bam = bams/S000001.bam
bam = bams/S000002.bam
reference = c.ref.fa
output = c.called.vcf.gz
region-size = 20000
[features]
input = c.vcf.gz
phenotypes = c.pheno.tsv
output = c.h5
[train]
input = c.h5
output = c.gfm
trees = 400
seed = 3
[cv]
input = c.h5
output = c.cv.json
folds = 5
trees = 1500
seed = 3
INI
run() { local dir=$1; shift; gf 2 run --config "$WORK/p.ini" --run-dir "$dir" "$@"; }  # the folder names this test's processes for pkill
outputs_same() {  # A B: the final outputs agree (dates, command lines, folders and timings aside)
  local bad=""
  cmp -s <("$GF_TEST_TOOL" dump-vcf "$1/c.called.vcf.gz" | grep -v '^##reference=') \
    <("$GF_TEST_TOOL" dump-vcf "$2/c.called.vcf.gz" | grep -v '^##reference=') || bad+=" c.called.vcf.gz"
  "$GF_TEST_TOOL" same-model "$1/c.gfm" "$2/c.gfm" >/dev/null || bad+=" c.gfm"
  cmp -s "$1/c.gfm.importance.tsv" "$2/c.gfm.importance.tsv" || bad+=" c.gfm.importance.tsv"
  cmp -s <(grep -vE '_s"|date|command|"input"|"output"' "$1/c.cv.json") <(grep -vE '_s"|date|command|"input"|"output"' "$2/c.cv.json") || bad+=" c.cv.json"
  [[ -z "$bad" ]] || { echo "differ:$bad"; return 1; }
}
# interrupted_run DIR LOG PATTERN SIGNAL: runs in DIR; once PATTERN shows in LOG, signals the run
# (TERM to mpiexec, which passes it on; KILL to every process); sets rc to its exit status.
interrupted_run() {
  set +e
  run "$1" > "$2" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do grep -q "$3" "$2" 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
  if [[ $4 == KILL ]]; then pkill -KILL -f "genoforest run --config $WORK/p.ini" || true; else pkill -TERM -f "^$MPIEXEC .*genoforest run --config $WORK/p.ini" || true; fi
  wait $pid; rc=$?
  set -e
}

run A -q && ok "uninterrupted run" || not_ok "uninterrupted run failed"
grep -q '"status": "finished"' A/genoforest-run.json && ok "run report written" || not_ok "no run report"

# SIGTERM during cv: a clean stop, then a resume.
interrupted_run B b1.log "5-fold cross-validation" TERM   # logged as the cv tasks start (7,500 of them: a few seconds)
[[ $rc -ne 0 ]] && grep -q "error: stage cv: interrupted by SIGTERM after [0-9]* of 7500 tasks; finished tasks are kept" b1.log &&
  ok "SIGTERM stops cleanly: $(grep -o 'interrupted by SIGTERM after [0-9]* of 7500 tasks' b1.log)" || { not_ok "SIGTERM stop (exit $rc)"; cat b1.log; }
run B > b2.log 2>&1
grep -q "stage train: up to date" b2.log && grep -q "resuming: [0-9]* of 7500 tasks were finished by an earlier run" b2.log &&
  ok "rerun skips finished stages and $(grep -o 'resuming: [0-9]* of 7500' b2.log) tasks" || { not_ok "resume after SIGTERM"; cat b2.log; }
outputs_same A B && ok "resumed outputs identical to the uninterrupted run's" || not_ok "resumed outputs differ"

# SIGKILL of every process during train (a node failure): the journal still resumes.
interrupted_run C c1.log "stage train$" KILL
run C > c2.log 2>&1
grep -q "stage call: up to date" c2.log && ok "after SIGKILL: finished stages skipped" || { not_ok "after SIGKILL"; cat c2.log; }
outputs_same A C && ok "after SIGKILL: outputs identical to the uninterrupted run's" || not_ok "after SIGKILL: outputs differ"

# SIGTERM during align: QC, alignment and merge tasks resume from the kept temporary folder.
interrupted_run D d1.log "loaded the bwa index" TERM   # logged as the align tasks start
run D > d2.log 2>&1
if grep -q "stage align: interrupted" d1.log; then
  grep -q "resuming: [0-9]* \(of [0-9]* \)\?tasks were finished by an earlier run (align" d2.log && ok "align resumed: $(grep -o 'resuming: [0-9]* \(of [0-9]* \)\?tasks were finished by an earlier run (align[^)]*)' d2.log | head -1)" ||
    { not_ok "align did not resume"; cat d2.log; }
else
  echo "note: the signal did not reach align's tasks (exit $rc); resume of align not exercised this time"
fi
same_bams=1
for b in S000001 S000002; do
  cmp -s <("$GF_TEST_TOOL" dump-bam A/bams/$b.bam) <("$GF_TEST_TOOL" dump-bam D/bams/$b.bam) || same_bams=0
done
[[ $same_bams == 1 ]] && outputs_same A D && ok "after an interrupted align: BAMs and outputs identical" || not_ok "after an interrupted align: outputs differ"
ls -A D/bams | grep -q '^\.genoforest-align' && not_ok "temporary align folder left behind" || ok "no temporary align folder left"

run A > a2.log 2>&1
[[ $(grep -c "up to date" a2.log) -eq 7 ]] && ok "a finished run is skipped stage by stage" || { not_ok "finished run not skipped"; cat a2.log; }
sed -i 's/^folds = 5$/folds = 4/' p.ini
run A > a3.log 2>&1
grep -q "stage train: up to date" a3.log && grep -q "stage cv finished" a3.log && ok "a changed [cv] section reruns cv only" ||
  { not_ok "changed section"; cat a3.log; }
# An edited input reruns its stage (the manifest holds each input's size and MD5), a touched one does not.
cp A/c.pheno.tsv A/mine.pheno.tsv
sed -i 's/^phenotypes = c.pheno.tsv$/phenotypes = mine.pheno.tsv/' p.ini
run A --stages features,train > a4.log 2>&1
run A --stages features,train > a5.log 2>&1
[[ $(grep -c "up to date" a5.log) -eq 2 ]] || { not_ok "features/train not up to date after a rerun"; cat a5.log; }
touch A/mine.pheno.tsv
run A --stages features,train > a6.log 2>&1
[[ $(grep -c "up to date" a6.log) -eq 2 ]] && ok "a touched but unchanged input does not rerun its stage" || { not_ok "touched input reran"; cat a6.log; }
awk 'BEGIN{FS=OFS="\t"} NR==2{$2 = ($2 == "1") ? "0" : "1"} {print}' A/mine.pheno.tsv > A/mine.tmp && mv A/mine.tmp A/mine.pheno.tsv
run A --stages features,train > a7.log 2>&1
grep -q "stage features: input mine.pheno.tsv changed (size or MD5) since it last ran; running it again" a7.log &&
  grep -q "stage features finished" a7.log && grep -q "stage train finished" a7.log && ok "an edited phenotype table reruns features and train" ||
  { not_ok "edited input not noticed"; cat a7.log; }
grep -q "^input	features	mine.pheno.tsv	" A/genoforest-run.manifest && ok "the manifest records the input's size and MD5" || not_ok "input not in the manifest"
cp p.ini q.ini
set +e; gf 2 run --config q.ini --run-dir A > q.log 2>&1; rc=$?; set -e
[[ $rc -ne 0 ]] && grep -q "error: A/genoforest-run.manifest: this run folder holds a run of .*p.ini, not of .*q.ini; use another --run-dir, or --force" q.log &&
  ok "another config refused in the run folder" || { not_ok "another config accepted"; cat q.log; }
sed -i 's|^bam = bams/S000002.bam|bam = bams/nowhere.bam|' q.ini
set +e; gf 2 run --config q.ini --run-dir A --force --stages call > q2.log 2>&1; rc=$?; set -e
[[ $rc -eq 3 ]] && grep -q "^genoforest run: error: stage call: bams/nowhere.bam: alignment file not found" q2.log &&
  ok "a missing input names the stage: $(grep error q2.log)" || { not_ok "missing input (exit $rc)"; cat q2.log; }
echo -e "[run]\nbogus = 1" > bad.ini
set +e; gf 1 run --config bad.ini > bad.log 2>&1; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "bad.ini line 2: unknown key 'bogus' in section \[run\]" bad.log && ok "unknown key named with its file" || { not_ok "unknown key"; cat bad.log; }
finish
