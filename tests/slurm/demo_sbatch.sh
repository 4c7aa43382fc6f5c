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

# The time-limit path: SIGTERM to the batch shell (what --signal=B:TERM@300 sends before the
# limit) is passed to the ranks, the job stops cleanly and resubmits itself; the new job resumes.
jid=$(GENOFOREST="$GENOFOREST" sbatch --parsable --export=ALL --ntasks=2 --time=00:10:00 --output="$WORK/tl-%j.out" \
  --chdir="$WORK" "$SOURCE_DIR/slurm/run.sbatch" "$SOURCE_DIR/configs/demo.ini" "$WORK/tl")
# The signal comes during align, the demo's longest stage (about 40 s of its minute).
for _ in $(seq 1800); do grep -q "stage align$" "$WORK/tl-$jid.out" 2>/dev/null && break; sleep 0.1; done
sleep 5
scancel --batch --signal=TERM "$jid"
for _ in $(seq 900); do [[ -z "$(squeue -h -o %i 2>/dev/null)" ]] && break; sleep 0.2; done
outs=("$WORK/tl-$jid.out" "$WORK"/gf-run-*.out)   # the resubmitted job writes the script's own gf-run-%j.out
if grep -q "resubmitting" "$WORK/tl-$jid.out" && [[ -s "${outs[1]}" ]]; then
  ok "SIGTERM before the time limit: the job stopped and resubmitted itself"
else
  not_ok "time-limit path: no resubmission"; cat "${outs[@]}"
fi
other=${outs[1]}
grep -q '"status": "finished"' tl/genoforest-run.json && [[ -n "$other" ]] && grep -q "up to date" "$other" &&
  ok "the resubmitted job resumed and finished ($(grep -c 'up to date' "$other") stages skipped)" || { not_ok "resubmitted job"; cat "${outs[@]}"; }
finish
