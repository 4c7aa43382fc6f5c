#!/usr/bin/env bash
# configs/demo.ini, as the README's demo command runs it (scripts/demo.sh), on 2 ranks.
source "$(dirname "$0")/lib.sh"
GENOFOREST="$GENOFOREST" RANKS=2 OUTDIR="$WORK/demo" bash "$SOURCE_DIR/scripts/demo.sh" > demo.txt 2>&1 || { cat demo.txt; not_ok "demo failed"; finish; }
cat demo.txt
grep -qE "^samples +[0-9]+" demo.txt && ok "demo prints the store summary" || not_ok "demo summary"
[[ -s "$WORK/demo/cohort.gfm" && -s "$WORK/demo/cohort.gfm.importance.tsv" ]] && ok "demo model and importances written" || not_ok "no demo model"
grep -qE "^mean " demo.txt && [[ -s "$WORK/demo/cohort.cv.json" ]] && ok "demo CV table and report" || not_ok "no demo CV"
[[ $(wc -l < "$WORK/demo/cohort.predictions.tsv") -eq 1001 ]] && ok "demo predicts 1000 samples" || not_ok "demo predictions"
ls "$WORK"/demo/bams/S00000[1-4].bam.bai >/dev/null &&
  awk '/"mapped_fraction"/ {gsub(",", "", $2); exit !($2 >= 0.99)}' "$WORK/demo/bams/S000001.qc.json" \
  && ok "demo aligns 4 samples (>= 99% mapped)" || not_ok "demo BAMs"
[[ -s "$WORK/demo/cohort.called.vcf.gz.tbi" ]] && ok "demo calls the 4 sequenced samples" || not_ok "no demo calls"
[[ -f "$WORK/demo/cohort.h5" ]] && ok "demo store written" || not_ok "no demo store"
finish
