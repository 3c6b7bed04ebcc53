#!/usr/bin/env bash
#SBATCH --job-name=cellseg-predict
#SBATCH --array=1-10
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=cellseg-predict-%A_%a.log
#
# Predict a folder of slides on a Slurm cluster: each task of the job array takes its share.
#
#   sbatch scripts/predict_slurm.sh MODEL SLIDES_DIR OUTPUT_DIR [MORE cellseg predict OPTIONS]
#
# Change --array above (or give sbatch --array=...) to the tasks you want: any range works
# (1-10, 0-9, 1-20:2, 0-99%10), and the slides are split evenly among its tasks. The tasks
# share OUTPUT_DIR; re-submitting after a failure redoes only the unfinished slides, and
# counts.csv / cells.csv cover every finished slide. Run outside a job array, the script
# stops: `cellseg predict` does the whole folder in one process.
set -euo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: sbatch --array=1-10 $0 MODEL SLIDES_DIR OUTPUT_DIR [OPTIONS]" >&2
    exit 2
fi
model=$1
slides=$2
output=$3
shift 3

# This task's share, K of N, from what Slurm sets in every task of an array: the tasks'
# numbers need not start at 1 (--array=0-9) nor follow each other (--array=1-20:2).
fail() {
    echo "$(basename "$0"): error: $*" >&2
    exit 2
}
for variable in SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_COUNT; do
    if [ -z "${!variable:-}" ]; then
        fail "not a task of a Slurm job array ($variable is not set): submit it with" \
            "sbatch --array=1-10 $0 $model $slides $output" \
            "(or run cellseg predict on the whole folder)"
    fi
done
for variable in SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_COUNT \
    SLURM_ARRAY_TASK_STEP SLURM_ARRAY_TASK_MAX; do
    case "${!variable:-0}" in
        *[!0-9]*) fail "$variable is '${!variable}', not a whole number" ;;
    esac
done
task=$((10#$SLURM_ARRAY_TASK_ID))
first=$((10#$SLURM_ARRAY_TASK_MIN))
tasks=$((10#$SLURM_ARRAY_TASK_COUNT))
step=$((10#${SLURM_ARRAY_TASK_STEP:-1}))
last=$((10#${SLURM_ARRAY_TASK_MAX:-$((first + (tasks - 1) * step))}))
# A list of tasks (--array=1,5,7) has no step that gives each task its share.
if [ "$tasks" -lt 1 ] || [ "$step" -lt 1 ] || [ "$last" -ne $((first + (tasks - 1) * step)) ] \
    || [ "$task" -lt "$first" ] || [ "$task" -gt "$last" ] \
    || [ $(((task - first) % step)) -ne 0 ]; then
    fail "task $task of an array of $tasks tasks from $first to $last: give sbatch a" \
        "range of tasks, --array=FIRST-LAST or --array=FIRST-LAST:STEP"
fi
share=$(((task - first) / step + 1))

cellseg predict "$model" "$slides" --output "$output" --shard "$share/$tasks" \
    --format tiff geojson "$@"
