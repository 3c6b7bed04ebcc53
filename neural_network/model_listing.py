"""The models a user has, as rows of a table: the leaderboard's content.

Every model folder of the models folder, and the models shipped with cellseg, with its
status (``finished``; ``training`` while a run is going on; ``interrupted, resumable``
when one was stopped; ``stopped by an error``), target, epochs, validation scores and
lineage: the models it was fine-tuned from, and its parent's AJI on the same validation
images. A folder whose files are damaged is listed as unreadable, never stops the others.
"""

import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path

from cellseg.errors import CellsegError
from cellseg.neural_network.model_folder import ModelFolder, shipped_models

#: Scores a model can be ranked by; the count error is better lower.
SORT_KEYS = ("aji", "f1", "panoptic_quality", "dice", "count_error")
#: Written into a model folder while a process trains it (its process id and computer).
RUNNING_FILE = ".training"
#: Written into a model folder when an error stopped its training: the error's line.
STOPPED_FILE = ".stopped"


def list_models(root: Path, *, sort: str = "aji", shipped: bool = True) -> list[dict]:
    """One row per model of ``root`` (and the shipped ones), ranked by validation ``sort``,
    finished models first; each row has ``rank``, ``name``, ``status``, ``target``,
    ``epochs``, ``val_images`` (how many images the scores are of), the validation scores,
    ``val_loss``, ``parent`` (`lineage`), ``parent_aji`` and ``folder``."""
    folders = []
    if root.is_dir():
        folders = [
            path
            for path in sorted(root.iterdir())
            if not path.name.startswith(".") and (path / "config.json").is_file()
        ]
    rows = [model_row(ModelFolder(path)) for path in folders]
    if shipped:
        mine = {path.resolve() for path in folders}
        for path in shipped_models():
            if path.resolve() not in mine:
                rows.append({**model_row(ModelFolder(path)), "name": f"{path.name} (shipped)"})
    lower_is_better = sort == "count_error"

    def rank(row):
        value = row.get(sort)
        finished = row.get("status") == "finished" and value is not None
        return (not finished, value if lower_is_better else -(value or 0))

    rows.sort(key=rank)
    for index, row in enumerate(rows, start=1):
        row["rank"] = index
    return rows


def model_row(folder: ModelFolder) -> dict:
    """The leaderboard's row of one model folder."""
    try:
        config, history = folder.read_config(), folder.read_history()
    except CellsegError as error:
        return {
            "name": folder.name,
            "status": "unreadable",
            "why": f"is unreadable: {error}",
            "folder": folder.path,
        }
    status = training_status(folder, config.status)
    hyperparameters = (config.training or {}).get("hyperparameters", {})
    files = ((config.training or {}).get("data") or {}).get("files") or []
    return {
        "name": folder.name,
        "status": status,
        **({"why": _stopped_by(folder)} if status == STOPPED else {}),
        "target": config.target,
        "epochs": f"{len(history)}/{hyperparameters.get('epochs', '?')}",
        "val_images": sum(entry.get("split") == "validation" for entry in files) if files else None,
        **(config.validation or {}),
        "val_loss": min((row["val_loss"] for row in history if "val_loss" in row), default=None),
        "parent": lineage(config),
        "parent_aji": ((config.parent or {}).get("validation") or {}).get("aji"),
        "folder": folder.path,
    }


def lineage(config) -> str | None:
    """The models a model was fine-tuned from, the first one first, e.g. ``"default >
    lab"`` for a model fine-tuned from ``lab``, itself fine-tuned from ``default``; None
    for a model trained from scratch.

    Examples
    --------
    >>> from cellseg.neural_network.model_config import ModelConfig
    >>> first = {"name": "default", "config": {"target": "3class"}}
    >>> lineage(ModelConfig(parent={"name": "lab", "config": {"parent": first}}))
    'default > lab'
    """
    names, parent = [], config.parent
    while isinstance(parent, Mapping) and parent.get("name"):
        names.append(str(parent["name"]))
        parent = (parent.get("config") or {}).get("parent")
    return " > ".join(reversed(names)) or None


#: The status of a run an error stopped: its training command must change before it goes on.
STOPPED = "stopped by an error"


def training_status(folder: ModelFolder, status: str) -> str:
    """``finished``; ``training`` while a process trains the folder; `STOPPED` when an error
    stopped it (`mark_stopped`); else ``interrupted, resumable`` (run the same command
    again)."""
    if status == "finished":
        return status
    try:
        running = json.loads((folder.path / RUNNING_FILE).read_text())
    except (OSError, ValueError):
        return STOPPED if (folder.path / STOPPED_FILE).is_file() else "interrupted, resumable"
    if running.get("host") != socket.gethostname():
        return f"training on {running.get('host')}"
    return "training" if _alive(running.get("pid")) else "interrupted, resumable"


def mark_running(folder: ModelFolder) -> Path:
    """Say in ``folder`` that this process trains it; remove the file returned when done."""
    (folder.path / STOPPED_FILE).unlink(missing_ok=True)
    path = folder.path / RUNNING_FILE
    path.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    return path


def mark_stopped(folder: ModelFolder, error: BaseException) -> None:
    """Say in ``folder`` that ``error`` stopped its training, for the leaderboard."""
    (folder.path / STOPPED_FILE).write_text(" ".join(str(error).split()) + "\n")


def _stopped_by(folder: ModelFolder) -> str:
    try:
        return "was stopped: " + (folder.path / STOPPED_FILE).read_text().strip()
    except OSError:
        return "was stopped by an error"


def _alive(pid) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
