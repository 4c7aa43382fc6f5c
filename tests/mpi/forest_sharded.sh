#!/usr/bin/env bash
# The variant-sharded forest (--matrix sharded): each rank holds a block of the variants, and the
# model, OOB error, both importances, predictions and CV report are identical to one copy per node
# (--matrix node) at -n 1, for 1 to 4 ranks (so for several shardings), for two classes with the
# per-sample statistics, three classes and a quantitative label. --matrix and --memory-per-node:
# a matrix too large for one copy per node is refused with a line suggesting the sharded mode,
# auto shards it, a cluster too small even sharded is refused (even a budget of one byte); a rank
# may hold no column; a rank killed while the ranks exchange splits ends the job, no hang.
source "$(dirname "$0")/../lib.sh"
gf 1 simulate -o c -n 300 --variants 2600 --contigs 2 --causal 4 --heritability 0.8 --seed 8 -q
gf 1 simulate -o q -n 240 --variants 1200 --trait quantitative --causal 3 --seed 9 -q
gf 2 features c.vcf.gz -p c.pheno.tsv -o c.h5 -q
gf 2 features q.vcf.gz -p q.pheno.tsv -o q.h5 -q
awk 'BEGIN {FS = OFS = "\t"} NR == 1 {print "sample_id", "label"; next} {print $1, $3}' c.pheno.tsv > pop.tsv   # label: the sub-population
gf 1 features c.vcf.gz -p pop.tsv -o p.h5 -q

# name  store  extra training options
cases=("binary c.h5 --with-sample-stats" "populations p.h5 --mtry 20 --class-weight balanced"
       "quantitative q.h5 --no-replace")
ranks=(1 2 3 4)
[[ -n "${GF_MAX_RANKS:-}" ]] && ranks=(1 2)
for spec in "${cases[@]}"; do
  read -r name store opts <<< "$spec"
  # shellcheck disable=SC2086
  gf 1 train "$store" -o "$name.node.gfm" --trees 24 --seed 3 --matrix node $opts 2> "$name.node.log"
  # shellcheck disable=SC2086
  gf 1 cv "$store" --trees 8 -k 3 --seed 4 --matrix node $opts -o "$name.cv.node.json" --predictions "$name.cvp.node.tsv" -q > "$name.cv.node.txt"
  gf 1 predict -m "$name.node.gfm" "$store" -o "$name.node.pred.tsv" -q
  for n in "${ranks[@]}"; do
    # shellcheck disable=SC2086
    gf "$n" train "$store" -o "$name.$n.gfm" --trees 24 --seed 3 --matrix sharded $opts 2> "$name.$n.log"
    grep -q "sharded by variants over $n rank" "$name.$n.log" || not_ok "$name -n $n: the log does not say the matrix is sharded"
    "$GF_TEST_TOOL" same-model "$name.node.gfm" "$name.$n.gfm" && ok "$name: sharded over $n ranks, the trees of one copy" || not_ok "$name: trees differ (-n $n)"
    cmp -s "$name.node.gfm.importance.tsv" "$name.$n.gfm.importance.tsv" && ok "$name: importances identical (-n $n)" || not_ok "$name: importances differ (-n $n)"
    [[ "$(grep -o 'OOB .*' "$name.node.log")" == "$(grep -o 'OOB .*' "$name.$n.log")" ]] && ok "$name: OOB error identical (-n $n)" || not_ok "$name: OOB error differs (-n $n)"
    gf 1 predict -m "$name.$n.gfm" "$store" -o "$name.$n.pred.tsv" -q
    cmp -s "$name.node.pred.tsv" "$name.$n.pred.tsv" || not_ok "$name: predictions differ (-n $n)"
    # shellcheck disable=SC2086
    gf "$n" cv "$store" --trees 8 -k 3 --seed 4 --matrix sharded $opts -o "$name.cv.$n.json" --predictions "$name.cvp.$n.tsv" -q > "$name.cv.$n.txt"
    diff <(grep -v '"ranks"' "$name.cv.node.json") <(grep -v '"ranks"' "$name.cv.$n.json") > /dev/null && cmp -s "$name.cv.node.txt" "$name.cv.$n.txt" \
      && cmp -s "$name.cvp.node.tsv" "$name.cvp.$n.tsv" && ok "$name: CV report and out-of-fold predictions identical (-n $n)" || not_ok "$name: CV reports differ (-n $n)"
  done
done
grep -q "exchanged" binary.2.log && ok "the log gives the bytes the ranks exchanged" || not_ok "no exchange figure in the log"

# More ranks than blocks: a store of one 1024-variant chunk whose statistics columns outweigh its
# genotypes leaves a rank with no column (the block after the statistics): the same trees.
gf 1 simulate -o few -n 200 --variants 100 --causal 2 --seed 5 -q
gf 1 features few.vcf.gz -p few.pheno.tsv -o few.h5 -q
gf 1 train few.h5 -o few.node.gfm --trees 12 --seed 3 --with-sample-stats --matrix node -q
n=${ranks[-1]}
gf "$n" train few.h5 -o few.sh.gfm --trees 12 --seed 3 --with-sample-stats --matrix sharded 2> few.log
"$GF_TEST_TOOL" same-model few.node.gfm few.sh.gfm && cmp -s few.node.gfm.importance.tsv few.sh.gfm.importance.tsv \
  && ok "one chunk and the statistics over $n ranks (a rank without columns): the trees of one copy" || { not_ok "few columns, -n $n: model differs"; cat few.log; }

# --memory-per-node: one copy per node does not fit -> a line naming the sharded mode, exit 2.
set +e
gf 2 train c.h5 -o small.gfm --trees 4 --matrix node --memory-per-node 100K 2> small.err
rc=$?
set -e
[[ $rc -eq 2 ]] && grep -q "does not fit in 100.0 KiB (--memory-per-node).*--matrix sharded" small.err && ! [[ -e small.gfm ]] \
  && ok "a matrix larger than --memory-per-node: exit 2, the sharded mode suggested" || { not_ok "too small a node: exit $rc"; cat small.err; }
# auto: more than half of the budget -> sharded, the trees unchanged.
gf 2 train c.h5 -o auto.gfm --trees 24 --seed 3 --with-sample-stats --memory-per-node 300K 2> auto.err
grep -q "it is spread by variants over the 2 ranks" auto.err && "$GF_TEST_TOOL" same-model binary.node.gfm auto.gfm \
  && ok "--matrix auto shards a matrix of more than half of --memory-per-node, same trees" || { not_ok "auto did not shard"; cat auto.err; }
# sharded but still too large for a node -> how many nodes it needs.
set +e
gf 2 train c.h5 -o tiny.gfm --trees 4 --matrix sharded --memory-per-node 50K 2> tiny.err
rc=$?
gf 1 train c.h5 -o bad.gfm --memory-per-node lots 2> bad.err
rc2=$?
gf 1 train c.h5 -o svm.gfm --model svm --matrix sharded 2> svm.err
rc3=$?
gf 1 train c.h5 -o where.gfm --matrix cluster 2> where.err
rc4=$?
gf 2 train c.h5 -o byte.gfm --matrix sharded --memory-per-node 1 2> byte.err
rc5=$?
set -e
[[ $rc -eq 2 ]] && grep -q "Run on more nodes (at least" tiny.err && ok "too large even sharded: exit 2, how many nodes" || { not_ok "tiny: exit $rc"; cat tiny.err; }
[[ $rc2 -eq 2 ]] && grep -q "memory-per-node must be a size such as 64G" bad.err && ok "--memory-per-node lots: exit 2" || { not_ok "bad size: exit $rc2"; cat bad.err; }
[[ $rc3 -eq 2 ]] && grep -q "svm needs the whole matrix" svm.err && ok "--model svm --matrix sharded: exit 2" || { not_ok "svm sharded: exit $rc3"; cat svm.err; }
[[ $rc4 -eq 2 ]] && grep -q "matrix must be auto, node or sharded" where.err && ok "--matrix cluster: exit 2" || { not_ok "--matrix cluster: exit $rc4"; cat where.err; }
[[ $rc5 -eq 2 ]] && grep -q "Run on more nodes" byte.err && ok "--memory-per-node 1 (one byte): exit 2, no crash" || { not_ok "--memory-per-node 1: exit $rc5"; cat byte.err; }

# A rank killed (SIGKILL) while the ranks exchange splits: the job ends, non-zero, no hang, no model.
set +e
gf 2 train c.h5 -o killed.gfm --trees 100000 --matrix sharded > kill.out 2> kill.err &
kill_rank_1 $! "genoforest train c.h5 -o killed.gfm" kill.err 60
set -e
if [[ -n "$victim" && $rc -ne 0 && $rc -ne 124 && ! -e killed.gfm ]] && ! compgen -G "killed.gfm.tmp.*" >/dev/null; then
  ok "a rank killed during sharded training: the job ended (exit $rc), nothing written"
else
  not_ok "killed rank: victim '${victim}', exit $rc (124 is a hang)"; cat kill.err
fi
finish
