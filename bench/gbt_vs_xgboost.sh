#!/usr/bin/env bash
# Benchmark: gradient-boosted trees, `genoforest cv --model gbt` (1 and 2 ranks) against XGBoost
# (Debian's python3-xgboost, tree_method hist, max_bin 256: exact on 0/1/2/missing) with the same
# folds (genoforest writes its fold assignment; XGBoost uses it) and the same parameters (rounds,
# depth, eta, lambda, min child weight), on three label sets:
#   sim:     a simulated cohort whose label comes from two interacting pairs of common variants
#            (the HipsterIndex formula on 4 columns of the simulated store);
#   hipster: 1000 Genomes phase 3 (2,504 x 17,090 columns, ../shared/data), the HipsterIndex label;
#   super:   the same genotypes, the super-population (5 classes, softmax).
# Prints, per set, the mean CV accuracy and AUC of each tool, wall time and peak memory (medians of
# REPS runs), and the ratios. genoforest's time is the whole command (store load included);
# XGBoost's is its CV loop alone (the matrix already in memory, read by h5py beforehand).
# Not a test: run it by hand.
#   bench/gbt_vs_xgboost.sh [SAMPLES] [VARIANTS]   (the simulated set; default 2000 x 20000)
#   env: ROUNDS (200), DEPTH (6), ETA (0.1), FOLDS (5), REPS (3), SETS ("sim hipster super"), BENCH_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-2000}; M=${2:-20000}
ROUNDS=${ROUNDS:-200}; DEPTH=${DEPTH:-6}; ETA=${ETA:-0.1}; FOLDS=${FOLDS:-5}; REPS=${REPS:-3}; SETS=${SETS:-sim hipster super}
"$root/scripts/install-deps.sh" --bench >/dev/null
"$root/scripts/build.sh" >/dev/null
source "$root/bench/lib.sh"
G="$root/build/genoforest"
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
W=${BENCH_DIR:-$(mktemp -d /tmp/gf-gbt-bench.XXXXXX)}
mkdir -p "$W" && cd "$W"
hip="$root/../shared/data/1kg-phase3-hipster"

# The stores.
if [[ " $SETS " == *" sim "* && ! -f sim.h5 ]]; then
  "$G" simulate -o c -n "$N" --variants "$M" --seed 12 -@ 2 -q
  mpirun -n 2 "$G" features c.vcf.gz -o c.h5 --min-maf 0.01 -q
  "$PY" - <<'PY'
import h5py, numpy as np
f = h5py.File("c.h5", "r")
af = f["variants/af"][:]
cols = [j for j in range(len(af)) if 0.2 < af[j] < 0.8][::997][:4]   # four common columns, spread out
g = f["genotypes/dosage"][:, cols].astype(float); g[g < 0] = 0
score = (2 + g[:, 0]) * (1.5 + g[:, 1]) + (0.5 + g[:, 2]) * (1 + g[:, 3])
label = (score > np.median(score)).astype(int)
ids = f["samples/id"].asstr()[:]
with open("sim.pheno.tsv", "w") as o:
    o.write("sample_id\tlabel\n")
    for i, l in zip(ids, label): o.write(f"{i}\t{l}\n")
print("sim: causal columns", [f"{f['variants/chrom'].asstr()[j]}:{f['variants/pos'][j]}" for j in cols])
PY
  mpirun -n 2 "$G" features c.vcf.gz -p sim.pheno.tsv -o sim.h5 --min-maf 0.01 -q
fi
if [[ " $SETS " == *" hipster "* || " $SETS " == *" super "* ]] && [[ ! -f hipster.h5 ]]; then
  [[ -f "$hip/hipster.vcf.bgz" ]] || { echo "no $hip/hipster.vcf.bgz: run with SETS=sim" >&2; exit 1; }
  cp "$hip/hipster.vcf.bgz" h.vcf.gz && tabix -f -p vcf h.vcf.gz
  awk -F'\t' 'NR==FNR {pop[$1]=$3; next} FNR==1 {print "sample_id\tlabel\tpopulation"; next} {split($0,f,","); print f[1] "\t" f[3] "\t" pop[f[1]]}' \
    "$hip/integrated_call_samples_v3.20130502.ALL.panel" "$hip/hipster_labels.txt" > hipster.pheno.tsv
  awk 'BEGIN {FS = OFS = "\t"} NR == 1 {print "sample_id", "label"; next} {print $1, $3}' hipster.pheno.tsv > super.pheno.tsv
  mpirun -n 2 "$G" features h.vcf.gz -p hipster.pheno.tsv -o hipster.h5 -q
  mpirun -n 2 "$G" features h.vcf.gz -p super.pheno.tsv -o super.h5 -q
fi

P=(--model gbt --rounds "$ROUNDS" --max-depth "$DEPTH" --eta "$ETA" -k "$FOLDS" --seed 1)
rm -f ./*.times
for set in $SETS; do
  # The matrix for XGBoost, once: missing calls as NaN.
  [[ -f $set.npz ]] || "$PY" - "$set" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1] + ".h5", "r")
x = f["genotypes/dosage"][:].astype(np.float32); x[x < 0] = np.nan
y = f["labels/code"][:]; keep = y >= 0
np.savez(sys.argv[1] + ".npz", x=x[keep], y=y[keep], ids=f["samples/id"].asstr()[:][keep], k=len(f["labels/classes"]))
PY
  for r in $(seq "$REPS"); do
    measure "$set.gf1" mpirun -n 1 "$G" cv "$set.h5" "${P[@]}" --assignments "$set.folds.tsv" -o "$set.gf.json"
    measure "$set.gf2" mpirun -n 2 "$G" cv "$set.h5" "${P[@]}" -o "$set.gf2.json"
    cmp -s <(grep -v '"input"' "$set.gf.json") <(grep -v '"input"' "$set.gf2.json") || { echo "$set: 1 and 2 ranks differ" >&2; exit 1; }
    for t in 1 2; do
      "$PY" - "$set" "$t" "$ROUNDS" "$DEPTH" "$ETA" > "$set.xgb$t.out" <<'PY'
import sys, time, numpy as np, xgboost as xgb
from sklearn.metrics import roc_auc_score
s, nt, rounds, depth, eta = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
d = np.load(s + ".npz", allow_pickle=True); x, y, ids, k = d["x"], d["y"], d["ids"], int(d["k"])
fold = dict(l.split("\t")[0::2] for l in open(s + ".folds.tsv").read().split("\n")[1:] if l)
f = np.array([int(fold[i]) for i in ids])
p = dict(tree_method="hist", max_bin=256, max_depth=depth, eta=eta, nthread=nt, min_child_weight=1, reg_lambda=1)
p.update(objective="binary:logistic") if k == 2 else p.update(objective="multi:softprob", num_class=k)
acc, auc = [], []
t0 = time.time()
for j in sorted(set(f)):
    tr, te = f != j, f == j
    b = xgb.train(p, xgb.DMatrix(x[tr], label=y[tr], nthread=nt), num_boost_round=rounds)
    pr = b.predict(xgb.DMatrix(x[te], nthread=nt))
    if k == 2:
        acc.append(((pr > 0.5) == y[te]).mean()); auc.append(roc_auc_score(y[te], pr))
    else:
        acc.append((pr.argmax(1) == y[te]).mean()); auc.append(roc_auc_score(y[te], pr, multi_class="ovr", average="macro"))
print(f"cv_accuracy {np.mean(acc):.4f} cv_auc {np.mean(auc):.4f} cv_s {time.time() - t0:.2f}")
PY
      awk '{print $6, 0, 0}' "$set.xgb$t.out" >> "$set.xgb$t.times"
    done
  done
  # Peak memory of XGBoost's whole process, once.
  /usr/bin/time -f "%M" -o "$set.xgbmem" "$PY" -c "
import numpy as np, xgboost as xgb
d = np.load('$set.npz', allow_pickle=True); k = int(d['k'])
p = dict(tree_method='hist', max_bin=256, max_depth=$DEPTH, eta=$ETA, nthread=1)
p.update(objective='binary:logistic') if k == 2 else p.update(objective='multi:softprob', num_class=k)
xgb.train(p, xgb.DMatrix(d['x'], label=d['y']), num_boost_round=$ROUNDS)" >/dev/null
done

echo "data: $W; $ROUNDS rounds, depth $DEPTH, eta $ETA, lambda 1, min child weight 1, $FOLDS folds (the same for both); medians of $REPS"
printf "%-8s %-9s %8s %9s %12s %8s\n" set run wall_s peak_MiB cv_accuracy cv_auc
for set in $SETS; do
  g=$("$PY" -c "import json; s=json.load(open('$set.gf.json'))['summary']; print(f\"{s['accuracy']['mean']:.4f} {s['auc']['mean']:.4f}\")")
  printf "%-8s %-9s %8.2f %9.0f %12s %8s\n" "$set" gf1 "$(col "$set.gf1" 1)" "$(echo "$(col "$set.gf1" 3) / 1024" | bc -l)" $g
  printf "%-8s %-9s %8.2f %9.0f %12s %8s\n" "$set" gf2 "$(col "$set.gf2" 1)" "$(echo "$(col "$set.gf2" 3) / 1024" | bc -l)" - -
  for t in 1 2; do
    printf "%-8s %-9s %8.2f %9.0f %12s %8s\n" "$set" "xgboost$t" "$(col "$set.xgb$t" 1)" "$(echo "$(cat "$set.xgbmem") / 1024" | bc -l)" \
      "$(awk '{print $2}' "$set.xgb$t.out")" "$(awk '{print $4}' "$set.xgb$t.out")"
  done
  echo "$set: XGBoost's time / ours: 1 core $(echo "scale=2; $(col "$set.xgb1" 1) / $(col "$set.gf1" 1)" | bc -l)x, 2 cores $(echo "scale=2; $(col "$set.xgb2" 1) / $(col "$set.gf2" 1)" | bc -l)x; ours 1 -> 2 ranks $(echo "scale=2; $(col "$set.gf1" 1) / $(col "$set.gf2" 1)" | bc -l)x; accuracy ours - XGBoost $(echo "scale=2; 100 * ($(echo $g | cut -d' ' -f1) - $(awk '{print $2}' "$set.xgb1.out"))" | bc -l) points"
done
