"""Load the users' own Python files by path (importlib, never exec) and check their contracts.

- loss file: ``custom_loss(y_true, y_pred)`` and optionally ``custom_metric(y_true, y_pred)``,
  written with ``keras.ops``; ``y_true`` has the shape of ``y_pred`` (see `losses`). Each is
  called once on a small made-up batch before training.
- architecture file: ``get_model(input_shape)`` returning a ``keras.Model`` whose output has
  the input's rows and columns and the channels the target needs (3 for ``3class``,
  1 for ``mask`` and ``distance``, 5 for ``hover``), and which a saved model file gives
  back in Keras' safe mode (no ``Lambda`` layer, custom layers registered).
- hyperparameters file: upper-case names (see `hyperparameters`).

Every problem is a `CellsegError` whose one line names the file and what is wrong, found
before training starts; only a ``KeyboardInterrupt`` in a user's code gets through.
"""

import importlib.util
import inspect
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from cellseg.errors import file_error
from cellseg.neural_network.hyperparameter_checks import hyperparameters_from_names
from cellseg.neural_network.hyperparameters import Hyperparameters


@dataclass(frozen=True)
class UserLoss:
    """A user's loss function and, optionally, metric."""

    path: Path
    loss: Callable
    metric: Callable | None


def load_python_file(path, *, role: str) -> ModuleType:
    """Import the Python file at ``path`` as a fresh module.

    Raises `CellsegError` (naming the file and its ``role``) when it is missing, has a
    syntax error or raises while being imported.
    """
    path = Path(path)
    if not path.is_file():
        raise file_error(path, f"{role} file not found")
    if path.suffix != ".py":
        raise file_error(path, f"{role} file must be a Python file ending in .py")
    name = f"cellseg_user_{role.replace(' ', '_')}_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise file_error(path, f"cannot load this {role} file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling in the file look themselves up here
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        sys.modules.pop(name, None)
        raise file_error(
            path, f"syntax error in {role} file, line {error.lineno}: {error.msg}"
        ) from None
    except KeyboardInterrupt:
        sys.modules.pop(name, None)
        raise
    except BaseException as error:  # sys.exit() too: it would end cellseg without a word
        sys.modules.pop(name, None)
        raise file_error(
            path, f"{role} file {_what_happened(error, when=' when imported')}"
        ) from None
    return module


def load_loss_file(path, *, target: str | None = None) -> UserLoss:
    """Read ``custom_loss`` (required) and ``custom_metric`` (optional) from a loss file.

    Each is called once on a made-up batch of ``y_true`` and ``y_pred`` shaped as the
    network's output for ``target``, so that a function that raises is refused before
    training. Without a ``target``, on the shape of each target, and refused when it
    fails on all of them (with the error of the default target, ``3class``).
    """
    module = load_python_file(path, role="loss")
    loss = _function(module, path, "custom_loss", "loss", required=True)
    metric = _function(module, path, "custom_metric", "loss", required=False)
    if target is None:
        from cellseg.neural_network.targets import DEFAULT_TARGET, TARGETS

        targets = [DEFAULT_TARGET, *(name for name in TARGETS if name != DEFAULT_TARGET)]
    else:
        targets = [target]
    for name, function in (("custom_loss", loss), ("custom_metric", metric)):
        if function is not None:
            _check_loss_function(function, name, path, targets)
    return UserLoss(Path(path), loss, metric)


def load_architecture_file(path) -> Callable:
    """Read ``get_model(input_shape)`` from an architecture file."""
    module = load_python_file(path, role="architecture")
    get_model = _function(module, path, "get_model", "architecture", required=True, arguments=1)
    return get_model


def build_user_model(get_model: Callable, path, input_shape: tuple, target: str):
    """Call a user's ``get_model`` and check that the model fits ``target``."""
    import keras

    from cellseg.neural_network.targets import get_target

    try:
        model = get_model(input_shape)
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        raise file_error(path, f"get_model{input_shape} {_what_happened(error)}") from None
    if not isinstance(model, keras.Model):
        raise file_error(path, f"get_model must return a keras.Model, not {type(model).__name__}")
    outputs = getattr(model, "outputs", None)  # a subclassed model has none until called
    if outputs is None:
        raise file_error(
            path,
            f"get_model must return a functional model, keras.Model(inputs, outputs), not the "
            f"subclassed {type(model).__name__}, which has no outputs until called",
        )
    if len(outputs) != 1:
        raise file_error(path, f"the model must have one output, it has {len(outputs)}")
    shape = tuple(outputs[0].shape)
    expected = get_target(target).channels
    if len(shape) != 4 or shape[-1] != expected:
        raise file_error(
            path,
            f"the model's output has shape {shape}; --target {target} needs "
            f"(batch, rows, columns, {expected})"
            + (
                " (a 1-channel sigmoid model trains on --target mask)" if shape[-1:] == (1,) else ""
            ),
        )
    if shape[1:3] != tuple(input_shape[:2]):
        raise file_error(
            path,
            f"the model's output has {shape[1:3]} rows and columns for an input of "
            f"{tuple(input_shape[:2])}; a segmentation model must keep them",
        )
    _check_saving(model, path)
    return model


def load_hyperparameters_file(path) -> Hyperparameters:
    """Read the upper-case names of a hyperparameters file."""
    module = load_python_file(path, role="hyperparameters")
    names = {name: getattr(module, name) for name in dir(module) if name.isupper()}
    hyperparameters, problems = hyperparameters_from_names(names)
    if problems:
        raise file_error(path, "; ".join(problems))
    return hyperparameters


def _function(module, path, name: str, role: str, *, required: bool, arguments: int = 2):
    function = getattr(module, name, None)
    if function is None:
        if required:
            signature = "input_shape" if arguments == 1 else "y_true, y_pred"
            raise file_error(path, f"{role} file defines no {name}({signature})")
        return None
    if not callable(function):
        raise file_error(path, f"{name} must be a function, not {type(function).__name__}")
    try:
        inspect.signature(function).bind(*range(arguments))
    except TypeError:
        raise file_error(
            path, f"{name} must take {arguments} argument{'s' if arguments > 1 else ''}"
        ) from None
    except ValueError:
        pass  # builtins without a signature: trust them
    return function


def _what_happened(error: BaseException, *, when: str = "") -> str:
    """``"raised ValueError{when}: too small"``, or ``"called sys.exit(3){when}"``, on one
    line."""
    if isinstance(error, SystemExit):
        return f"called sys.exit({'' if error.code is None else repr(error.code)}){when}"
    message = str(error).split("Full object config:")[0]  # Keras' configurations are long
    message = " ".join(re.sub(r"\{\{function_node .*?\}\}", "", message).split())  # TF's
    return f"raised {type(error).__name__}{when}" + (f": {message}" if message else "")


def _dummy_batch(target: str, *, rows: int = 16, seed: int = 0):
    """A made-up batch of two ``(y_true, y_pred)`` as a loss receives them for ``target``.

    ``y_true`` holds one-hot classes (then, for ``hover``, the two centre offsets from -1
    to 1), a continuous map from 0 to 1 (``distance``) or 0/1 (``mask``); ``y_pred`` class
    probabilities that sum to 1, offsets from -1 to 1, or values strictly between 0 and 1.

    Returns
    -------
    (y_true, y_pred) : float32 ndarrays of shape (2, rows, rows, channels)
    """
    import numpy as np

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


def _check_loss_function(function: Callable, name: str, path, targets: list[str]) -> None:
    """Call a user's loss or metric on a made-up batch for each of ``targets``; refuse it
    when it raises (or returns no number) for all of them."""
    import keras

    first_problem = None
    for target in targets:
        y_true, y_pred = (keras.ops.convert_to_tensor(array) for array in _dummy_batch(target))
        try:
            result = function(y_true, y_pred)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            problem = (
                f"{name}(y_true, y_pred) on tensors of shape {tuple(y_pred.shape)} "
                f"{_what_happened(error)}"
            )
        else:
            if _is_numbers(result):
                return
            shown = "None" if result is None else type(result).__name__
            problem = f"{name} returned {shown}, not a number or tensor of numbers"
        first_problem = first_problem or problem
    raise file_error(path, first_problem)


def _is_numbers(result) -> bool:
    """Whether a loss's ``result`` is a number or a tensor of numbers."""
    import keras
    import numpy as np

    try:
        values = np.asarray(keras.ops.convert_to_numpy(result))
    except Exception:  # whatever the user's function returned, it is no tensor
        return False
    return bool(np.issubdtype(values.dtype, np.number))


def _check_saving(model, path) -> None:
    """Refuse a model that its saved file would not give back in Keras' safe mode, as
    training saves it at every epoch and prediction loads it.

    A ``Lambda`` layer's function is Python code, which safe mode refuses to load; a
    custom layer must be registered (``keras.saving.register_keras_serializable``) and
    its ``get_config`` must hold its arguments.
    """
    import keras

    from cellseg.neural_network.model_folder import save_network

    for layer in _layers(model):
        if isinstance(layer, keras.layers.Lambda):
            raise file_error(
                path,
                f"the model's layer {layer.name!r} is a Lambda layer, whose Python function a "
                "saved model cannot load safely; write it as a custom layer registered with "
                "@keras.saving.register_keras_serializable()",
            )
        kind = type(layer)
        registered = keras.saving.get_registered_object(keras.saving.get_registered_name(kind))
        if not kind.__module__.startswith("keras.") and registered is not kind:
            raise file_error(
                path,
                f"the model's layer {layer.name!r} is of the custom class {kind.__name__}, "
                "which is not registered, so a saved model cannot load it: decorate the class "
                "with @keras.saving.register_keras_serializable()",
            )
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "model.keras"
        try:
            save_network(model, saved)
            keras.saving.load_model(saved, compile=False, safe_mode=True)
        except Exception as error:
            # Keras wraps the error of the layer that failed, with its configuration, in
            # that of each model around it: the last one says what went wrong.
            cause = " ".join(str(error).rsplit("Exception encountered:", 1)[-1].split())
            raise file_error(
                path, f"the model cannot be saved and loaded back ({type(error).__name__}): {cause}"
            ) from None


def _layers(model) -> list:
    """Every layer of ``model``, those of the models nested in it included."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(_layers(layer))
    return found
