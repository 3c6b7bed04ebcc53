"""A training run killed with SIGKILL resumes at its last finished epoch when re-run."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from train_command import train_arguments

from cellseg.errors import CellsegError
from cellseg.neural_network.dataset import pair_by_stem
from cellseg.neural_network.hyperparameters import Hyperparameters
from cellseg.neural_network.model_folder import ModelFolder
from cellseg.neural_network.runs import run_settings, start_or_resume
from cellseg.neural_network.training import TrainingRequest
from cellseg.preprocessing.augmentation import Augmentation

HYPERPARAMETERS = """\
BATCH_SIZE = 2
EPOCHS = 3
LEARNING_RATE = 1e-3
VALIDATION_SPLIT = 0.25
TILE_SIZE = 64
STEPS_PER_EPOCH = 30
BASE_FILTERS = 4
DEPTH = 2
"""


def command(training_data: Path, tmp_path: Path, *options: str) -> list[str]:
    cellseg = Path(sys.executable).parent / "cellseg"
    hyperparameters, models = tmp_path / "hyperparameters.py", tmp_path / "models"
    return [
        str(cellseg),
        *train_arguments(training_data, "resumed", hyperparameters, models, *options),
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("options", [(), ("--from", "default")], ids=["scratch", "fine-tuning"])
def test_killed_run_resumes_with_each_epoch_once_from_its_data_moved(
    training_data, tmp_path, options
):
    (tmp_path / "hyperparameters.py").write_text(HYPERPARAMETERS)
    folder = ModelFolder(tmp_path / "models" / "resumed")
    process = subprocess.Popen(
        command(training_data, tmp_path, *options),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and process.poll() is None:
            state = folder.read_state()
            if state and state["finished_epochs"] >= 1:
                break
            time.sleep(0.05)
        assert process.poll() is None, "training ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    killed_after = folder.read_state()["finished_epochs"]
    assert 1 <= killed_after < 3
    assert json.loads(folder.config_path.read_text())["status"] == "training"

    # The same files in another folder (a temporary copy, a moved disk) are the same run.
    moved = shutil.copytree(training_data, tmp_path / "moved")
    result = subprocess.run(
        command(moved, tmp_path, *options), cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert f"resuming {folder.path} after epoch {killed_after}" in result.stdout
    epochs = [row["epoch"] for row in folder.read_history()]
    assert epochs == [1, 2, 3]
    config = folder.read_config()
    assert config.status == "finished"
    assert (config.parent or {}).get("name") == (options[1] if options else None)


def test_an_unfinished_run_resumes_only_with_the_same_files(training_data, tmp_path):
    moved = shutil.copytree(training_data, tmp_path / "moved")

    def settings(data):
        request = TrainingRequest(
            images=data / "images", annotations=data / "outlines", name="unfinished"
        )
        pairs = pair_by_stem(request.images, request.annotations)
        return request, run_settings(
            request, Hyperparameters(), Augmentation(), pairs[1:], pairs[:1]
        )

    folder = ModelFolder(tmp_path / "unfinished")
    request, first = settings(training_data)
    config = start_or_resume(folder, request, first)
    folder.write_config(config)
    folder.state_path.parent.mkdir()
    folder.write_state({"finished_epochs": 1})

    request, again = settings(moved)
    resumed = start_or_resume(folder, request, again)
    assert resumed.training["data"]["images"] == str(moved / "images")

    annotation = sorted((moved / "outlines").iterdir())[0]
    annotation.write_bytes(annotation.read_bytes() + b"\0")  # same name, other content
    request, edited = settings(moved)
    with pytest.raises(CellsegError, match="other settings \\(data\\)"):
        start_or_resume(folder, request, edited)


def test_a_run_of_a_version_without_a_new_setting_resumes_at_its_default(training_data, tmp_path):
    request = TrainingRequest(
        images=training_data / "images", annotations=training_data / "outlines", name="older"
    )
    pairs = pair_by_stem(request.images, request.annotations)

    def settings(crowded):
        hyperparameters = Hyperparameters(crowded=crowded)
        return run_settings(
            request, hyperparameters, Augmentation(crowded=crowded), pairs[1:], pairs[:1]
        )

    folder = ModelFolder(tmp_path / "older")
    config = start_or_resume(folder, request, settings(0.0))
    for group in ("hyperparameters", "augmentation"):  # as recorded before CROWDED existed
        del config.training[group]["crowded"]
    folder.write_config(config)
    folder.state_path.parent.mkdir()
    folder.write_state({"finished_epochs": 1})

    resumed = start_or_resume(folder, request, settings(0.0))
    assert resumed.training["hyperparameters"]["crowded"] == 0.0
    folder.write_config(config)
    with pytest.raises(CellsegError, match="other settings \\(hyperparameters, augmentation\\)"):
        start_or_resume(folder, request, settings(0.5))
