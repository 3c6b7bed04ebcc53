#!/usr/bin/env bash
# Train several configurations in a row, e.g. overnight, then rank them.
#
#   scripts/train_overnight.sh IMAGES_DIR ANNOTATIONS_DIR [RUNS_FILE]
#
# RUNS_FILE (default: scripts/examples/overnight_runs.txt) lists one run per line:
#   NAME | options of `cellseg train`
# Models go to NAME/ in the models folder, found as cellseg finds it: $CELLSEG_MODELS if set,
# else trained_models/ in the current folder or in the nearest folder above it that has one,
# else trained_models/ in the current folder. A run that fails (a broken user file, a NaN
# loss) is reported and the next one starts; Ctrl-C stops the batch. Running the script again,
# from any folder below the same trained_models/, resumes unfinished runs and skips finished
# ones. Exits with the number of failed runs.
set -uo pipefail

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
    echo "usage: $0 IMAGES_DIR ANNOTATIONS_DIR [RUNS_FILE]" >&2
    exit 2
fi
images=$1
annotations=$2
runs_file=${3:-$(dirname "$0")/examples/overnight_runs.txt}
runs_dir=$(cd "$(dirname "$runs_file")" && pwd)

# The models folder by cellseg's rule, so that finished runs are found, and skipped, from
# any folder below it, and the runs train where the check looks.
# shellcheck source=scripts/models_folder.sh
source "$(dirname "$0")/models_folder.sh"
models=$(models_folder)
echo "== models folder: $models"

failed=0
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in "" | "#"*) continue ;; esac
    name=$(echo "${line%%|*}" | xargs)
    read -r -a options <<<"${line#*|}"
    # Files named in the runs file are relative to its folder.
    for index in "${!options[@]}"; do
        case "${options[$index]}" in
            --loss | --architecture | --hyperparameters)
                next=$((index + 1))
                file=${options[$next]:-}
                if [ -n "$file" ] && [ "${file#/}" = "$file" ]; then
                    options[next]="$runs_dir/$file"
                fi
                ;;
        esac
    done
    config="$models/$name/config.json"
    if [ -f "$config" ] && grep -q '"status": "finished"' "$config"; then
        echo "== $name: already trained, skipped"
        continue
    fi
    echo "== $name: training"
    cellseg train --images "$images" --annotations "$annotations" --name "$name" \
        --models-dir "$models" ${options[@]+"${options[@]}"} </dev/null
    code=$?
    if [ "$code" -eq 130 ]; then  # Ctrl-C: cellseg exits 130 rather than dying of it
        echo "== $name: interrupted; run this script again to go on where it stopped" >&2
        exit 130
    elif [ "$code" -ne 0 ]; then
        echo "== $name: FAILED, going on with the next run" >&2
        failed=$((failed + 1))
    fi
done <"$runs_file"

if [ -d "$models" ]; then
    cellseg leaderboard --models-dir "$models"
else  # no run got as far as creating it
    cellseg leaderboard
fi
exit "$failed"
