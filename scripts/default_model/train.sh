#!/usr/bin/env bash
# Re-create trained_models/default from the MoNuSeg 2018 training images.
#
#   scripts/default_model/train.sh [MONUSEG_TRAIN_DIR]
#
# MONUSEG_TRAIN_DIR holds images/, outlines/ and labels/ (default:
# ../shared/datasets/monuseg/train beside the repository). The images listed in
# held_out_images.txt are kept out of training; the others are trained on, with a fifth of
# them (whole images) for validation. Then the model is scored on the held-out images, and
# compared with the classical pipeline. Took 85 minutes on 2 CPU cores, 42 on a faster day
# after faster tile cutting. The model card (trained_models/default/README.md) and the log of
# experiments (EXPERIMENTS.md beside it) are kept as they were: update their figures from
# this run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repository=$(cd "$here/../.." && pwd)
source=${1:-$repository/../shared/datasets/monuseg/train}
if [ ! -d "$source/images" ]; then
    echo "$0: $source/images: no such folder (pass the MoNuSeg train folder)" >&2
    exit 1
fi

work=$(mktemp -d)
model=$repository/trained_models/default
# --restart below deletes the model folder; its documents are put back however training ends.
mkdir -p "$work/documents"
for document in "$model"/*.md; do
    if [ -f "$document" ]; then cp "$document" "$work/documents/"; fi
done
trap 'mkdir -p "$model"; cp "$work"/documents/*.md "$model/" 2>/dev/null || true; rm -rf "$work"' EXIT
for split in training held_out; do
    for kind in images outlines labels; do mkdir -p "$work/$split/$kind"; done
done
for image in "$source"/images/*.png; do
    name=$(basename "$image" .png)
    split=training
    if grep -qx "$name" "$here/held_out_images.txt"; then split=held_out; fi
    for kind in images outlines labels; do
        ln -s "$source/$kind/$name.png" "$work/$split/$kind/$name.png"
    done
done

cd "$repository"
cellseg train --images "$work/training/images" --annotations "$work/training/outlines" \
    --name default --hyperparameters "$here/hyperparameters.py" --seed 0 --restart
# The model records the folders it read, this script's temporary links: say where they lead.
python - "$repository/trained_models/default" "$source" <<'RECORD'
import sys
from cellseg.neural_network.model_folder import ModelFolder

folder, source = ModelFolder(sys.argv[1]), sys.argv[2]
config = folder.read_config()
data = {**config.training["data"], "images": f"{source}/images", "annotations": f"{source}/outlines"}
folder.write_config(config.with_changes(training={**config.training, "data": data}))
RECORD
# evaluate writes nothing into the model folder it reads: the scores are copied there.
cellseg evaluate default --images "$work/held_out/images" \
    --annotations "$work/held_out/labels" --output "$work/held_out_scores.csv"
cp "$work/held_out_scores.csv" "$model/held_out_scores.csv"
python benchmarks/default_vs_classical.py --model default \
    --images "$work/held_out/images" --labels "$work/held_out/labels"
