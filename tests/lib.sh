# Shared helpers for the integration tests (sourced). Each test works in its own temp folder.
set -euo pipefail
: "${GENOFOREST:?}" "${MPIEXEC:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gf-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
PASSED=0
FAILED=0

# gf N ARGS...: genoforest on N ranks (oversubscribed, as root in CI).
# gf N ARGS...: genoforest on N ranks. GF_MAX_RANKS (set by the sanitizer run, scripts/test.sh) caps N:
# there the runs look for memory errors, and two ranks exercise every message path.
gf() {
  local n=$1; shift
  if [[ -n "${GF_MAX_RANKS:-}" && $n -gt $GF_MAX_RANKS ]]; then n=$GF_MAX_RANKS; fi
  "$MPIEXEC" -n "$n" --oversubscribe "$GENOFOREST" "$@"
}
ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
not_ok() { echo "NOT OK: $*"; FAILED=$((FAILED + 1)); }
# same_store A B: identical datasets and attributes, provenance (dates, command lines) aside.
same_store() { "$H5DIFF" --exclude-path /provenance "$1" "$2"; }
finish() { echo "$PASSED passed, $FAILED failed"; [[ $FAILED -eq 0 ]]; }
# fails_once CODE PATTERN STAGE ARGS...: runs STAGE on 2 ranks; true when it exits CODE with exactly
# one error line, "genoforest STAGE: error: PATTERN..." (stdout.txt, stderr.txt and rc are left).
fails_once() {
  local code=$1 pattern=$2 stage=$3; shift 3
  set +e
  gf 2 "$stage" "$@" >stdout.txt 2>stderr.txt
  rc=$?
  set -e
  local lines; lines=$(grep -c "error" stderr.txt || true)
  [[ $rc -eq $code && $lines -eq 1 ]] && grep -qE "^genoforest $stage: error: $pattern" stderr.txt
}

# kill_rank_1 JOB PATTERN LOG SECONDS: for a job started in the background (pid JOB) whose ranks'
# command lines contain PATTERN: once LOG says the data is loaded, SIGKILLs its rank 1 (as a node
# failure would) and waits up to SECONDS for the job to end. Sets victim (the killed pid, "" if
# none was found) and rc (the job's exit status; 124 when it was still running: a hang).
kill_rank_1() {
  local job=$1 pattern=$2 log=$3 seconds=$4 p
  victim=""
  for _ in $(seq 300); do
    for p in $(pgrep -f "$pattern" || true); do
      tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && victim=$p
    done
    [[ -n "$victim" ]] && grep -q "loaded in" "$log" 2>/dev/null && break
    sleep 0.1
  done
  sleep 1
  [[ -n "$victim" ]] && kill -KILL "$victim"
  for _ in $(seq $((seconds * 10))); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$job" 2>/dev/null; then
    pkill -KILL -f "$pattern" || true
    rc=124
  else
    wait "$job"
    rc=$?
  fi
}

# ---- Emulated nodes: a real multi-node Open MPI job on one machine (../shared/slurm-mpi-notes.md §5) ----
# Open MPI starts each "remote" node's daemon through its rsh agent; ours runs the command here, in a
# new UTS namespace whose hostname is the node's name. The nodes are loopback addresses other than
# 127.0.0.1 (127.0.0.2, .3, ...), which Open MPI does not take for this host, so no /etc/hosts entry
# is needed: each node gets its own orted, its own local ranks and shared-memory group, and the
# nodes talk TCP over lo.
# multinode_or_skip: writes the agent, or exits 77 (ctest: skipped) with the reason where it cannot run.
multinode_or_skip() {
  if [[ $(id -u) -ne 0 ]]; then echo "skip: emulated nodes need root (unshare --uts)"; exit 77; fi
  if ! unshare --uts true 2>unshare.err; then
    echo "skip: emulated nodes need 'unshare --uts' ($(head -1 unshare.err))"; exit 77
  fi
  cat > "$WORK/node-agent" <<'SH'
#!/bin/bash
# rsh agent: "node-agent [options] HOST CMD..." runs CMD here, in a new UTS namespace named HOST
while [[ $1 == -* ]]; do shift; done
host=$1; shift
exec unshare --uts bash -c "hostname $host; $*"   # a shell line (PATH=...; export PATH; orted ...)
SH
  chmod +x "$WORK/node-agent"
}
# node_launcher NODES RANKS: the mpirun command (one line, no genoforest) for NODES emulated nodes x
# RANKS ranks each (multinode_or_skip first).
node_launcher() {
  local nodes=$1 ranks=$2 hosts="" i
  for ((i = 0; i < nodes; ++i)); do hosts+="${hosts:+,}127.0.0.$((i + 2)):$ranks"; done
  echo "$MPIEXEC --mca plm_rsh_agent $WORK/node-agent --mca btl self,vader,tcp --mca btl_tcp_if_include lo" \
    "--mca oob_tcp_if_include lo --host $hosts -n $((nodes * ranks))"
}
# gfn NODES RANKS ARGS...: genoforest on NODES emulated nodes x RANKS ranks each.
gfn() {
  local -a launcher
  read -r -a launcher <<< "$(node_launcher "$1" "$2")"
  shift 2
  "${launcher[@]}" "$GENOFOREST" "$@"
}

# check_report HTML PLOT_ID...: opens a genoforest report in headless Chromium (offline: no network
# is reachable from a file: page that inlines everything) and checks that every plot renders. Writes
# HTML.png (a screenshot) and HTML.dom.html (the DOM once rendered). True when: the page's own
# check counted as many rendered plots as PLOT_IDs and no error; the plots on the page are exactly
# PLOT_IDs; each one's SVG holds data marks (counted here, in the DOM); and Chromium logged no
# console message. Prints what fails.
check_report() {
  local html=$1; shift
  local flags=(--headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions
               --virtual-time-budget=20000 --user-data-dir="$WORK/chromium-profile")
  timeout 120 chromium "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$html" > "$html.dom.html" 2> "$html.chromium.log" || {
    echo "chromium failed on $html"; tail -5 "$html.chromium.log"; return 1; }
  timeout 120 chromium "${flags[@]}" --window-size=1280,2400 --screenshot="$html.png" "file://$html" > /dev/null 2>&1 || true
  [[ -s "$html.png" ]] || { echo "no screenshot of $html"; return 1; }
  if grep -E "CONSOLE|Uncaught" "$html.chromium.log"; then echo "console messages in $html"; return 1; fi
  python3 - "$html.dom.html" "$@" <<'PY'
import sys
from html.parser import HTMLParser
dom, expected = sys.argv[1], sys.argv[2:]
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.body = {}; self.plots = {}; self.stack = []; self.marks = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'body': self.body = a
        plot = a.get('data-plot')
        parent = self.stack[-1] if self.stack else (None, None, False)
        cur = plot if plot else parent[0]
        in_mark = tag == 'g' and 'role-mark' in (a.get('class') or '').split()
        if plot: self.plots[plot] = a
        if parent[2] and tag in ('path', 'text', 'line', 'rect') and cur: self.marks[cur] = self.marks.get(cur, 0) + 1
        if tag not in ('path', 'line', 'rect', 'circle', 'meta', 'br', 'img', 'input'): self.stack.append((cur, tag, in_mark))
    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][1] == tag: del self.stack[i:]; break
p = P(); p.feed(open(dom, encoding='utf-8').read())
bad = []
if p.body.get('data-errors') != '0': bad.append('page errors: %s' % p.body.get('data-errors'))
if p.body.get('data-rendered') != str(len(expected)): bad.append('rendered %s plots, expected %d' % (p.body.get('data-rendered'), len(expected)))
if sorted(p.plots) != sorted(expected): bad.append('plots %s, expected %s' % (sorted(p.plots), sorted(expected)))
for e in expected:
    if p.marks.get(e, 0) < 1 or int(p.plots.get(e, {}).get('data-marks', '0')) < 1: bad.append('plot %s has no marks (%d)' % (e, p.marks.get(e, 0)))
print('report %s: %d plots, marks %s' % (dom, len(p.plots), {k: p.marks.get(k, 0) for k in sorted(p.plots)}))
for b in bad: print('  ' + b)
sys.exit(1 if bad else 0)
PY
}
