"""Ctrl-C, held back to a safe point (`cellseg.interruption.deferred`): training stops after
the step it came in, with the `KeyboardInterrupt` the command line reports (TensorFlow may
lose one raised inside a step), and a slide after the region it came in, that region kept."""

import signal
import sys

import numpy as np
import pytest
from dark_slides import DarkCells, results

from cellseg import interruption
from cellseg.neural_network.callbacks import StopWhenInterrupted

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX"),
    pytest.mark.usefixtures("ctrl_c_as_at_a_terminal"),
]


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


def test_ctrl_c_during_a_slide_region_stops_after_it_is_kept(small_regions, blank_slide, tmp_path):
    class CtrlCInSecondRegion(DarkCells):
        def segment(self, image, *, scale="auto", counterstain=None):
            if len(self.windows) == 1:
                signal.raise_signal(signal.SIGINT)  # held back: this region is found
            return super().segment(image, scale=scale, counterstain=counterstain)

    files, model = results(tmp_path / "out", formats=("tiff",)), CtrlCInSecondRegion()
    with interruption.watching():
        with pytest.raises(KeyboardInterrupt):
            with interruption.deferred("stopping after this region"):
                files.add("blank.svs", model.segment_file(blank_slide[0], scale=1))
    assert len(model.windows) == 2
    assert len(list((tmp_path / "out" / ".blank.regions").glob("region_*.npz"))) == 2
    assert not files.finished("blank.svs")
