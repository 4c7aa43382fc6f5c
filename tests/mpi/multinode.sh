#!/usr/bin/env bash
# Real multi-node jobs on one machine (emulated nodes, tests/lib.sh): 2 nodes x 2 ranks and 3 nodes x
# 1 rank give outputs identical to -n 1 for features, align (the bwa index shared per node), call,
# train (the matrix shared per node, or sharded by variants over all ranks), cv (both modes) and pca; slurm/run-multinode.sbatch runs through mpirun; a rank killed on one node ends the whole job, no hang. Skips (exit 77) with the
# reason where root or 'unshare --uts' is not available.
source "$(dirname "$0")/../lib.sh"
multinode_or_skip
shapes=("2 2" "3 1")
[[ -n "${GF_MAX_RANKS:-}" ]] && shapes=("2 1")   # the sanitizer run: two ranks, on two nodes

gf 1 simulate -o c -n 120 --variants 800 --contigs 2 --causal 3 --seed 6 -q
gf 1 simulate -o r -n 4 --variants 80 --spacing 500 --reads --read-samples 3 --coverage 4 --seed 3 -q
gf 1 index r.ref.fa -q
gf 1 features c.vcf.gz -p c.pheno.tsv -o f1.h5 --region-size 50000 -q
gf 1 train f1.h5 -o m1.gfm --trees 40 --seed 2 -q
gf 1 cv f1.h5 --trees 10 -k 3 --seed 3 -o cv1.json -q > cv1.txt
gf 1 pca f1.h5 -o p1 --pcs 4 -q
mkdir a1 && (cd a1 && gf 1 align -S ../r.samples.tsv -f ../r.ref.fa -o out 2> log.txt)  # one command line: one @PG line
gf 1 call -f r.ref.fa -o v1.vcf.gz a1/out/*.bam -q

for shape in "${shapes[@]}"; do
  read -r nodes ranks <<< "$shape"
  tag="$nodes nodes x $ranks rank(s)"
  s=${nodes}x$ranks
  gfn "$nodes" "$ranks" features c.vcf.gz -p c.pheno.tsv -o f$s.h5 --region-size 50000 -q
  same_store f1.h5 f$s.h5 >/dev/null && ok "features, $tag: store identical to -n 1" || not_ok "features, $tag: store differs"
  mkdir a$s && (cd a$s && gfn "$nodes" "$ranks" align -S ../r.samples.tsv -f ../r.ref.fa -o out 2> log.txt)
  same=1
  for b in a1/out/*.bam; do cmp -s "$b" "a$s/out/$(basename "$b")" && cmp -s "$b.bai" "a$s/out/$(basename "$b").bai" || same=0; done
  ((same)) && ok "align, $tag: BAMs and indexes identical to -n 1" || not_ok "align, $tag: BAMs differ"
  if ((ranks > 1)); then
    grep -q "one copy shared by the $ranks ranks of each node" a$s/log.txt && ok "align, $tag: one bwa index per node" \
      || not_ok "align, $tag: index not shared per node: $(grep 'bwa index' a$s/log.txt)"
  fi
  gfn "$nodes" "$ranks" call -f r.ref.fa -o v$s.vcf.gz a1/out/*.bam -q
  cmp -s <("$GF_TEST_TOOL" dump-vcf v1.vcf.gz) <("$GF_TEST_TOOL" dump-vcf v$s.vcf.gz) && ok "call, $tag: records identical to -n 1" \
    || not_ok "call, $tag: records differ"
  gfn "$nodes" "$ranks" train f1.h5 -o m$s.gfm --trees 40 --seed 2 2> train$s.log
  if ((ranks > 1)); then
    grep -q "one copy shared by the $ranks ranks of each node" train$s.log && ok "train, $tag: one matrix per node" \
      || not_ok "train, $tag: matrix not shared per node: $(grep 'loaded in' train$s.log)"
  fi
  "$GF_TEST_TOOL" same-model m1.gfm m$s.gfm && cmp -s m1.gfm.importance.tsv m$s.gfm.importance.tsv \
    && ok "train, $tag: the same trees and importances" || not_ok "train, $tag: model differs"
  gfn "$nodes" "$ranks" train f1.h5 -o ms$s.gfm --trees 40 --seed 2 --matrix sharded 2> trains$s.log
  "$GF_TEST_TOOL" same-model m1.gfm ms$s.gfm && cmp -s m1.gfm.importance.tsv ms$s.gfm.importance.tsv \
    && ok "train --matrix sharded, $tag: the same trees and importances" || not_ok "train --matrix sharded, $tag: model differs"
  gfn "$nodes" "$ranks" cv f1.h5 --trees 10 -k 3 --seed 3 -o cv$s.json -q > cv$s.txt
  cmp -s cv1.json cv$s.json && cmp -s cv1.txt cv$s.txt && ok "cv, $tag: report identical" || not_ok "cv, $tag: report differs"
  gfn "$nodes" "$ranks" cv f1.h5 --trees 10 -k 3 --seed 3 --matrix sharded -o cvs$s.json -q > cvs$s.txt
  diff <(grep -v '"ranks"' cv1.json) <(grep -v '"ranks"' cvs$s.json) >/dev/null && cmp -s cv1.txt cvs$s.txt \
    && ok "cv --matrix sharded, $tag: report identical" || not_ok "cv --matrix sharded, $tag: report differs"
  gfn "$nodes" "$ranks" pca f1.h5 -o p$s --pcs 4 -q
  cmp -s p1.eigenvec p$s.eigenvec && cmp -s p1.eigenval p$s.eigenval && ok "pca, $tag: identical" || not_ok "pca, $tag: differs"
done

# slurm/run-multinode.sbatch, its launcher replaced by mpirun over 2 emulated nodes (GF_LAUNCHER):
# a small pipeline gives what one rank gives.
cat > mini.ini <<'INI'
[simulate]
output = m
samples = 60
variants = 300
seed = 4
[features]
input = m.vcf.gz
phenotypes = m.pheno.tsv
output = m.h5
[train]
input = m.h5
output = m.gfm
trees = 20
seed = 1
INI
gf 1 run --config mini.ini --run-dir one -q
set +e
GF_LAUNCHER="$(node_launcher 2 1)" GENOFOREST="$GENOFOREST" SLURM_JOB_ID=0 \
  bash "$SOURCE_DIR/slurm/run-multinode.sbatch" mini.ini two > sbatch.log 2>&1
rc=$?
set -e
if [[ $rc -eq 0 ]] && same_store one/m.h5 two/m.h5 >/dev/null && "$GF_TEST_TOOL" same-model one/m.gfm two/m.gfm &&
   grep -q '"ranks": 2' two/genoforest-run.json; then
  ok "slurm/run-multinode.sbatch through mpirun on 2 emulated nodes: the pipeline's store and model as on 1 rank"
else
  not_ok "run-multinode.sbatch (exit $rc)"; tail -20 sbatch.log
fi

# A rank of the second node killed (SIGKILL, as a node failure) while training: the job ends,
# non-zero, within the timeout; no genoforest line beyond one; no model and no temporary left.
set +e
gfn 2 1 train f1.h5 -o killed.gfm --trees 20000 --seed 2 > kill.out 2> kill.err &
kill_rank_1 $! "genoforest train f1.h5 -o killed.gfm" kill.err 120
set -e
lines=$(grep -c "genoforest train: error" kill.err || true)
if [[ -n "$victim" && $rc -ne 0 && $rc -ne 124 && $lines -le 1 && ! -e killed.gfm ]] && ! compgen -G "killed.gfm.tmp.*" >/dev/null; then
  ok "a rank killed on node 2: the job ended (exit $rc), nothing written"
else
  not_ok "killed rank: victim '${victim}', exit $rc (124 is a hang), $lines error lines"; cat kill.err
fi
finish
