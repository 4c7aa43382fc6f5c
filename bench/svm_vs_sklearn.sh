#!/usr/bin/env bash
# Benchmark: linear SVM (hinge loss, L2), genoforest cv --model svm (1 and 2 ranks) against
# scikit-learn's LinearSVC(loss="hinge") on the same folds (genoforest writes its fold
# assignment; scikit-learn uses it), same C, tolerance and iteration cap, on a simulated cohort
# with a planted phenotype. Prints the mean CV accuracy and AUC of each (goal: within 1 point),
# wall times and peak memory, and the ratio. Medians of REPS runs. Not a test: run it by hand.
#   bench/svm_vs_sklearn.sh [SAMPLES] [VARIANTS]   (default 2000 x 20000)
#   env: C (0.001), FOLDS (5), REPS (3), BENCH_DIR (reuse data)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-2000}; M=${2:-20000}; C=${C:-0.001}; FOLDS=${FOLDS:-5}; REPS=${REPS:-3}
"$root/scripts/install-deps.sh" --bench >/dev/null
"$root/scripts/build.sh" >/dev/null
G="$root/build/genoforest"
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
W=${BENCH_DIR:-$(mktemp -d /tmp/gf-svm-bench.XXXXXX)}
mkdir -p "$W" && cd "$W"
if [[ ! -f x.i8 ]]; then
  "$G" simulate -o c -n "$N" --variants "$M" --causal 50 --heritability 0.8 -@ 2 -q
  mpirun -n 2 "$G" features c.vcf.gz -p c.pheno.tsv -o c.h5 -q
  "$PY" - <<'PY'
import h5py, numpy as np
f = h5py.File("c.h5", "r")
x = f["genotypes/dosage"][:].astype(np.float32)
y = f["labels/code"][:]
ids = f["samples/id"].asstr()[:]
keep = y >= 0
x = x[keep]
for j in range(x.shape[1]):  # missing -> the column mean (genoforest uses the training fold's)
    c = x[:, j]; m = c >= 0
    c[~m] = c[m].mean() if m.any() else 0
np.save("x.npy", x); np.save("y.npy", y[keep]); np.save("ids.npy", ids[keep])
open("x.i8", "w").close()
PY
fi
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o t.txt "$@" > "$name.out" 2>&1 || { cat "$name.out" >&2; exit 1; }
  cat t.txt >> "$name.times"
}
rm -f ./*.times
for r in $(seq "$REPS"); do
  measure gf1 mpirun -n 1 "$G" cv c.h5 --model svm --C "$C" -k "$FOLDS" --assignments folds.tsv -o gf.json
  measure gf2 mpirun -n 2 "$G" cv c.h5 --model svm --C "$C" -k "$FOLDS" -o gf2.json
  measure sklearn "$PY" - "$C" <<'PY'
import sys, numpy as np
from sklearn.svm import LinearSVC
from sklearn.metrics import roc_auc_score
C = float(sys.argv[1])
x, y, ids = np.load("x.npy"), np.load("y.npy"), np.load("ids.npy", allow_pickle=True)
fold = dict(l.split("\t")[0::2] for l in open("folds.tsv").read().split("\n")[1:] if l)
f = np.array([int(fold[i]) for i in ids])
acc, auc = [], []
for k in sorted(set(f)):
    tr, te = f != k, f == k
    m = LinearSVC(loss="hinge", C=C, tol=1e-4, max_iter=1000, random_state=1).fit(x[tr], y[tr])
    d = m.decision_function(x[te]); acc.append((m.predict(x[te]) == y[te]).mean()); auc.append(roc_auc_score(y[te], d))
print(f"cv_accuracy {np.mean(acc):.4f} cv_auc {np.mean(auc):.4f}")
PY
done
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$2" '{print $c}' "$1.times" | median; }
gacc=$("$PY" -c "import json; s=json.load(open('gf.json'))['summary']; print(f\"{s['accuracy']['mean']:.4f} {s['auc']['mean']:.4f}\")")
sk=$(awk '/cv_accuracy/ {print $2, $4}' sklearn.out)
echo "data: $W, $(($(wc -l < folds.tsv) - 1)) samples x $M variants, C $C, $FOLDS folds (the same for both)"
printf "%-10s %8s %9s %12s %8s\n" run wall_s peak_MiB cv_accuracy cv_auc
printf "%-10s %8.2f %9.0f %12s %8s\n" gf1 "$(col gf1 1)" "$(echo "$(col gf1 2) / 1024" | bc -l)" $gacc
printf "%-10s %8.2f %9.0f %12s %8s\n" gf2 "$(col gf2 1)" "$(echo "$(col gf2 2) / 1024" | bc -l)" - -
printf "%-10s %8.2f %9.0f %12s %8s\n" sklearn "$(col sklearn 1)" "$(echo "$(col sklearn 2) / 1024" | bc -l)" $sk
echo "wall time, ours / scikit-learn: 1 core $(echo "scale=3; $(col gf1 1) / $(col sklearn 1)" | bc -l), 2 ranks $(echo "scale=3; $(col gf2 1) / $(col sklearn 1)" | bc -l)"
echo "accuracy difference (ours - scikit-learn, points): $(echo "scale=2; 100 * ($(echo $gacc | cut -d' ' -f1) - $(echo $sk | cut -d' ' -f1))" | bc -l)"
