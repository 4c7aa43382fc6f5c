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
