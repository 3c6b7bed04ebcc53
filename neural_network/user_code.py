"""Errors raised in the users' own Python files, said in one line naming the file and the
line of it they came from.

An error raised while cellseg imports or calls a user's file (a loss, an architecture, a
hyperparameters file) is a problem with that file, not a bug in cellseg: it becomes a
`CellsegError` such as ``"loss.py, line 3: custom_loss(...) raised NameError: name 'x' is
not defined"``, where the line is the last one of the traceback inside that file.
"""

import re
import traceback
from pathlib import Path

from cellseg.errors import CellsegError


def user_error(path, reason: str, error: BaseException | None = None) -> CellsegError:
    """The error ``"<path>, line <n>: <reason>"``, the line being where ``error`` was raised
    in the file ``path`` (``"<path>: <reason>"`` when it was not raised there)."""
    line = error_line(error, path) if error is not None else None
    return CellsegError(f"{path}{'' if line is None else f', line {line}'}: {reason}")


def error_line(error: BaseException, path) -> int | None:
    """The line of the file ``path`` where ``error`` was raised: the last frame of its
    traceback (or of the errors it was raised from) in that file; None if none is.

    Errors that TensorFlow raises while tracing a graph name the user's line in their
    message instead (``File "loss.py", line 3``), which is read when no frame is found.
    """
    wanted = _resolved(path)
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        frames = traceback.extract_tb(error.__traceback__)
        lines = [frame.lineno for frame in frames if _resolved(frame.filename) == wanted]
        if lines:
            return lines[-1]
        named = [
            int(line)
            for name, line in re.findall(r'File "([^"]+)", line (\d+)', str(error))
            if _resolved(name) == wanted
        ]
        if named:
            return named[-1]
        error = error.__cause__ or error.__context__
    return None


def what_happened(error: BaseException, *, when: str = "") -> str:
    """``"raised ValueError{when}: too small"``, or ``"called sys.exit(3){when}"``, on one
    line."""
    if isinstance(error, SystemExit):
        return f"called sys.exit({'' if error.code is None else repr(error.code)}){when}"
    message = error_message(error)
    return f"raised {type(error).__name__}{when}" + (f": {message}" if message else "")


def error_message(error: BaseException) -> str:
    r"""The message of ``error`` on one line, without Keras' configurations, TensorFlow's
    graph node names, which run to pages, or terminal colour codes; an error Keras raised
    around a layer's call as ``"in Layer.call(): <the error>"``.

    Examples
    --------
    >>> error_message(AttributeError(
    ...     "Exception encountered when calling Odd.call().\n\n\x1b[1m'SymbolicTensor' object "
    ...     "has no attribute 'numpy'\x1b[0m\n\nArguments received by Odd.call():\n  • x=..."
    ... ))
    "in Odd.call(): 'SymbolicTensor' object has no attribute 'numpy'"
    """
    message = str(error).split("Full object config:")[0]
    message = re.sub(r"\x1b\[[0-9;]*m", "", message)
    message = re.sub(r"\{\{function_node .*?\}\}", "", message)
    message = re.sub(r" for '\{\{node [^']*'", "", message)  # the graph node's inputs
    layer = re.match(
        r"\s*Exception encountered when calling (\S+?)\.\s+(.*?)\s*Arguments received by ",
        message,
        re.DOTALL,
    )
    if layer:
        message = f"in {layer.group(1)}: {layer.group(2)}"
    return " ".join(message.split())


def _resolved(path) -> Path | None:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
