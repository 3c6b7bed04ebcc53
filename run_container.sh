#!/usr/bin/env bash
# Run cellseg in its GPU container, with this folder's data and trained_models/ mounted.
#
#   ./run_container.sh COMMAND [ARGUMENTS...]      e.g. ./run_container.sh predict default data
#
# The current folder is mounted as /work (the container's working folder), so relative
# paths in ARGUMENTS work as they do outside, and the models folder cellseg would use here
# (the nearest trained_models/ at or above it, or $CELLSEG_MODELS) as /models, so models
# trained in the container land there and the ones there are found. Set CELLSEG_IMAGE to
# use another image (default: cellseg, built with `docker build -t cellseg .`) and
# CELLSEG_GPUS to choose GPUs (default: all).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGUMENTS...]   (cellseg's commands: $0 --help)" >&2
    exit 2
fi
image=${CELLSEG_IMAGE:-cellseg}
gpus=${CELLSEG_GPUS:-all}
# shellcheck source=scripts/models_folder.sh
source "$(dirname "$0")/scripts/models_folder.sh"
models=$(models_folder)
mkdir -p "$models"
models=$(cd "$models" && pwd -P)

exec docker run --rm --gpus "$gpus" \
    --user "$(id -u):$(id -g)" \
    --volume "$PWD:/work" \
    --volume "$models:/models" \
    --env CELLSEG_MODELS=/models \
    --workdir /work \
    "$image" "$@"
