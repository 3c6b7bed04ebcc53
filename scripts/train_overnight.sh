#!/usr/bin/env bash
# Train several configurations in a row, e.g. overnight, then rank them.
#
#   scripts/train_overnight.sh IMAGES_DIR ANNOTATIONS_DIR [HYPERPARAMETERS_FILE]
#
# Each run gets its own model in trained_models/. A run that fails (a bad user file, a NaN
# loss) is reported and the next one starts; re-running the script resumes unfinished runs
# and skips finished ones. Edit the list below to try your own loss, architecture or target.
set -uo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 IMAGES_DIR ANNOTATIONS_DIR [HYPERPARAMETERS_FILE]" >&2
    exit 2
fi
images=$1
annotations=$2
here=$(cd "$(dirname "$0")" && pwd)
hyperparameters=${3:-$here/examples/hyperparameters.py}

# name | extra arguments
runs=(
    "unet-3class|--target 3class"
    "unet-distance|--target distance"
    "small-unet-dice|--target mask --architecture $here/examples/small_unet.py --loss $here/examples/dice_loss.py"
)

failed=0
for run in "${runs[@]}"; do
    name=${run%%|*}
    read -r -a extra <<<"${run#*|}"
    if [ -f "trained_models/$name/config.json" ] && grep -q '"status": "finished"' "trained_models/$name/config.json"; then
        echo "== $name: already trained, skipped"
        continue
    fi
    echo "== $name: training"
    if ! cellseg train --images "$images" --annotations "$annotations" --name "$name" \
        --hyperparameters "$hyperparameters" "${extra[@]}"; then
        echo "== $name: FAILED, going on with the next run" >&2
        failed=$((failed + 1))
    fi
done

cellseg leaderboard
exit "$failed"
