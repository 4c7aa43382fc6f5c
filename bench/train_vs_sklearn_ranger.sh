#!/usr/bin/env bash
# Benchmark: random-forest training, genoforest against scikit-learn's RandomForestClassifier and
# ranger, in one run, at equal cores, on the same simulated genotype matrix with a planted
# phenotype. Same number of trees and mtry (sqrt(p)) for all. Prints training time (inside each
# tool, data loading excluded), wall time and peak memory of the whole process, k-fold CV accuracy
# and AUC of each, the ratios (ours / theirs), and genoforest's 1 -> 2 rank scaling. Medians of
# REPS timing runs. Not a test: run it by hand.
#   bench/train_vs_sklearn_ranger.sh [SAMPLES] [VARIANTS]   (default 5000 x 50000)
#   env: TREES (200), FOLDS (5), REPS (3), CORES (2), BENCH_DIR (reuse data)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-5000}; M=${2:-50000}; TREES=${TREES:-200}; FOLDS=${FOLDS:-5}; REPS=${REPS:-3}; CORES=${CORES:-2}
"$root/scripts/install-deps.sh" --bench >/dev/null
"$root/scripts/build.sh" >/dev/null
G="$root/build/genoforest"
PY=/usr/bin/python3  # Debian's Python, which has the python3-* packages (not a pyenv/conda one)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=PASSIVE
W=${BENCH_DIR:-$(mktemp -d /tmp/gf-rf-bench.XXXXXX)}
mkdir -p "$W" && cd "$W"
if [[ ! -f shape.txt ]]; then
  # No missing calls: scikit-learn 1.2 (Debian 12) does not accept missing values.
  "$G" simulate -o c -n "$N" --variants "$M" --contigs 2 --ld-block 20 --causal 20 --heritability 0.8 --missing-rate 0 -@ 2 -q
  mpirun -n 2 "$G" features c.vcf.gz -p c.pheno.tsv -o c.h5 -q
  # The same matrix for the other tools: int8 samples x variants, and labels.
  "$PY" - <<'PY'
import h5py, numpy as np
f = h5py.File("c.h5", "r")
x = f["genotypes/dosage"][:]
y = f["labels/code"][:]
keep = y >= 0
np.ascontiguousarray(x[keep]).tofile("x.i8")
y[keep].astype(np.int32).tofile("y.i32")
open("shape.txt", "w").write(f"{keep.sum()} {x.shape[1]}\n")
PY
fi
read -r n p < shape.txt
mtry=$("$PY" -c "import math; print(int(math.floor(math.sqrt($p))))")
echo "data: $W, $n samples x $p variants, $TREES trees, mtry $mtry, $CORES cores"

cat > sk.py <<'PY'
import sys, time, numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.metrics import roc_auc_score
n, p = map(int, open("shape.txt").read().split())
x = np.fromfile("x.i8", dtype=np.int8).reshape(n, p).astype(np.float32)
y = np.fromfile("y.i32", dtype=np.int32)
trees, mtry, cores, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
mk = lambda: RandomForestClassifier(n_estimators=trees, max_features=mtry, n_jobs=cores, random_state=1)
if mode == "train":
    t = time.time(); mk().fit(x, y); print(f"train_s {time.time() - t:.3f}")
else:
    acc, auc = [], []
    for tr, te in StratifiedKFold(int(sys.argv[5]), shuffle=True, random_state=1).split(x, y):
        m = mk().fit(x[tr], y[tr]); pr = m.predict_proba(x[te])
        acc.append((m.classes_[pr.argmax(1)] == y[te]).mean()); auc.append(roc_auc_score(y[te], pr[:, 1]))
    print(f"cv_accuracy {np.mean(acc):.4f} cv_auc {np.mean(auc):.4f}")
PY
cat > rg.R <<'R'
suppressMessages(library(ranger))
a <- commandArgs(TRUE); trees <- as.integer(a[1]); mtry <- as.integer(a[2]); cores <- as.integer(a[3]); mode <- a[4]
s <- scan("shape.txt", quiet = TRUE); n <- s[1]; p <- s[2]
x <- matrix(readBin("x.i8", "integer", n = n * p, size = 1, signed = TRUE), nrow = n, byrow = TRUE)
colnames(x) <- paste0("v", seq_len(p))
y <- factor(readBin("y.i32", "integer", n = n, size = 4))
fit <- function(rows) ranger(x = x[rows, , drop = FALSE], y = y[rows], num.trees = trees, mtry = mtry,
                             num.threads = cores, probability = TRUE, seed = 1, verbose = FALSE)
if (mode == "train") {
  t <- proc.time()[["elapsed"]]; m <- fit(seq_len(n)); cat(sprintf("train_s %.3f\n", proc.time()[["elapsed"]] - t))
} else {
  k <- as.integer(a[5]); set.seed(1)
  fold <- integer(n); for (cl in levels(y)) { i <- which(y == cl); fold[i] <- sample(rep_len(seq_len(k), length(i))) }
  acc <- c(); auc <- c()
  for (f in seq_len(k)) {
    te <- which(fold == f); m <- fit(which(fold != f)); pr <- predict(m, x[te, , drop = FALSE], num.threads = cores)$predictions[, 2]
    acc <- c(acc, mean((pr > 0.5) == (y[te] == levels(y)[2])))
    pos <- pr[y[te] == levels(y)[2]]; neg <- pr[y[te] != levels(y)[2]]
    auc <- c(auc, (sum(rank(c(pos, neg))[seq_along(pos)]) - length(pos) * (length(pos) + 1) / 2) / (length(pos) * length(neg)))
  }
  cat(sprintf("cv_accuracy %.4f cv_auc %.4f\n", mean(acc), mean(auc)))
}
R

# measure NAME CMD...: appends "train_s wall rss_kb" of one run to NAME.times
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o t.txt "$@" > out.txt 2>&1
  local tr
  tr=$(awk '/train_s/ {print $2} /grew [0-9]+ trees in/ {for (i=1;i<=NF;i++) if ($i=="in") print $(i+1)}' out.txt | head -1)
  echo "$tr $(cat t.txt)" >> "$name.times"
}
rm -f ./*.times
for r in $(seq "$REPS"); do
  measure gf1 mpirun -n 1 "$G" train c.h5 -o m1.gfm --trees "$TREES" --importance none
  measure gf$CORES mpirun --oversubscribe -n "$CORES" "$G" train c.h5 -o m.gfm --trees "$TREES" --importance none
  measure sklearn "$PY" sk.py "$TREES" "$mtry" "$CORES" train
  measure ranger Rscript rg.R "$TREES" "$mtry" "$CORES" train
done
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$2" '{print $c}' "$1.times" | median; }

# Accuracy: k-fold CV, each tool with its own stratified folds.
gfcv=$(mpirun --oversubscribe -n "$CORES" "$G" cv c.h5 --trees "$TREES" -k "$FOLDS" -q | awk '$1=="mean" {print $2, $6}')
skcv=$("$PY" sk.py "$TREES" "$mtry" "$CORES" cv "$FOLDS" | awk '{print $2, $4}')
rgcv=$(Rscript rg.R "$TREES" "$mtry" "$CORES" cv "$FOLDS" | awk '{print $2, $4}')

printf "\n%-12s %9s %9s %10s %12s %8s\n" tool train_s wall_s peak_MiB cv_accuracy cv_auc
row() { printf "%-12s %9.2f %9.2f %10.0f %12s %8s\n" "$1" "$(col "$1" 1)" "$(col "$1" 2)" "$(echo "$(col "$1" 3) / 1024" | bc -l)" "${2:--}" "${3:--}"; }
row gf1
row "gf$CORES" $gfcv
row sklearn $skcv
row ranger $rgcv
ratio() { echo "scale=3; $(col "$1" "$3") / $(col "$2" "$3")" | bc -l; }
echo
echo "ratios (training time, ours / theirs, median of $REPS; wall time in brackets):"
echo "  genoforest -n $CORES / scikit-learn n_jobs=$CORES : $(ratio "gf$CORES" sklearn 1) ($(ratio "gf$CORES" sklearn 2))"
echo "  genoforest -n $CORES / ranger num.threads=$CORES  : $(ratio "gf$CORES" ranger 1) ($(ratio "gf$CORES" ranger 2))"
echo "  scaling: genoforest -n $CORES / -n 1         : $(ratio "gf$CORES" gf1 1)"
