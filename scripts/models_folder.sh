# shellcheck shell=bash
# Sourced by train_overnight.sh and run_container.sh: models_folder prints the models folder
# by cellseg's rule (models_folder in neural_network/model_folder.py; the tests hold the two
# to the same answer): $CELLSEG_MODELS if set, else trained_models/ in the current folder or
# in the nearest folder above it that has one, else trained_models/ in the current folder.
models_folder() {
    if [ -n "${CELLSEG_MODELS:-}" ]; then
        echo "$CELLSEG_MODELS"
        return
    fi
    local working folder
    working=$(pwd -P)
    folder=$working
    while :; do
        if [ -d "${folder%/}/trained_models" ]; then
            echo "${folder%/}/trained_models"
            return
        fi
        [ "$folder" = / ] && break
        folder=$(dirname "$folder")
    done
    echo "${working%/}/trained_models"
}
