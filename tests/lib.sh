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
