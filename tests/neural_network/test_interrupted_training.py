"""Ctrl-C while Keras traces or runs a step stops training cleanly after that step, with the
`KeyboardInterrupt` the command line reports (TensorFlow may lose one raised inside a step)."""

import signal
import sys

import numpy as np
import pytest

from cellseg import interruption
from cellseg.neural_network.callbacks import StopWhenInterrupted

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX")


@pytest.mark.parametrize("during", ["training", "validation"])
def test_ctrl_c_while_a_step_is_traced_stops_after_that_step(during):
    import keras
    import tensorflow as tf

    class CtrlCWhenTraced(keras.layers.Layer):
        """Presses Ctrl-C once, while the first training (or validation) step is traced."""

        armed = False

        def call(self, x, training=None):
            if self.armed and not tf.executing_eagerly() and training == (during == "training"):
                CtrlCWhenTraced.armed = False
                signal.raise_signal(signal.SIGINT)
            return x

    class Steps(keras.callbacks.Callback):
        training = validation = 0

        def on_train_batch_end(self, batch, logs=None):
            self.training += 1

        def on_test_batch_end(self, batch, logs=None):
            self.validation += 1

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(CtrlCWhenTraced()(inputs)))
    model.compile("sgd", "mse")
    steps = Steps()
    data = (np.zeros((32, 4), np.float32), np.zeros((32, 1), np.float32))
    CtrlCWhenTraced.armed = True
    with interruption.watching():
        with pytest.raises(KeyboardInterrupt):
            with interruption.deferred("stopping after this step"):
                model.fit(
                    *data, validation_data=data, batch_size=4, epochs=3, verbose=0,
                    callbacks=[steps, StopWhenInterrupted()],
                )  # fmt: skip
    assert not CtrlCWhenTraced.armed  # it was pressed
    if during == "training":
        assert (steps.training, steps.validation) == (1, 0)
    else:  # the first epoch's 8 training steps, then the first validation step
        assert (steps.training, steps.validation) == (8, 1)
