#!/bin/bash
# bandster example 4 as an SGE job array: task 1 is the master, tasks 2..N are workers.
#
#   cd <the bandster checkout, on a file system every node sees>
#   qsub -t 1-4 -q <queue> scripts/sge/example_4.sh
#   qsub -t 1-4 -v NIC=ib0,VENV=$HOME/venvs/bandster scripts/sge/example_4.sh
#
# Every line is explained in docs/cluster.md.
#$ -N bandster_example4
#$ -cwd
#$ -j y
#$ -o $JOB_NAME-$JOB_ID-$TASK_ID.log
#$ -t 1-4
#$ -l h_rt=01:00:00

set -euo pipefail

# The Python environment with bandster installed (optional: otherwise python3 from PATH).
if [ -n "${VENV:-}" ]; then
    source "$VENV/bin/activate"
fi
PYTHON="${PYTHON:-python3}"

# One run id and one shared directory per submission: a resubmitted array never meets an old run's files.
RUN_ID="example4_${JOB_ID}"
SHARED_DIR="${SHARED_DIR:-$PWD/example4_runs/$RUN_ID}"
NIC="${NIC:-eth0}"
EXAMPLE="${EXAMPLE:-$PWD/examples/example_4_cluster.py}"

# How many tasks this array has; the master's own worker thread stands in for task 1.
N_TASKS=$(( (SGE_TASK_LAST - SGE_TASK_FIRST) / SGE_TASK_STEPSIZE + 1 ))
N_WORKERS="${N_WORKERS:-$N_TASKS}"

mkdir -p "$SHARED_DIR"
COMMON=(--run_id "$RUN_ID" --nic_name "$NIC" --shared_directory "$SHARED_DIR"
        --min_budget "${MIN_BUDGET:-9}" --max_budget "${MAX_BUDGET:-243}" --n_iterations "${N_ITERATIONS:-4}")

if [ "$SGE_TASK_ID" -eq "$SGE_TASK_FIRST" ]; then
    exec "$PYTHON" "$EXAMPLE" "${COMMON[@]}" --n_workers "$N_WORKERS"
else
    exec "$PYTHON" "$EXAMPLE" "${COMMON[@]}" --worker
fi
