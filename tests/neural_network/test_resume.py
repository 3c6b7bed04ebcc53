"""A training run killed with SIGKILL resumes at its last finished epoch when re-run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cellseg.neural_network.model_folder import ModelFolder

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


def command(training_data: Path, tmp_path: Path) -> list[str]:
    cellseg = Path(sys.executable).parent / "cellseg"
    return [
        str(cellseg),
        "train",
        "--images",
        str(training_data / "images"),
        "--annotations",
        str(training_data / "outlines"),
        "--name",
        "resumed",
        "--hyperparameters",
        str(tmp_path / "hyperparameters.py"),
        "--models-dir",
        str(tmp_path / "models"),
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_run_resumes_with_each_epoch_once(training_data, tmp_path):
    (tmp_path / "hyperparameters.py").write_text(HYPERPARAMETERS)
    folder = ModelFolder(tmp_path / "models" / "resumed")
    process = subprocess.Popen(
        command(training_data, tmp_path),
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

    result = subprocess.run(
        command(training_data, tmp_path), cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert f"resuming {folder.path} after epoch {killed_after}" in result.stdout
    epochs = [row["epoch"] for row in folder.read_history()]
    assert epochs == [1, 2, 3]
    assert folder.read_config()["status"] == "finished"
