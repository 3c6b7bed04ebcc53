# cellseg with TensorFlow on NVIDIA GPUs. Build and run through ./run_container.sh:
#   docker build -t cellseg .
#   ./run_container.sh train --images data/images --annotations data/outlines --name lab
# The official TensorFlow GPU image brings CUDA and a TensorFlow that satisfies cellseg's
# requirement, so pip keeps it.
ARG TENSORFLOW_IMAGE=tensorflow/tensorflow:2.21.0-gpu
FROM ${TENSORFLOW_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=3

WORKDIR /opt/cellseg
# What `pip install .` reads: pyproject.toml, the README it names, and every folder its
# [tool.setuptools.package-dir] maps (tests/test_scripts_container.py checks the two agree).
COPY pyproject.toml README.md ./
COPY cellseg ./cellseg
COPY preprocessing ./preprocessing
COPY postprocessing ./postprocessing
COPY neural_network ./neural_network
COPY trained_models ./trained_models
COPY scripts/examples ./scripts/examples
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 1000 --shell /bin/bash cellseg \
    && mkdir -p /work \
    && chown cellseg:cellseg /work

# The unprivileged user created above; run_container.sh runs as the calling user instead.
USER 1000:1000
WORKDIR /work
ENTRYPOINT ["cellseg"]
CMD ["--help"]
