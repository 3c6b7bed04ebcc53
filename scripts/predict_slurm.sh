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
# Change --array above to the number of tasks you want (the slides are split evenly). The
# tasks share OUTPUT_DIR; re-submitting after a failure redoes only the unfinished slides,
# and counts.csv / cells.csv cover every finished slide.
set -euo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: sbatch $0 MODEL SLIDES_DIR OUTPUT_DIR [OPTIONS]" >&2
    exit 2
fi
model=$1
slides=$2
output=$3
shift 3
task=${SLURM_ARRAY_TASK_ID:-1}
tasks=${SLURM_ARRAY_TASK_COUNT:-1}

cellseg predict "$model" "$slides" --output "$output" --shard "$task/$tasks" \
    --format tiff geojson "$@"
