"""Load the users' own Python files by path (importlib, never exec) and check their contracts.

- loss file: ``custom_loss(y_true, y_pred)`` and optionally ``custom_metric(y_true, y_pred)``,
  written with ``keras.ops``; ``y_true`` has the shape of ``y_pred`` (see `losses`). Each is
  tried before training as training will run it (see `loss_checks`).
- architecture file: ``get_model(input_shape)`` returning a ``keras.Model`` whose output has
  the input's rows and columns and the channels the target needs (3 for ``3class``,
  1 for ``mask`` and ``distance``, 5 for ``hover``) holding what the target's activations
  make (class probabilities that sum to 1, values from 0 to 1, offsets from -1 to 1) on a
  test input, and which a saved model file gives back in Keras' safe mode (no ``Lambda``
  layer, custom layers registered).
- hyperparameters file: upper-case names (see `hyperparameters`); a hyperparameter's name
  in another case is refused as a misspelt one is.

Every problem is a `CellsegError` whose one line names the file (and the line of it, for
an error raised there) and what is wrong, found before training starts; only a
``KeyboardInterrupt`` in a user's code gets through.
"""

import importlib.util
import inspect
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from cellseg.errors import file_error
from cellseg.neural_network.hyperparameter_checks import hyperparameters_from_names
from cellseg.neural_network.hyperparameters import DEFINITIONS, Hyperparameters
from cellseg.neural_network.loss_checks import check_loss_function
from cellseg.neural_network.user_code import user_error, what_happened


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
    if path.is_dir():
        raise file_error(path, f"is a folder, not a {role} file (a Python file ending in .py)")
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
        raise user_error(
            path, f"{role} file {what_happened(error, when=' when imported')}", error
        ) from None
    return module


def load_loss_file(path, *, target: str | None = None) -> UserLoss:
    """Read ``custom_loss`` (required) and ``custom_metric`` (optional) from a loss file.

    Each is checked (`loss_checks.check_loss_function`) on made-up batches of ``y_true``
    and ``y_pred`` shaped as the network's output for ``target``, so that one that fails
    in training, or cannot teach or measure anything, is refused before training. Without
    a ``target``, on the shape of each target, and refused when it fails on all of them
    (with the problem of the default target, ``3class``).
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
            check_loss_function(function, name, path, targets)
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
        raise user_error(path, f"get_model({input_shape}) {what_happened(error)}", error) from None
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
    _check_output_values(model, path, input_shape, target)
    _check_saving(model, path)
    return model


def load_hyperparameters_file(path) -> Hyperparameters:
    """Read the upper-case names of a hyperparameters file."""
    module = load_python_file(path, role="hyperparameters")
    names = hyperparameter_names(module)
    hyperparameters, problems = hyperparameters_from_names(names)
    if problems:
        raise file_error(path, "; ".join(problems))
    return hyperparameters


def hyperparameter_names(module) -> dict:
    """The names of a hyperparameters file's ``module`` meant as hyperparameters, by value:
    the upper-case ones, and those of a hyperparameter spelt in another case
    (``learning_rate``) that the file does not also set in upper case (then it is a helper),
    which `hyperparameters_from_names` refuses, naming the one meant."""
    known = {definition.name for definition in DEFINITIONS}
    names = dir(module)
    return {
        name: getattr(module, name)
        for name in names
        if name.isupper() or (name.upper() in known and name.upper() not in names)
    }


#: What the output channels of each activation of a target (`Target.activation`) hold:
#: the lowest and highest values, and their description.
_OUTPUT_VALUES = {
    "softmax": (0.0, 1.0, "class probabilities, from 0 to 1 and summing to 1 (a softmax)"),
    "sigmoid": (0.0, 1.0, "values from 0 to 1 (a sigmoid)"),
    "tanh": (-1.0, 1.0, "values from -1 to 1 (a tanh)"),
}


def _check_output_values(model, path, input_shape: tuple, target: str) -> None:
    """Refuse a model whose output on a made-up input (standardised, as the network's
    input is) is not what each part of ``target`` holds, e.g. the ``3class`` channels
    without a softmax: training would go on, and its cells come out empty."""
    import keras
    import numpy as np

    from cellseg.neural_network.targets import get_target

    images = np.random.default_rng(0).normal(size=(1, *input_shape)).astype(np.float32)
    try:
        output = keras.ops.convert_to_numpy(model(images, training=False))
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        raise user_error(
            path, f"the model on an input of shape {images.shape} {what_happened(error)}", error
        ) from None
    output = np.asarray(output, dtype=np.float64)
    first = 0
    for _, activation, channels in get_target(target).activation:
        part = output[..., first : first + channels]
        first += channels
        if activation not in _OUTPUT_VALUES:  # a target's unbounded output
            continue
        lowest, highest, holding = _OUTPUT_VALUES[activation]
        found = f"ranges from {part.min():.3g} to {part.max():.3g}"
        wrong = part.min() < lowest - 1e-3 or part.max() > highest + 1e-3
        if activation == "softmax":
            sums = part.sum(axis=-1)
            found += f" and sums to {sums.min():.3g} to {sums.max():.3g}"
            wrong = wrong or np.abs(sums - 1).max() > 1e-2
        if wrong or not np.isfinite(part).all():
            start = first - channels
            which = f"channel {start}" if channels == 1 else f"channels {start} to {first - 1}"
            raise file_error(
                path,
                f"--target {target} needs {holding} in the model's output {which}, but on a "
                f"test input it {found}; cellseg.neural_network.architectures.output_layers "
                "builds the last layers each target needs",
            )


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
