#!/usr/bin/env bash
# --help goes to stdout and exits 0; misuse goes to stderr and exits 2; every option of a stage is
# in docs/cli.md (one reference, checked against --help).
source "$(dirname "$0")/../lib.sh"
"$GENOFOREST" --help > top.txt && grep -q "features" top.txt && ok "genoforest --help" || not_ok "top-level help"
set +e; "$GENOFOREST" bogus 2>err.txt; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "unknown stage 'bogus'" err.txt && ok "unknown stage: exit 2" || not_ok "unknown stage"
for stage in simulate index align features summary train cv predict pca cluster; do
  "$GENOFOREST" "$stage" --help > h.txt && ok "$stage --help exits 0" || not_ok "$stage --help"
  for opt in $(grep -oE -- '--[a-z][a-z-]+' h.txt | sort -u); do
    grep -q -- "$opt" "$SOURCE_DIR/docs/cli.md" || not_ok "docs/cli.md lacks $stage $opt"
  done
done
set +e; "$GENOFOREST" features --frobnicate 2>err.txt; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "unrecognised option '--frobnicate'" err.txt && ok "unknown option: exit 2" || { not_ok "unknown option"; cat err.txt; }
# --version: the version and commit, and the libraries built with and running.
"$GENOFOREST" --version > version.txt
grep -qE '^genoforest [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-f]{7,}(-dirty)?|^genoforest [0-9.]+ \(git unknown' version.txt &&
  grep -qE '^htslib [0-9]+\.[0-9]+ \(built with\), [0-9.]+' version.txt && grep -qE '^HDF5 [0-9]+\.[0-9]+\.[0-9]+ \(built with, parallel\)' version.txt &&
  grep -qE '^(Open MPI [0-9]+\.[0-9]+|MPI: )' version.txt && grep -qE '^bwa ' version.txt && grep -qE '^Eigen [0-9.]+, Boost [0-9.]+$' version.txt &&
  ok "--version names the commit and the libraries: $(head -1 version.txt)" || { not_ok "--version"; cat version.txt; }
finish
