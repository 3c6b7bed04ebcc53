#!/usr/bin/env bash
# Prepare a folder of annotated slides for training, as an overnight batch would:
# red-outline annotation layers -> 16-bit labels and 3-class targets, and 200 px tiles.
#
#   scripts/prepare_training_data.sh IMAGES_DIR OUTLINES_DIR OUTPUT_DIR
#
# Each step runs on the whole folder; a bad file is reported and the others go on, so the
# script carries on to the next step and exits non-zero at the end if any step failed.
set -uo pipefail

if [ "$#" -ne 3 ]; then
    echo "usage: $0 IMAGES_DIR OUTLINES_DIR OUTPUT_DIR" >&2
    exit 2
fi
images=$1
outlines=$2
output=$3
status=0

cellseg labels "$outlines" "$output/labels" --images "$images" || status=1
cellseg labels "$outlines" "$output/3class" --target 3class || status=1
cellseg split "$images" "$output/image_tiles" --tile 200 --overlap 100 || status=1
cellseg split "$output/labels" "$output/label_tiles" --tile 200 --overlap 100 || status=1

exit "$status"
