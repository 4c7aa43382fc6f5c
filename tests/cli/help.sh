#!/usr/bin/env bash
# --help goes to stdout and exits 0; misuse goes to stderr and exits 2; every option of a stage is
# in docs/cli.md (one reference, checked against --help).
source "$(dirname "$0")/../lib.sh"
"$GENOFOREST" --help > top.txt && grep -q "features" top.txt && ok "genoforest --help" || not_ok "top-level help"
set +e; "$GENOFOREST" bogus 2>err.txt; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "unknown stage 'bogus'" err.txt && ok "unknown stage: exit 2" || not_ok "unknown stage"
for stage in run simulate index align call features summary train cv predict model pca cluster report explain; do
  "$GENOFOREST" "$stage" --help > h.txt && ok "$stage --help exits 0" || not_ok "$stage --help"
  for opt in $(grep -oE -- '--[a-z][a-z-]+' h.txt | sort -u); do
    grep -q -- "$opt" "$SOURCE_DIR/docs/cli.md" || not_ok "docs/cli.md lacks $stage $opt"
  done
done
# A short option means one thing in every stage (the table of docs/cli.md).
declare -A allowed=([o]="output output-dir" [O]="output-type" [f]="reference" [r]="regions" [R]="regions-file"
  [s]="samples" [S]="samples samples-file" [@]="threads" [p]="phenotypes" [m]="model" [k]="folds clusters" [n]="samples"
  [b]="bam-list" [v]="verbosity" [q]="quiet" [h]="help")
clash=""
for stage in run simulate index align call features summary train cv predict model pca cluster report explain; do
  while read -r letter long; do
    [[ " ${allowed[$letter]:-} " == *" $long "* ]] || clash+=" $stage:-$letter=--$long"
  done < <("$GENOFOREST" "$stage" --help | sed -nE 's/^  -(.) \[ --([a-zA-Z-]+) \].*/\1 \2/p')
done
[[ -z "$clash" ]] && ok "every short option means what the table says, in every stage" || not_ok "short options off the table:$clash"
# Retired letters still work, as their long option, with a warning naming the new form.
"$GENOFOREST" simulate -o old -n 10 -m 40 -k 2 -q 2> old.txt && [[ $(zcat old.vcf.gz | grep -vc '^#') -eq 40 ]] &&
  grep -q "warning: -m (--variants) is retired: write --variants" old.txt && grep -q "warning: -k (--populations) is retired" old.txt &&
  ok "simulate -m/-k still work, with a warning" || { not_ok "retired simulate letters"; cat old.txt; }
set +e; "$GENOFOREST" align -s nope.tsv -r nope.fa -t 2 -o out 2> old2.txt; set -e
grep -q "warning: -s (--samples) is retired: write -S" old2.txt && grep -q "warning: -r (--reference) is retired: write -f" old2.txt &&
  grep -q "warning: -t (--threads) is retired: write -@" old2.txt && grep -q "error: nope.fa: no such reference FASTA" old2.txt &&
  ok "align -s/-r/-t are read as -S/-f/-@, with warnings" || { not_ok "retired align letters"; cat old2.txt; }
set +e; "$GENOFOREST" features --frobnicate 2>err.txt; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "unrecognised option '--frobnicate'" err.txt && ok "unknown option: exit 2" || { not_ok "unknown option"; cat err.txt; }
# --version: the version and commit, and the libraries built with and running.
"$GENOFOREST" --version > version.txt
grep -qE '^genoforest [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-f]{7,}(-dirty)?|^genoforest [0-9.]+ \(git unknown' version.txt &&
  grep -qE '^htslib [0-9]+\.[0-9]+ \(built with\), [0-9.]+' version.txt && grep -qE '^HDF5 [0-9]+\.[0-9]+\.[0-9]+ \(built with, parallel\)' version.txt &&
  grep -qE '^(Open MPI [0-9]+\.[0-9]+|MPI: )' version.txt && grep -qE '^bwa ' version.txt && grep -qE '^Eigen [0-9.]+, Boost [0-9.]+$' version.txt &&
  ok "--version names the commit and the libraries: $(head -1 version.txt)" || { not_ok "--version"; cat version.txt; }
finish
