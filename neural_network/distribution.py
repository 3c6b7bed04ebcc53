"""Where training runs: tf.distribute's strategies (`training_strategy`), for
``cellseg train --distribute``."""

import contextlib
import os
import sys

from cellseg.errors import CellsegError


def training_strategy(distribute: bool):
    """MirroredStrategy across this machine's GPUs, or across machines when TF_CONFIG is set.

    Keras' JAX and PyTorch backends train on one device, without tf.distribute.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        if distribute:
            raise CellsegError(
                f"--distribute needs Keras' TensorFlow backend (KERAS_BACKEND is "
                f"{keras.backend.backend()!r})"
            )
        return _OneDevice()
    import tensorflow as tf

    if not distribute:
        return tf.distribute.get_strategy()
    if os.environ.get("TF_CONFIG"):
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = tf.distribute.MirroredStrategy()
    print(
        f"cellseg train: {type(strategy).__name__} over {strategy.num_replicas_in_sync} replica(s)",
        file=sys.stderr,
    )
    return strategy


class _OneDevice:
    """The strategy of the backends without tf.distribute: build the model where it is."""

    def scope(self):
        return contextlib.nullcontext()
