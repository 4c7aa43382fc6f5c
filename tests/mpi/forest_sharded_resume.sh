#!/usr/bin/env bash
# The variant-sharded forest under `genoforest run`: stopped by SIGTERM (between groups of trees,
# on all ranks at once) or killed outright, it resumes from the journal of finished groups and
# ends with the model of an uninterrupted run.
source "$(dirname "$0")/../lib.sh"
cat > p.ini <<'INI'
[simulate]
output = c
samples = 1500
variants = 10000
causal = 5
seed = 4
output-type = h
[train]
input = c.h5
output = c.gfm
trees = 960
seed = 3
matrix = sharded
[cv]
input = c.h5
output = c.cv.json
folds = 3
trees = 960
seed = 3
matrix = sharded
INI
run() { local dir=$1; shift; gf 2 run --config "$WORK/p.ini" --run-dir "$dir" "$@"; }  # the folder names this test's processes for pkill
same_outputs() {
  "$GF_TEST_TOOL" same-model "$1/c.gfm" "$2/c.gfm" >/dev/null && cmp -s "$1/c.gfm.importance.tsv" "$2/c.gfm.importance.tsv" &&
    cmp -s <(grep -vE '_s"|date|command|"input"|"output"' "$1/c.cv.json") <(grep -vE '_s"|date|command|"input"|"output"' "$2/c.cv.json")
}
interrupted_run() {  # DIR LOG SIGNAL [PATTERN]: signals the run once PATTERN (the training's start) shows
  set +e
  run "$1" > "$2" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do grep -q "${4:-960 trees, mtry}" "$2" 2>/dev/null && break; sleep 0.1; done
  sleep 0.8
  if [[ $3 == KILL ]]; then pkill -KILL -f "genoforest run --config $WORK/p.ini" || true; else pkill -TERM -f "^$MPIEXEC .*genoforest run --config $WORK/p.ini" || true; fi
  wait $pid; rc=$?
  set -e
}
run A -q && ok "uninterrupted sharded run" || not_ok "uninterrupted run failed"

interrupted_run B b1.log TERM
[[ $rc -ne 0 ]] && grep -qE "error: stage train: interrupted by SIGTERM after [0-9]+ of 30 tasks; finished tasks are kept" b1.log &&
  ok "SIGTERM stops cleanly: $(grep -oE 'after [0-9]+ of 30 tasks' b1.log)" || { not_ok "SIGTERM stop (exit $rc)"; cat b1.log; }
run B > b2.log 2>&1 && ok "resumed after SIGTERM" || { not_ok "resume after SIGTERM"; cat b2.log; }
grep -qE "resuming: [0-9]+ of 30 tasks were finished by an earlier run \(train.sharded.trees32\)" b2.log &&
  ok "finished groups kept: $(grep -oE 'resuming: [0-9]+ of 30' b2.log)" || { not_ok "nothing resumed"; cat b2.log; }
same_outputs A B && ok "resumed model = uninterrupted model" || not_ok "resumed model differs"

interrupted_run C c1.log KILL
[[ $rc -ne 0 ]] && ok "killed (exit $rc)" || not_ok "kill did not stop the run"
run C > c2.log 2>&1 && ok "resumed after SIGKILL" || { not_ok "resume after SIGKILL"; cat c2.log; }
grep -qE "resuming: [1-9][0-9]* of 30 tasks" c2.log && ok "groups finished before the kill kept: $(grep -oE 'resuming: [0-9]+ of 30' c2.log)" ||
  { not_ok "nothing resumed after the kill"; cat c2.log; }
same_outputs A C && ok "model after a kill = uninterrupted model" || not_ok "model after a kill differs"

# cv: 3 folds x 30 groups of 32 trees, one collective task each.
interrupted_run D d1.log TERM "3-fold cross-validation"
[[ $rc -ne 0 ]] && grep -qE "error: stage cv: interrupted by SIGTERM after [0-9]+ of 90 tasks" d1.log &&
  ok "cv: SIGTERM stops cleanly: $(grep -oE 'after [0-9]+ of 90 tasks' d1.log)" || { not_ok "cv SIGTERM stop (exit $rc)"; cat d1.log; }
run D > d2.log 2>&1 && grep -qE "resuming: [0-9]+ of 90 tasks were finished by an earlier run \(cv.sharded.trees32\)" d2.log &&
  ok "cv resumed: $(grep -oE 'resuming: [0-9]+ of 90' d2.log)" || { not_ok "cv resume"; cat d2.log; }
same_outputs A D && ok "resumed CV report = uninterrupted report" || not_ok "resumed CV report differs"
finish
