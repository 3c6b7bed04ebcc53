"""Keras callbacks of a training run: per-epoch records for resuming, progress, time
estimate, schedule."""

import contextlib
import math
import sys
import time

import keras

from cellseg.batch import counted
from cellseg.interruption import raise_if_interrupted
from cellseg.neural_network.model_folder import ModelFolder, save_network, save_weights

#: Steps after the first that `TimeEstimate` times before it says how long a run takes.
TIMED_STEPS = 3


class EpochRecorder(keras.callbacks.Callback):
    """Write, at the end of each epoch, what a killed run needs to resume there.

    In order, each write atomic: the weights and optimizer state
    (``checkpoints/epoch-N.weights.h5``), the best network so far (``best.keras``, when the
    validation loss improved; the weights' moving average, when the optimizer keeps one),
    ``history.csv`` with the epoch's row, and lastly ``checkpoints/state.json`` naming that
    epoch and its weights. A run killed before the state is written resumes at the previous
    epoch and rewrites its row, so every epoch appears in the history once. A NaN loss stops
    training and is reported, not saved.
    """

    def __init__(self, folder: ModelFolder, *, total_epochs: int):
        super().__init__()
        self.folder = folder
        self.total_epochs = total_epochs
        self.rows: list[dict] = []
        self.best_value = math.inf
        self.best_epoch: int | None = None
        self.nan_at: tuple[int, int] | None = None
        self._epoch = 0
        self._started = time.monotonic()

    def restore(self, model) -> int:
        """Load the last finished epoch's state into ``model``; returns the epochs done."""
        state = self.folder.read_state()
        if state is None:
            return 0
        weights = self.folder.checkpoints / state["weights"]
        if not weights.is_file():
            return 0
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(weights)
        done = int(state["finished_epochs"])
        self.rows = [row for row in self.folder.read_history() if row["epoch"] <= done]
        self.best_value = float(state.get("best_value", math.inf))
        self.best_epoch = state.get("best_epoch")
        return done

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.nan_at = (self._epoch + 1, batch + 1)
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.nan_at is not None:
            return
        logs = {key: float(value) for key, value in (logs or {}).items()}
        finished = epoch + 1
        weights_name = f"epoch-{finished:04d}.weights.h5"
        self.folder.checkpoints.mkdir(parents=True, exist_ok=True)
        save_weights(self.model, self.folder.checkpoints / weights_name)
        monitored = logs.get("val_loss", logs.get("loss", math.inf))
        if monitored < self.best_value:
            self.best_value, self.best_epoch = monitored, finished
            with averaged_weights(self.model):
                save_network(self.model, self.folder.best_path)
        row = {"epoch": finished, **logs, "seconds": round(time.monotonic() - self._started, 2)}
        self.rows = [kept for kept in self.rows if kept["epoch"] < finished] + [row]
        self.folder.write_history(self.rows)
        self.folder.write_state(
            {
                "finished_epochs": finished,
                "weights": weights_name,
                "best_value": self.best_value,
                "best_epoch": self.best_epoch,
            }
        )
        for old in self.folder.checkpoints.glob("epoch-*.weights.h5"):
            if old.name != weights_name:
                old.unlink(missing_ok=True)


@contextlib.contextmanager
def averaged_weights(model):
    """Within it, ``model`` holds its optimizer's moving average of its weights, if the
    optimizer keeps one (``use_ema=True``); its own weights are put back on leaving."""
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    if not getattr(optimizer, "use_ema", False) or not optimizer.built:
        yield
        return
    # The attributes keras.callbacks.SwapEMAWeights swaps: no public name reaches them.
    variables = optimizer._trainable_variables
    averages = optimizer._model_variables_moving_average
    own = [keras.ops.convert_to_numpy(variable) for variable in variables]
    for variable, average in zip(variables, averages, strict=True):
        variable.assign(average)
    try:
        yield
    finally:
        for variable, value in zip(variables, own, strict=True):
            variable.assign(value)


class ProgressBar(keras.callbacks.Callback):
    """A progress bar per epoch on a terminal, and one summary line per epoch always, with
    the time the remaining epochs will take at the pace of those run so far."""

    def __init__(self, epochs: int, steps: int):
        super().__init__()
        self.epochs, self.steps = epochs, steps
        self.bar = None
        self._started = time.monotonic()
        self._seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        from tqdm import tqdm

        self._started = time.monotonic()
        self.bar = tqdm(
            total=self.steps,
            desc=f"epoch {epoch + 1}/{self.epochs}",
            unit="step",
            disable=None,
            file=sys.stderr,
            leave=False,
        )

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(1)
            if logs and "loss" in logs:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.4f}")

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.close()
        shown = ", ".join(
            f"{key} {float(value):.4g}"
            for key, value in (logs or {}).items()
            if key != "learning_rate"
        )
        seconds = time.monotonic() - self._started
        self._seconds.append(seconds)
        left = (self.epochs - epoch - 1) * sum(self._seconds) / len(self._seconds)
        remaining = f"; about {_duration(left)} left" if epoch + 1 < self.epochs else ""
        print(
            f"epoch {epoch + 1}/{self.epochs}: {shown} ({seconds:.0f} s{remaining})",
            file=sys.stderr,
        )


class StopWhenInterrupted(keras.callbacks.Callback):
    """Raise, at the end of a step, a Ctrl-C that `cellseg.interruption.deferred` held back:
    there it stops training cleanly, and a resumed run starts after the last saved epoch."""

    def on_train_batch_end(self, batch, logs=None):
        raise_if_interrupted()

    def on_test_batch_end(self, batch, logs=None):
        raise_if_interrupted()


class TimeEstimate(keras.callbacks.Callback):
    """Say, once the first steps of a run (or of a resumed run) are done, how long its
    training steps will take: those left, at the pace of the steps after the first (which
    also builds the network's graph), with that pace in tiles per second."""

    def __init__(self, *, epochs: int, steps: int, first_epoch: int, batch_size: int, tile: int):
        super().__init__()
        self.total_steps = (epochs - first_epoch) * steps
        self.epochs_left, self.steps = epochs - first_epoch, steps
        self.batch_size, self.tile = batch_size, tile
        self._started = time.monotonic()
        self._ends: list[float] = []
        self._said = False

    def on_train_begin(self, logs=None):
        self._started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if not self._said:
            self._ends.append(time.monotonic())
            if len(self._ends) > TIMED_STEPS:
                self._say()

    def on_epoch_end(self, epoch, logs=None):
        if not self._said and self._ends:  # epochs of fewer steps than those timed
            self._say()

    def _say(self):
        self._said = True
        ends = self._ends
        if len(ends) > 1:
            seconds = (ends[-1] - ends[0]) / (len(ends) - 1)
        else:
            seconds = ends[0] - self._started
        left = (self.total_steps - len(ends)) * seconds
        if left <= 0:
            return  # the last step is done: no time left to estimate
        print(
            f"cellseg train: {counted(self.steps, 'step')} of {counted(self.batch_size, 'tile')} "
            f"of {self.tile} x {self.tile} pixels per epoch, "
            f"{counted(self.epochs_left, 'epoch')}: about "
            f"{_duration(left)} more of training steps (at {self.batch_size / seconds:.1f} "
            "tiles per second, the pace of the first steps)",
            flush=True,
        )


def _duration(seconds: float) -> str:
    """A duration in words a person reads at a glance: ``"40 s"``, ``"7 min"``, ``"2.5 h"``;
    at least ``"1 s"``, so that a short run's few steps are not said to take no time.

    Examples
    --------
    >>> _duration(0.2), _duration(40.4), _duration(420), _duration(9000)
    ('1 s', '40 s', '7 min', '2.5 h')
    """
    if seconds < 90:
        return f"{max(round(seconds), 1)} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def cosine_schedule(
    learning_rate: float, epochs: int, *, warmup_epochs: int = 0, steps: int = 1
) -> keras.callbacks.Callback:
    """Learning rate decaying along a half cosine from ``learning_rate`` to 5% of it, after
    rising linearly, step by step, from 0 over the first ``warmup_epochs`` (of ``steps``
    steps each): a network that already knows its task (fine-tuning) is not knocked off it
    by the first steps' large updates, while Adam's statistics are still unsettled.

    It depends on the epoch and step numbers alone, so a resumed run continues the same
    schedule.
    """

    def rate(epoch, current=None):
        progress = epoch / max(epochs, 1)
        return learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))

    if not warmup_epochs:
        return keras.callbacks.LearningRateScheduler(rate)
    return _WarmedUp(rate, warmup_steps=warmup_epochs * steps, steps=steps)


class _WarmedUp(keras.callbacks.LearningRateScheduler):
    """A per-epoch schedule multiplied, in its first ``warmup_steps``, by the share of
    them done (1/warmup_steps at the first step)."""

    def __init__(self, schedule, *, warmup_steps: int, steps: int):
        super().__init__(schedule)
        self.warmup_steps, self.steps = warmup_steps, steps
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        super().on_epoch_begin(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        step = self._epoch * self.steps + batch
        if step < self.warmup_steps:
            share = (step + 1) / self.warmup_steps
            self.model.optimizer.learning_rate = float(self.schedule(self._epoch) * share)
