#!/usr/bin/env bash
# INI files: the [stage] section sets the same options as the command line; the command line
# wins; an unknown key or section is an error naming it and the file.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 30 --variants 300 --seed 4 -q
cat > run.ini <<'INI'
# a comment
[simulate]
samples = 99
[features]
input = c.vcf.gz
phenotypes = c.pheno.tsv
output = cfg.h5
snps-only = true
min-maf = 0.05   # inline comment
INI
gf 2 features --config run.ini -q
gf 2 features c.vcf.gz -p c.pheno.tsv -o cli.h5 --snps-only --min-maf 0.05 -q
same_store cfg.h5 cli.h5 && ok "config file = command line" || not_ok "config and command line differ"
gf 2 features --config run.ini -o override.h5 --min-maf 0.2 -q
[[ -f override.h5 ]] && ok "command line overrides the file" || not_ok "no override"
n_cfg=$(h5dump -H cfg.h5 | grep -A3 'DATASET "pos"' | grep -o 'DATASPACE.*' | head -1)
n_ovr=$(h5dump -H override.h5 | grep -A3 'DATASET "pos"' | grep -o 'DATASPACE.*' | head -1)
[[ "$n_cfg" != "$n_ovr" ]] && ok "--min-maf 0.2 from the command line took effect" || not_ok "override ignored"
printf '[features]\nmin-mafs = 0.1\n' > typo.ini
set +e; gf 2 features c.vcf.gz -o t.h5 --config typo.ini 2>stderr.txt; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "typo.ini line 2: unknown key 'min-mafs' in section \[features\]" stderr.txt \
  && ok "unknown key named with file and line" || { not_ok "unknown key (exit $rc)"; cat stderr.txt; }
printf '[featurez]\n' > sect.ini
set +e; gf 1 features c.vcf.gz -o t.h5 --config sect.ini 2>stderr.txt; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "sect.ini line 1: unknown section \[featurez\]" stderr.txt && ok "unknown section" || { not_ok "unknown section"; cat stderr.txt; }
printf '[features]\nmin-maf = lots\n' > val.ini
set +e; gf 1 features c.vcf.gz -o t.h5 --config val.ini 2>stderr.txt; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "val.ini" stderr.txt && grep -q "min-maf" stderr.txt && ok "bad value names key and file" || { not_ok "bad value"; cat stderr.txt; }
set +e; gf 1 features --config nope.ini 2>stderr.txt; rc=$?; set -e
[[ $rc -eq 6 ]] && grep -q "^genoforest features: error: cannot read config file nope.ini: No such file or directory" stderr.txt \
  && ok "missing config file: exit 6 (a missing file), named" || { not_ok "missing config (exit $rc)"; cat stderr.txt; }
mkdir -p cfgdir
set +e; gf 1 run --config cfgdir 2>stderr.txt; rc=$?; set -e
[[ $rc -eq 6 ]] && grep -q "cannot read config file cfgdir: it is a folder" stderr.txt \
  && ok "a folder as config: exit 6" || { not_ok "folder as config (exit $rc)"; cat stderr.txt; }
# Found by fuzz_ini: a line without its key (boost's "ambiguous option" escaped as an internal error).
printf '[features]\n = x.h5\n' > nokey.ini
set +e; gf 1 features c.vcf.gz -o t.h5 --config nokey.ini 2>stderr.txt; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "nokey.ini line 2: a line '= value' without its key" stderr.txt \
  && ok "a config line without its key: exit 2, named" || { not_ok "config line without key (exit $rc)"; cat stderr.txt; }
finish
