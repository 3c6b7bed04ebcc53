"""Check a user's loss or metric before training, as training will run it.

`check_loss_function` refuses, in one line naming the file (and its line, when the error
comes from it), a ``custom_loss`` or ``custom_metric`` that

- raises, or returns no number, on a made-up batch shaped as the network's output;
- fails in one training step of a tiny network: Keras runs losses and metrics as a compiled
  graph, where NumPy and Python on the tensors' values fail, and a loss whose value does
  not depend on ``y_pred`` has no gradients;
- cannot be right whatever it returns: a loss no lower for a prediction close to
  ``y_true`` than for one far from it (training would not move the network toward the
  annotations), or a metric giving both the same value.

Any shape of result is accepted: Keras averages the values a loss or metric returns into
one number (one per sample, per pixel, or per pixel and channel), as it does its own
losses'. `training_error` says the same of an error that only training met.
"""

import traceback
from collections.abc import Callable

import numpy as np

from cellseg.errors import CellsegError
from cellseg.neural_network.user_code import error_line, error_message, user_error, what_happened

#: Predictions "close to" ``y_true`` are this far from it (a perfect one would send the
#: logarithms of many losses to infinity), and those "far from it" the rest of the way.
_SMOOTHING = 0.1


def check_loss_function(function: Callable, name: str, path, targets: list[str]) -> None:
    """Refuse (`CellsegError`) a user's loss or metric (``name``: ``"custom_loss"`` or
    ``"custom_metric"``) that fails on the output of every one of ``targets``, with the
    problem met on the first."""
    first_problem = None
    for target in targets:
        problem = _problem(function, name, path, target)
        if problem is None:
            return
        first_problem = first_problem or problem
    raise first_problem


def training_error(error: BaseException, user_loss, architecture=None) -> CellsegError | None:
    """The one-line error of a user's loss or metric (``user_loss``, a `UserLoss` or None)
    or network (the ``architecture`` file, or None) that raised ``error`` while training
    (a layer may fail only there, where Keras calls it compiled, with ``training=True``);
    None when the error is not theirs."""
    if isinstance(error, CellsegError):
        return None
    if architecture is not None and error_line(error, architecture) is not None:
        problem = _graph_error(error, "the model", architecture)
        return CellsegError(f"{problem}; fix it, then train again with --restart")
    if user_loss is None:
        return None
    if error_line(error, user_loss.path) is None and "No gradients provided" not in str(error):
        return None
    name = "custom_loss"
    if user_loss.metric is not None and any(
        frame.name == getattr(user_loss.metric, "__name__", "custom_metric")
        for frame in traceback.extract_tb(error.__traceback__)
    ):
        name = "custom_metric"
    problem = _graph_error(error, name, user_loss.path)
    return CellsegError(f"{problem}; fix it, then train again with --restart")


def dummy_batch(target: str, *, rows: int = 16, seed: int = 0):
    """A made-up batch of two ``(y_true, y_pred)`` as a loss receives them for ``target``.

    ``y_true`` holds one-hot classes (then, for ``hover``, the two centre offsets from -1
    to 1), a continuous map from 0 to 1 (``distance``) or 0/1 (``mask``); ``y_pred`` class
    probabilities that sum to 1, offsets from -1 to 1, or values strictly between 0 and 1.

    Returns
    -------
    (y_true, y_pred) : float32 ndarrays of shape (2, rows, rows, channels)
    """
    from cellseg.neural_network.targets import get_target

    record = get_target(target)
    rng = np.random.default_rng(seed)
    shape = (2, rows, rows)
    if record.classes:
        y_true = np.eye(3)[rng.integers(0, 3, shape)]
        scores = rng.uniform(0.1, 1.0, (*shape, 3))
        y_pred = scores / scores.sum(axis=-1, keepdims=True)
        offsets = rng.uniform(-1, 1, (2, *shape, record.channels - 3))
        y_true = np.concatenate([y_true, offsets[0]], axis=-1)
        y_pred = np.concatenate([y_pred, offsets[1]], axis=-1)
    else:
        y_true = rng.uniform(0, 1, (*shape, record.channels))
        if not record.continuous:
            y_true = np.round(y_true)
        y_pred = rng.uniform(0.05, 0.95, (*shape, record.channels))
    return y_true.astype(np.float32), y_pred.astype(np.float32)


def close_and_far(target: str, *, rows: int = 16, seed: int = 0):
    """A made-up ``y_true`` for ``target`` and two predictions of it: one close to it and
    one far from it, made of the same values per pixel (the classes turned one further,
    maps turned upside down, offsets negated) and, for maps and offsets, over the batch:
    anything that does not compare ``y_pred`` with ``y_true`` finds them alike.

    Returns
    -------
    (y_true, close, far) : float32 ndarrays of shape (2, rows, rows, channels)

    Examples
    --------
    >>> y_true, close, far = close_and_far("mask")
    >>> round(float(np.abs(close - y_true).max()), 6), float(close.mean()), float(far.mean())
    (0.05, 0.5, 0.5)
    """
    from cellseg.neural_network.targets import get_target

    record = get_target(target)
    rng = np.random.default_rng(seed)
    half = (2, rows, rows // 2)
    if record.classes:
        y_true = np.eye(3)[rng.integers(0, 3, (2, rows, rows))]
        close = (1 - _SMOOTHING) * y_true + _SMOOTHING / 3
        far = np.roll(close, 1, axis=-1)
        offsets = rng.uniform(-1, 1, (*half, record.channels - 3))
        offsets = np.concatenate([offsets, -offsets], axis=2)  # they average to 0
        y_true = np.concatenate([y_true, offsets], axis=-1)
        close = np.concatenate([close, (1 - _SMOOTHING) * offsets], axis=-1)
        far = np.concatenate([far, -(1 - _SMOOTHING) * offsets], axis=-1)
    else:
        values = rng.uniform(0, 1, (*half, record.channels))
        if not record.continuous:
            values = np.round(values)
        y_true = np.concatenate([values, 1 - values], axis=2)  # they average to 0.5
        close = _SMOOTHING / 2 + (1 - _SMOOTHING) * y_true
        far = 1 - close
    return tuple(array.astype(np.float32) for array in (y_true, close, far))


def _problem(function, name: str, path, target: str) -> CellsegError | None:
    """What is wrong with a user's loss or metric on the output of ``target``, if anything."""
    y_true, y_pred = dummy_batch(target)
    result = _call(function, name, path, y_true, y_pred)
    if isinstance(result, CellsegError):
        return result
    if not _is_numbers(result):
        shown = "None" if result is None else type(result).__name__
        return user_error(path, f"{name} returned {shown}, not a number or tensor of numbers")
    return _training_step_problem(function, name, path, target) or _comparison_problem(
        function, name, path, target
    )


def _call(function, name: str, path, y_true, y_pred):
    """``function(y_true, y_pred)`` on tensors, or the `CellsegError` saying what it raised."""
    import keras

    try:
        return function(keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(y_pred))
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        return user_error(
            path,
            f"{name}(y_true, y_pred) on tensors of shape {y_pred.shape} {what_happened(error)}",
            error,
        )


def _training_step_problem(function, name: str, path, target: str) -> CellsegError | None:
    """One step of a tiny network trained with the loss (or with a plain loss and the
    metric), compiled as `cellseg.neural_network.training` compiles its network."""
    import keras

    from cellseg.neural_network.architectures import output_layers

    y_true, _ = dummy_batch(target)
    inputs = keras.Input((*y_true.shape[1:3], 3))
    model = keras.Model(inputs, output_layers(inputs, target))
    is_loss = name == "custom_loss"
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=function if is_loss else "mean_squared_error",
        metrics=[] if is_loss else [function],
    )
    images = np.random.default_rng(1).normal(size=(*y_true.shape[:3], 3)).astype(np.float32)
    try:
        model.train_on_batch(images, y_true)
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        return _graph_error(error, name, path)
    return None


def _graph_error(error: BaseException, name: str, path) -> CellsegError:
    """The one-line error of a loss, metric or network (``name``: ``"custom_loss"``,
    ``"custom_metric"`` or ``"the model"``) that failed in a training step."""
    message = error_message(error)
    if name == "custom_loss" and "No gradients provided" in message:
        return user_error(
            path,
            "custom_loss does not depend on y_pred (no gradients): it returns a constant, or "
            "computes from y_pred only through steps without a gradient (argmax, round, a "
            "cast to integers), so training cannot learn from it",
        )
    first_sentence = message.split(". ")[0].rstrip(".")
    graph = any(word in message.lower() for word in ("numpy", "symbolic", "tracer", "graph"))
    written = {"custom_loss": "losses", "custom_metric": "metrics"}.get(name, "layers")
    hint = (
        f"; write {written} with keras.ops, not "
        "NumPy or Python on the tensors' values, which a compiled training step does not have"
        if graph or "Tracer" in type(error).__name__
        else ""
    )
    return user_error(
        path,
        f"{name} raised {type(error).__name__} in a training step ({first_sentence}){hint}",
        error,
    )


def _comparison_problem(function, name: str, path, target: str) -> CellsegError | None:
    """A loss no lower close to ``y_true`` than far from it, or a metric alike on both."""
    y_true, close, far = close_and_far(target)
    values = []
    for y_pred in (close, far):
        result = _call(function, name, path, y_true, y_pred)
        if isinstance(result, CellsegError):
            return result
        if not _is_numbers(result):
            return None  # said by the first call, on other values, if ever
        values.append(_averaged(result))
    near, away = values
    if not np.isfinite(values).all():
        return None  # training stops at a NaN loss and says so
    shape = tuple(np.shape(_numpy(result)))
    averaged = "" if shape == () else f" (Keras averages the {shape} values it returns)"
    tolerance = 1e-5 * max(1.0, abs(near), abs(away))
    if name == "custom_loss" and not away - near > tolerance:
        return user_error(
            path,
            f"custom_loss is no lower for y_pred close to y_true ({near:.4g}) than for y_pred "
            f"far from it ({away:.4g}){averaged}, so training would not move the network "
            "toward the annotations: it must compare y_pred with y_true",
        )
    if name != "custom_loss" and abs(away - near) <= tolerance:
        return user_error(
            path,
            f"{name} gives the same value ({near:.4g}) for y_pred close to y_true and far "
            f"from it{averaged}, so it measures nothing of the prediction: it must compare "
            "y_pred with y_true",
        )
    return None


def _numpy(result):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(result))


def _averaged(result) -> float:
    """The one number Keras makes of a loss's or metric's ``result``: its mean."""
    return float(np.mean(_numpy(result), dtype=np.float64))


def _is_numbers(result) -> bool:
    """Whether a loss's ``result`` is a number or a tensor of numbers."""
    try:
        values = _numpy(result)
    except Exception:  # whatever the user's function returned, it is no tensor
        return False
    return bool(np.issubdtype(values.dtype, np.number))
