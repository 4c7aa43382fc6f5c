# Shared helpers of the benchmark scripts (sourced).
# measure NAME CMD...: runs CMD (stdout discarded; stderr shown if it fails) and appends
#   "wall_s cpu_s peak_rss_kb" of that run to NAME.times
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o t.txt "$@" > /dev/null 2> err.txt || { cat err.txt >&2; exit 1; }
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' t.txt >> "$name.times"
}
# median: of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# col NAME K: median of column K (1 wall, 2 CPU, 3 peak RSS KiB) of NAME.times
col() { awk -v c="$2" '{print $c}' "$1.times" | median; }
# run_sampling_pss PATTERN CMD...: runs CMD (its output into run.log) and prints the peak, over the
#   run, of the summed proportional set size (MiB) of the processes whose command line starts with
#   PATTERN, sampled every 0.1 s: a page shared by ranks counts once (a node's memory)
run_sampling_pss() {
  local pattern=$1; shift
  "$@" > run.log 2>&1 &
  local pid=$! max=0 tot v p
  while kill -0 "$pid" 2>/dev/null; do
    tot=0
    for p in $(pgrep -f "^$pattern" || true); do
      v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true); tot=$((tot + ${v:-0}))
    done
    ((tot > max)) && max=$tot
    sleep 0.1
  done
  wait "$pid"
  echo "$((max / 1024))"
}
