#!/usr/bin/env bash
# The demo pipeline submitted to a real (single-node, local) Slurm with slurm/run.sbatch: the job
# completes through srun --mpi=pmix on 2 ranks and leaves the demo's results; the daemons this test
# started are stopped. Skips (exit 77, with the reason) only where Slurm is not installed or a
# Slurm configuration of this machine's own exists.
source "$(dirname "$0")/../lib.sh"
for p in sbatch slurmctld slurmd munged; do
  if ! command -v "$p" >/dev/null && [[ ! -x /usr/sbin/$p ]]; then
    echo "skip: Slurm is not installed ($p missing; scripts/install-deps.sh installs munge slurmctld slurmd slurm-client)"
    exit 77
  fi
done
set +e
"$SOURCE_DIR/scripts/slurm-local.sh" up > up.log 2>&1
rc=$?
set -e
if [[ $rc -eq 77 ]]; then cat up.log; echo "skip: this machine's own Slurm is configured"; exit 77; fi
trap '"$SOURCE_DIR/scripts/slurm-local.sh" down >/dev/null 2>&1; rm -rf "$WORK"' EXIT
[[ $rc -eq 0 ]] && ok "local Slurm up ($(sinfo -h -N -o '%N %t %c CPUs'))" || { cat up.log; not_ok "local Slurm did not start"; finish; }

set +e
GENOFOREST="$GENOFOREST" sbatch --wait --export=ALL --ntasks=2 --time=00:10:00 --output="$WORK/job-%j.out" \
  --chdir="$WORK" "$SOURCE_DIR/slurm/run.sbatch" "$SOURCE_DIR/configs/demo.ini" "$WORK/demo" > sbatch.txt 2>&1
rc=$?
set -e
cat "$WORK"/job-*.out | grep -E "genoforest run\]|error" || true
[[ $rc -eq 0 ]] && ok "sbatch job completed ($(cat sbatch.txt | tr '\n' ' '))" || { not_ok "sbatch job failed (exit $rc)"; cat sbatch.txt "$WORK"/job-*.out; }
grep -q '"status": "finished"' demo/genoforest-run.json && grep -q '"ranks": 2' demo/genoforest-run.json &&
  ok "the pipeline ran on 2 ranks under Slurm" || not_ok "no finished run report"
[[ -s demo/cohort.cv.json && -s demo/cohort.gfm && -s demo/cohort.called.vcf.gz.tbi ]] && ok "demo outputs written" || not_ok "demo outputs missing"
finish
