#!/usr/bin/env bash
# configs/demo.ini, as the README's demo command runs it (scripts/demo.sh), on 2 ranks: the whole
# chain from reads, a model that learns, and a report that renders in a browser.
source "$(dirname "$0")/lib.sh"
start=$SECONDS
GENOFOREST="$GENOFOREST" RANKS=2 OUTDIR="$WORK/demo" bash "$SOURCE_DIR/scripts/demo.sh" > demo.txt 2>&1 || { cat demo.txt; not_ok "demo failed"; finish; }
echo "demo took $((SECONDS - start)) s"
cat demo.txt
D="$WORK/demo"
grep -qE "^samples +200$" demo.txt && ok "demo prints the store summary (200 samples)" || not_ok "demo summary"
n_bams=$(ls "$D"/bams/S*.bam.bai | wc -l)
[[ $n_bams -eq 200 && $(wc -l < "$D/bams/bams.list") -eq 200 ]] &&
  awk '/"mapped_fraction"/ {gsub(",", "", $2); exit !($2 >= 0.99)}' "$D/bams/S000001.qc.json" \
  && ok "demo aligns all 200 samples (>= 99% mapped) and lists their BAMs" || not_ok "demo BAMs ($n_bams)"
grep -q '"insert_size_median": [0-9]' "$D/bams/S000001.qc.json" && ok "QC reports the insert size" || not_ok "no insert size"
[[ $(bcftools query -l "$D/cohort.called.vcf.gz" | wc -l) -eq 200 && -s "$D/cohort.called.vcf.gz.tbi" ]] \
  && ok "demo calls the 200 samples jointly" || not_ok "demo calls"
h5dump -a provenance/inputs "$D/cohort.h5" > prov.txt && grep -q "cohort.called.vcf.gz" prov.txt && ! grep -q "cohort.vcf.gz" prov.txt \
  && ok "the store is built from the called VCF" || { cat prov.txt; not_ok "store input"; }
auc=$(grep -o '"auc": {"mean": [0-9.]*' "$D/cohort.cv.json" | grep -o '[0-9.]*$')
awk -v a="$auc" 'BEGIN { exit !(a >= 0.80) }' && ok "CV AUC on the called genotypes $auc >= 0.80" || not_ok "CV AUC $auc < 0.80"
# A planted causal variant (chrom, pos) among the 10 most important.
tail -n +2 "$D/cohort.truth.tsv" | cut -f1,2 | sort > causal.txt
awk -F"\t" -v OFS="\t" "NR > 1 && NR <= 11 {print \$1, \$2}" "$D/cohort.gfm.importance.tsv" | sort > top10.txt
[[ -n $(comm -12 causal.txt top10.txt) ]] && ok "a causal variant is in the top 10 ($(comm -12 causal.txt top10.txt | tr '\t\n' ': '))" \
  || { cat causal.txt top10.txt; not_ok "no causal variant in the top 10"; }
grep -qE "^CV AUC 0\.[0-9]{3} from the called genotypes .* against 0\.[0-9]{3} from the true genotypes" demo.txt \
  && ok "demo compares the model on called and on true genotypes" || not_ok "no comparison line"
[[ $(wc -l < "$D/cohort.predictions.tsv") -eq 201 ]] && ok "demo predicts 200 samples" || not_ok "demo predictions"
grep -q "report: $D/genoforest-report.html" demo.txt && [[ -s "$D/genoforest-report.html" ]] \
  && ok "demo ends with the report's path" || not_ok "no report path"
check_report "$D/genoforest-report.html" run-wall run-memory reads-counts reads-mapping reads-insert calls-depth calls-genotypes \
  calls-titv calls-types calls-filter store-afs store-sample-missing store-variant-missing pca-pc1-pc2-population \
  pca-pc1-pc2-cluster pca-pc3-pc4-population pca-pc3-pc4-cluster pca-scree model-confusion model-roc model-manhattan \
  && ok "the demo's report renders every plot in Chromium, no console error (screenshot kept as tests/artifacts/demo-report.png)" \
  || not_ok "demo report in Chromium"
for f in reads calls; do
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['plot_type']=='table' and len(d['data'])==200 and d['id']" \
    "$D/genoforest-report_${f}_mqc.json" && ok "MultiQC custom content for $f (200 samples)" || not_ok "MultiQC $f"
done
# The test's folder is removed at exit: the screenshot is kept in the build tree (tests/artifacts).
if [[ -n "${GF_KEEP_ARTIFACTS:-}" ]]; then mkdir -p "$GF_KEEP_ARTIFACTS" && cp "$D/genoforest-report.html.png" "$GF_KEEP_ARTIFACTS/demo-report.png"; fi
finish
