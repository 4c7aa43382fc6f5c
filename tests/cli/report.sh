#!/usr/bin/env bash
# genoforest report: a run without align and call gives a report without those sections; sample IDs
# that are HTML (and hold '/') stay text; a quantitative trait gets the predicted-against-observed
# plot; the same folder gives the same bytes; refusals. Each report is opened in headless Chromium.
source "$(dirname "$0")/../lib.sh"

# A binary trait, two sample IDs that are markup.
gf 1 simulate -o c -n 80 --variants 600 --populations 2 --causal 2 --heritability 0.9 --seed 5 -q
bad1='x/<script>alert(1)</script>'
bad2='a&b "q" <i>'
printf '%s\n%s\n' "$bad1" "$bad2" > names.txt
bcftools query -l c.vcf.gz | tail -n +3 >> names.txt
bcftools reheader -s names.txt -o r.vcf.gz c.vcf.gz && bcftools index -t r.vcf.gz
awk -v a="$bad1" -v b="$bad2" 'BEGIN {FS = OFS = "\t"} NR == 2 {$1 = a} NR == 3 {$1 = b} {print}' c.pheno.tsv > r.pheno.tsv
cat > bin.ini <<INI
[features]
input = $WORK/r.vcf.gz
phenotypes = $WORK/r.pheno.tsv
output = s.h5
[train]
input = s.h5
output = m.gfm
trees = 100
seed = 3
[cv]
input = s.h5
output = cv.json
predictions = cv.predictions.tsv
folds = 4
trees = 100
seed = 3
[pca]
input = s.h5
output = s
pcs = 4
INI
gf 2 run --config bin.ini --run-dir bin -q
check_report "$WORK/bin/genoforest-report.html" run-wall run-memory store-afs store-sample-missing store-variant-missing \
  pca-pc1-pc2-population pca-pc3-pc4-population pca-scree model-confusion model-roc model-manhattan \
  && ok "a run without align, call and cluster: report without those sections, every plot drawn in Chromium" || not_ok "binary report"
[[ ! -e bin/genoforest-report_reads_mqc.json && ! -e bin/genoforest-report_calls_mqc.json ]] && ok "no MultiQC tables without align and call" || not_ok "stray MultiQC tables"
# The markup in the IDs is data: the rendered page holds no element made from it.
n_scripts=$(grep -o "<script" "$WORK/bin/genoforest-report.html.dom.html" | wc -l)
n_specs=$(grep -o '<script type="application/json"' "$WORK/bin/genoforest-report.html.dom.html" | wc -l)
! grep -q "<script>alert" "$WORK/bin/genoforest-report.html" && [[ $n_scripts -eq $((n_specs + 3)) ]] && ! grep -q "<i>" "$WORK/bin/genoforest-report.html" \
  && ok "sample IDs with markup and '/' stay text (no element made of them)" || not_ok "markup from sample IDs reached the page ($n_scripts scripts, $n_specs specs)"
grep -q 'alert(1)' "$WORK/bin/genoforest-report.html" && ok "the odd sample IDs are in the report (as data)" || not_ok "odd IDs missing"

# The same folder, the same bytes; -o elsewhere.
gf 1 report bin -o "$WORK/again.html" -q
cmp -s bin/genoforest-report.html again.html && ok "genoforest report gives the bytes run wrote" || not_ok "report differs from run's"
cmp -s bin/genoforest-report.html <(gf 1 report bin -o "$WORK/third.html" -q; cat third.html) && ok "and again" || not_ok "report not deterministic"

# A quantitative trait: predicted against observed, no ROC nor confusion matrix.
gf 1 simulate -o q -n 80 --variants 600 --trait quantitative --causal 2 --heritability 0.9 --seed 6 -q
cat > quant.ini <<INI
[features]
input = $WORK/q.vcf.gz
phenotypes = $WORK/q.pheno.tsv
output = s.h5
[cv]
input = s.h5
output = cv.json
predictions = cv.predictions.tsv
folds = 4
trees = 60
seed = 3
INI
gf 2 run --config quant.ini --run-dir quant -q
check_report "$WORK/quant/genoforest-report.html" run-wall run-memory store-afs store-sample-missing store-variant-missing model-regression \
  && ok "a quantitative trait: predicted against observed, drawn in Chromium" || not_ok "quantitative report"

# Refusals: not a run folder; an output that is a file of the run.
mkdir empty
before=$(md5sum < bin/s.h5)
fails_once 3 "empty: not a run folder of 'genoforest run'" report empty && ok "a folder without a run is refused, naming it" || { cat stderr.txt; not_ok "empty folder"; }
fails_once 2 ".*s.h5" report bin -o bin/s.h5 && ok "a report over the run's store is refused" || { cat stderr.txt; not_ok "report over an input"; }
[[ $(md5sum < bin/s.h5) == "$before" ]] && ok "the store is intact" || not_ok "store changed"
# A damaged run report is named.
cp -r bin broken && echo '{"stages": 3' > broken/genoforest-run.json
fails_once 3 ".*genoforest-run.json: malformed JSON" report broken -o "$WORK/b.html" && ok "a damaged run report is named" || { cat stderr.txt; not_ok "damaged run report"; }
finish
