#!/usr/bin/env bash
# Benchmark: how `train` loads its matrix on one node, at 1, 2 and 4 ranks: the load time the log
# reports, against reading the store's bytes from the page cache (`cat store.h5 > /dev/null`, the
# anchor), and the node's memory: the summed proportional set size (PSS: a shared page counts
# once per node) of the ranks, sampled every 0.1 s. Medians of REPS runs. Not a test: run by hand.
#   bench/matrix_per_node.sh [SAMPLES] [VARIANTS]   (default 4000 x 100000)
#   env: REPS (3), BENCH_DIR (reuse data)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-4000}; M=${2:-100000}; REPS=${REPS:-3}
"$root/scripts/build.sh" >/dev/null
G="$root/build/genoforest"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
W=${BENCH_DIR:-$(mktemp -d /tmp/gf-matrix-bench.XXXXXX)}
mkdir -p "$W" && cd "$W"
if [[ ! -f s.h5 ]]; then
  "$G" simulate -o s -n "$N" --variants "$M" --seed 9 -q
  mpirun -n 2 "$G" features s.vcf.gz -p s.pheno.tsv -o s.h5 -q
fi
source "$root/bench/lib.sh"
# run_pss CMD...: runs CMD; prints "PSS_MiB LOAD_S" (peak node PSS, the load time it logs)
run_pss() {
  local pss
  pss=$(run_sampling_pss "$G train" "$@")
  echo "$pss $(grep -o 'loaded in [0-9.]* s' run.log | grep -o '[0-9.]*')"
}
cat s.h5 > /dev/null
cat_s=$(for _ in $(seq "$REPS"); do /usr/bin/time -f %e cat s.h5 2>&1 >/dev/null; done | median)
bytes=$(stat -c %s s.h5)
echo "store: $N x $M, $((bytes >> 20)) MiB; cat from the page cache: ${cat_s} s ($(echo "$bytes / $cat_s / 1048576" | bc) MiB/s)"
printf '%-6s %12s %14s %18s\n' ranks "load (s)" "load / cat" "node PSS (MiB)"
for n in 1 2 4; do
  loads=() pss=()
  for _ in $(seq "$REPS"); do
    read -r p l < <(run_pss mpirun -n "$n" "$G" train s.h5 -o m.gfm --trees 2 --seed 1)
    loads+=("$l"); pss+=("$p")
  done
  l=$(printf '%s\n' "${loads[@]}" | median); p=$(printf '%s\n' "${pss[@]}" | median)
  printf '%-6s %12s %14s %18s\n' "$n" "$l" "$(awk -v l="$l" -v c="$cat_s" 'BEGIN {print (c > 0 ? sprintf("%.1f", l / c) : "-")}')" "$p"
done
