"""Load the users' own Python files by path (importlib, never exec) and check their contracts.

- loss file: ``custom_loss(y_true, y_pred)`` and optionally ``custom_metric(y_true, y_pred)``,
  written with ``keras.ops``; ``y_true`` has the shape of ``y_pred`` (see `losses`).
- architecture file: ``get_model(input_shape)`` returning a ``keras.Model`` whose output has
  the input's rows and columns and the channels the target needs (3 for ``3class``,
  1 for ``mask`` and ``distance``, 5 for ``hover``).
- hyperparameters file: upper-case names (see `hyperparameters`).

Every problem is a `CellsegError` whose one line names the file and what is wrong.
"""

import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from cellseg.errors import file_error
from cellseg.neural_network.hyperparameters import Hyperparameters, hyperparameters_from_names


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
    except Exception as error:
        sys.modules.pop(name, None)
        raise file_error(
            path, f"{role} file raised {type(error).__name__} when imported: {error}"
        ) from None
    return module


def load_loss_file(path) -> UserLoss:
    """Read ``custom_loss`` (required) and ``custom_metric`` (optional) from a loss file."""
    module = load_python_file(path, role="loss")
    loss = _function(module, path, "custom_loss", "loss", required=True)
    metric = _function(module, path, "custom_metric", "loss", required=False)
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
    except Exception as error:
        raise file_error(
            path, f"get_model{input_shape} raised {type(error).__name__}: {error}"
        ) from None
    if not isinstance(model, keras.Model):
        raise file_error(path, f"get_model must return a keras.Model, not {type(model).__name__}")
    outputs = model.outputs
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
