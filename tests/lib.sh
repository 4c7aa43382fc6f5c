# Shared helpers for the integration tests (sourced). Each test works in its own temp folder.
set -euo pipefail
: "${GENOFOREST:?}" "${MPIEXEC:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gf-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
PASSED=0
FAILED=0

# gf N ARGS...: genoforest on N ranks (oversubscribed, as root in CI).
gf() { local n=$1; shift; "$MPIEXEC" -n "$n" --oversubscribe "$GENOFOREST" "$@"; }
ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
not_ok() { echo "NOT OK: $*"; FAILED=$((FAILED + 1)); }
# same_store A B: identical datasets and attributes, provenance (dates, command lines) aside.
same_store() { "$H5DIFF" --exclude-path /provenance "$1" "$2"; }
finish() { echo "$PASSED passed, $FAILED failed"; [[ $FAILED -eq 0 ]]; }
