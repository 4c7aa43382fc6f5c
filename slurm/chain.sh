#!/usr/bin/env bash
# A large cohort in several jobs, no job array: each job runs some stages of the same config in
# the same run folder, and starts when the previous one succeeded (--dependency=afterok). Each job
# can ask for its own resources (memory for align, many ranks for call and the forest).
#   slurm/chain.sh configs/my-cohort.ini /scratch/$USER/my-cohort simulate,index,align call features,train,cv
# Options for every sbatch: GF_SBATCH_OPTS (e.g. "--ntasks=32 --time=24:00:00").
# A job that fails stops the chain (later jobs never start: scancel them); resubmit the chain:
# stages already finished are skipped, and a job stopped by its time limit resubmits itself.
set -euo pipefail
CONFIG=${1:?usage: chain.sh CONFIG.ini RUN_DIR STAGES [STAGES ...]}
RUN_DIR=${2:?usage: chain.sh CONFIG.ini RUN_DIR STAGES [STAGES ...]}
shift 2
(($#)) || { echo "chain.sh: give at least one comma-separated group of stages" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
dep=()
for stages in "$@"; do
  # shellcheck disable=SC2086
  jid=$(GF_STAGES=$stages sbatch --parsable --export=ALL ${GF_SBATCH_OPTS:-} "${dep[@]}" "$here/run.sbatch" "$CONFIG" "$RUN_DIR")
  echo "submitted job $jid: $stages"
  dep=(--dependency=afterok:"$jid")
done
