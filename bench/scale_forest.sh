#!/usr/bin/env bash
# Benchmark: `train` with one copy of the matrix per node (--matrix node) against the
# variant-sharded forest (--matrix sharded) on the same store, at 1, 2 and 4 ranks (RANKS): the
# load time (and `cat store.h5 > /dev/null` from the page cache, the anchor), the time per tree,
# the bytes the ranks exchanged per tree, the peak RSS of the largest rank and the node's summed
# proportional set size (PSS: a page shared by the ranks counts once), sampled every 0.1 s.
# Medians of REPS runs. Not a test: run by hand.
#   bench/scale_forest.sh [SAMPLES] [VARIANTS]   (default 5000 x 200000: 241 MiB packed)
#   env: REPS (3), TREES (50), RANKS ("1 2 4"), MODES ("node sharded"), BENCH_DIR (reuse data)
#   20,000 x 1,000,000 (4.7 GiB packed): REPS=1 TREES=100 RANKS=4 bench/scale_forest.sh 20000 1000000
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-5000}; M=${2:-200000}; REPS=${REPS:-3}; TREES=${TREES:-50}; RANKS=${RANKS:-1 2 4}; MODES=${MODES:-node sharded}
"$root/scripts/build.sh" >/dev/null
G="$root/build/genoforest"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
W=${BENCH_DIR:-$(mktemp -d /tmp/gf-scale-bench.XXXXXX)}
mkdir -p "$W" && cd "$W"
if [[ ! -f s.h5 ]]; then
  # drawn straight into a store by two ranks (the same store as simulate + features)
  /usr/bin/time -f "simulate -O h: %e s, peak RSS %M KiB (largest rank)" mpirun -n 2 "$G" simulate -O h -o s -n "$N" --variants "$M" --seed 9 -q
fi
source "$root/bench/lib.sh"
# run CMD...: prints "PSS_MiB LOAD_S GROW_S EXCHANGED_PER_TREE RSS_LARGEST_MiB"
run() {
  local pss
  pss=$(run_sampling_pss "$G train" "$@")
  local load grow per rss
  load=$(grep -o 'loaded in [0-9.]* s' run.log | grep -o '[0-9.]*')
  grow=$(grep -o 'trees in [0-9.]* s' run.log | grep -o '[0-9.]*')
  per=$(grep -o '[0-9.]* [KMG]*i*B per tree' run.log | sed 's/ per tree//; s/ //' || true)
  rss=$(grep -o 'peak RSS [0-9.]* [MG]iB' run.log | awk '{print $4 == "GiB" ? $3 * 1024 : $3}')
  echo "$pss $load $grow ${per:--} $rss"
}
cat s.h5 > /dev/null
cat_s=$(for _ in $(seq "$REPS"); do /usr/bin/time -f %e cat s.h5 2>&1 >/dev/null; done | median)
bytes=$(stat -c %s s.h5)
echo "store: $N x $M, $((bytes >> 20)) MiB; cat from the page cache: ${cat_s} s; $TREES trees; medians of $REPS"
printf '%-8s %-6s %9s %13s %15s %14s %18s\n' mode ranks "load (s)" "s per tree" "sent per tree" "node PSS (MiB)" "largest RSS (MiB)"
for mode in $MODES; do
  for n in $RANKS; do
    rows=()
    for _ in $(seq "$REPS"); do
      rows+=("$(run mpirun -n "$n" "$G" train s.h5 -o m.gfm --trees "$TREES" --seed 1 --matrix "$mode")")
    done
    field() { printf '%s\n' "${rows[@]}" | awk -v c="$1" '{print $c}' | median; }
    per_tree=$(echo "scale=4; $(field 3) / $TREES" | bc)
    printf '%-8s %-6s %9s %13s %15s %14s %18s\n' "$mode" "$n" "$(field 2)" "$per_tree" \
      "$(printf '%s\n' "${rows[@]}" | awk '{print $4}' | head -1)" "$(field 1)" "$(field 5)"
  done
done
