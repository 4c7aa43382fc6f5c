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
