#!/usr/bin/env bash
# Installing: `cmake --install` puts the binary, its manual page, the docs, the Slurm job scripts and
# the config templates under a prefix, and the installed binary runs; the Debian package (cpack)
# declares its dependencies (the shared libraries it links, found by dpkg-shlibdeps, and
# openmpi-bin), they are satisfiable here, and it unpacks into a clean root whose genoforest runs.
source "$(dirname "$0")/../lib.sh"
: "${BUILD_DIR:?}"
if [[ ! -f "$BUILD_DIR/genoforest.1.gz" ]]; then
  echo "skip: $BUILD_DIR has no manual page (sanitizer and fuzz builds do not make one)"
  exit 77
fi

P=$WORK/prefix
cmake --install "$BUILD_DIR" --prefix "$P" > install.log
missing=""
for f in bin/genoforest share/man/man1/genoforest.1.gz share/doc/genoforest/README.md share/doc/genoforest/errors.md \
  share/doc/genoforest/cli.md share/doc/genoforest/feature-store.md share/genoforest/configs/demo.ini \
  share/genoforest/configs/cohort-template.ini share/genoforest/slurm/run.sbatch share/genoforest/slurm/chain.sh; do
  [[ -f "$P/$f" ]] || missing+=" $f"
done
[[ -z "$missing" ]] && ok "cmake --install: binary, manual page, docs, configs and Slurm scripts" || { not_ok "not installed:$missing"; cat install.log; }
[[ -x "$P/share/genoforest/slurm/chain.sh" ]] && ok "Slurm scripts keep their execute bit" || not_ok "chain.sh not executable"
"$P/bin/genoforest" --version > v.txt 2>&1 && grep -q "^genoforest [0-9]" v.txt && grep -q "htslib" v.txt &&
  ok "the installed binary runs: $(head -1 v.txt)" || { not_ok "installed binary"; cat v.txt; }
zcat "$P/share/man/man1/genoforest.1.gz" > g.1
grep -q '^\.TH GENOFOREST 1' g.1 && grep -q '^\.SS genoforest train' g.1 && grep -q '\\-\\-trees' g.1 && grep -q '^\.SH EXIT STATUS' g.1 &&
  ok "manual page: every stage's options and the exit codes" || not_ok "manual page incomplete"
if command -v man > /dev/null; then
  man -l g.1 2>/dev/null | grep -q "genoforest cv" && ok "man renders it" || not_ok "man cannot render the page"
fi

cpack --config "$BUILD_DIR/CPackConfig.cmake" -B "$WORK/pkg" > cpack.log 2>&1 || { not_ok "cpack failed"; cat cpack.log; finish; }
deb=$(ls "$WORK"/pkg/genoforest_*_amd64.deb)
deps=$(dpkg-deb -f "$deb" Depends)
missing=""
for p in openmpi-bin libhts3 libhdf5-openmpi libopenmpi3 libboost-program-options libstdc++6; do
  grep -q "$p" <<< "$deps" || missing+=" $p"
done
[[ -z "$missing" ]] && ok "the package declares its dependencies: $deps" || not_ok "Depends lacks$missing: $deps"
unknown=""
for p in $(tr ',' '\n' <<< "$deps" | sed 's/(.*//' | tr -d ' '); do
  dpkg-query -W "$p" > /dev/null 2>&1 || unknown+=" $p"
done
[[ -z "$unknown" ]] && ok "every dependency is a Debian package installed here" || not_ok "dependencies not installed here:$unknown"
dpkg-deb -c "$deb" > contents.txt
grep -q '\./usr/bin/genoforest$' contents.txt && grep -q '\./usr/share/man/man1/genoforest.1.gz$' contents.txt &&
  grep -q '\./usr/share/doc/genoforest/README.md$' contents.txt && grep -q '\./usr/share/genoforest/slurm/run.sbatch$' contents.txt &&
  ok "the package holds the binary, manual page, docs and Slurm scripts under /usr" || { not_ok "package contents"; cat contents.txt; }
dpkg-deb -x "$deb" root
root/usr/bin/genoforest --version > v2.txt 2>&1 && grep -q "^genoforest [0-9]" v2.txt &&
  ok "unpacked into a clean root, its genoforest runs" || { not_ok "packaged binary"; cat v2.txt; }
if [[ $(id -u) -eq 0 ]]; then
  dpkg --dry-run -i "$deb" > dry.log 2>&1 && ok "dpkg would install it here (dependencies satisfied)" || { not_ok "dpkg --dry-run -i"; cat dry.log; }
fi
finish
