"""Killed at a random moment, run again: the same result as a run never interrupted (issue #33).

Each command runs once uninterrupted in a subprocess, which gives the result to match and
the moments its work starts (its first output) and ends. Then, for delays drawn from a seeded
`random.Random` within those phases (start-up, and the work itself), the same command is
started again into a fresh folder, killed with SIGKILL after the delay, and run once more to
completion: exit code 0, and the uninterrupted run's result, with nothing hidden left behind.
"""

import csv
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from cellseg.neural_network.model_folder import ModelFolder

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

CELLSEG = str(Path(sys.executable).parent / "cellseg")
#: Seconds any one run may take before the test fails.
TIMEOUT = 300


@dataclass(frozen=True)
class Timing:
    """When an uninterrupted run's work began (``started``: its first output appeared) and
    when it ended, in seconds from its start."""

    started: float
    ended: float

    def delays(self, seed: int, phases: str) -> list[float]:
        """One delay per letter of ``phases``, drawn with ``seed``: ``s`` during start-up
        (before the first output), ``w`` while working, ``e`` near the end."""
        rng = random.Random(seed)
        bounds = {
            "s": (0.0, self.started),
            "w": (self.started, self.started + 0.7 * (self.ended - self.started)),
            "e": (self.started + 0.7 * (self.ended - self.started), self.ended),
        }
        return [rng.uniform(*bounds[phase]) for phase in phases]


def environment() -> dict:
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def timed_run(command: list[str], started, cwd: Path, *, ended=None) -> Timing:
    """Run ``command`` to the end (exit code 0); ``started()`` says when its work began,
    ``ended()``, if given, when it was done (else: when it exits)."""
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment()
    )
    begin, first, last = time.monotonic(), None, None
    while process.poll() is None:
        now = time.monotonic() - begin
        if first is None and started():
            first = now
        if last is None and ended is not None and ended():
            last = now
        if now > TIMEOUT:
            process.kill()
        time.sleep(0.005)
    exited = time.monotonic() - begin
    assert process.returncode == 0, process.stderr.read().decode()
    process.stderr.close()
    first = exited if first is None else first
    return Timing(first, max(first, exited if last is None else last))


def killed_after(command: list[str], delay: float, cwd: Path, *, once=None) -> bool:
    """Start ``command`` and SIGKILL it ``delay`` seconds later (after ``once()`` is true,
    if given); whether it was still running then."""
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment()
    )
    deadline = time.monotonic() + TIMEOUT
    while once is not None and not once() and process.poll() is None:
        assert time.monotonic() < deadline, "the moment to wait for never came"
        time.sleep(0.005)
    try:
        process.wait(timeout=delay)
        return False  # finished first
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return True


def run_to_the_end(command: list[str], cwd: Path) -> None:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env=environment(), timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def files_of(folder: Path, pattern: str = "*") -> dict[str, str]:
    """Name -> SHA-256 of the files below ``folder`` matching ``pattern``, hidden ones too."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob(pattern))
        if path.is_file()
    }


def hidden(folder: Path) -> list[Path]:
    """Hidden files and folders below ``folder`` (temporary files, staging folders)."""
    return sorted(path for path in folder.rglob(".*"))


def kill_and_finish(command, delay, cwd) -> None:
    """Kill ``command`` after ``delay`` seconds, then run it again to the end."""
    killed_after(command, delay, cwd)
    run_to_the_end(command, cwd)


# --- split -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> Path:
    """Three synthetic images of 384 x 384 pixels."""
    folder = tmp_path_factory.mktemp("scans")
    command = [CELLSEG, "synth", str(folder), "--count", "3", "--size", "384", "--seed", "5"]
    subprocess.run(command, check=True, capture_output=True)
    return folder / "images"


def split_command(images: Path, output: Path) -> list[str]:
    return [CELLSEG, "split", str(images), str(output), "--tile", "32", "--overlap", "8"]


@pytest.fixture(scope="module")
def split_reference(scans, tmp_path_factory):
    folder = tmp_path_factory.mktemp("split_reference")
    output = folder / "tiles"
    timing = timed_run(split_command(scans, output), lambda: any(output.glob("*.png")), folder)
    return timing, files_of(output)


@pytest.mark.parametrize("seed", range(4))
def test_split_killed_anywhere_finishes_with_the_same_tiles(scans, split_reference, tmp_path, seed):
    timing, expected = split_reference
    (delay,) = timing.delays(seed, "swwe"[seed])
    output = tmp_path / "tiles"
    kill_and_finish(split_command(scans, output), delay, tmp_path)
    assert hidden(output) == []
    assert files_of(output) == expected


# --- predict -----------------------------------------------------------------------------


def predict_command(model: Path, images: Path, output: Path) -> list[str]:
    return [CELLSEG, "predict", str(model), str(images), "--output", str(output)]


@pytest.fixture(scope="module")
def slides(tmp_path_factory) -> Path:
    """Four synthetic images of 160 x 160 pixels."""
    folder = tmp_path_factory.mktemp("slides")
    command = [CELLSEG, "synth", str(folder), "--count", "4", "--size", "160", "--seed", "6"]
    subprocess.run(command, check=True, capture_output=True)
    return folder / "images"


def prediction_result(output: Path) -> dict[str, str]:
    """What must not differ: counts.csv and the label images."""
    return {**files_of(output, "counts.csv"), **files_of(output, "*_labels.png")}


@pytest.fixture(scope="module")
def predict_reference(small_model, slides, tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict_reference")
    output = folder / "out"
    command = predict_command(small_model, slides, output)
    timing = timed_run(command, lambda: any(output.glob("*_prediction.json")), folder)
    result = prediction_result(output)
    with open(output / "counts.csv", newline="") as file:
        assert len(list(csv.DictReader(file))) == 4
    return timing, result


@pytest.mark.parametrize(
    "seed",
    [0, 1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)],
)
def test_predict_killed_anywhere_finishes_with_the_same_counts_and_labels(
    small_model, slides, predict_reference, tmp_path, seed
):
    timing, expected = predict_reference
    (delay,) = timing.delays(seed, "swew"[seed])
    output = tmp_path / "out"
    kill_and_finish(predict_command(small_model, slides, output), delay, tmp_path)
    assert hidden(output) == []
    assert prediction_result(output) == expected


# --- export ------------------------------------------------------------------------------


def export_command(model: Path, site: Path) -> list[str]:
    return [CELLSEG, "export", str(model), "--output", str(site)]


def onnx_graph(path: Path):
    """An ONNX model as what it computes: its operators in order and its weights.

    The names tf2onnx gives its nodes differ from one export to the next (see
    `test_two_exports_write_the_same_onnx_bytes`), so the bytes are not compared here.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    weights = sorted(
        (tuple(tensor.dims), numpy_helper.to_array(tensor).tobytes())
        for tensor in model.graph.initializer
    )
    return [node.op_type for node in model.graph.node], weights


@pytest.fixture(scope="module")
def export_reference(small_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export_reference")
    site = folder / "site"
    timing = timed_run(
        export_command(small_model, site),
        lambda: any(folder.glob(".cellseg-export-*")),  # its staging folder: converting
        folder,
        ended=(site / "cellseg-site.json").exists,  # the site in place
    )
    return timing, site


@pytest.mark.parametrize(
    ("seed", "phase"),
    [
        (0, "w"),
        pytest.param(1, "s", marks=pytest.mark.slow),
        pytest.param(2, "w", marks=pytest.mark.slow),
    ],
)
def test_export_killed_anywhere_finishes_with_the_same_site(
    small_model, export_reference, tmp_path, seed, phase
):
    timing, reference = export_reference
    (delay,) = timing.delays(seed, phase)
    site = tmp_path / "site"
    command = export_command(small_model, site)
    killed_after(command, delay, tmp_path)
    run_to_the_end(command, tmp_path)  # also when killed once its site was in place
    assert hidden(tmp_path) == []  # no staging folder beside the site, nothing inside it
    assert sorted(files_of(site)) == sorted(files_of(reference))
    assert (site / "model.json").read_bytes() == (reference / "model.json").read_bytes()
    assert onnx_graph(site / "model.onnx") == onnx_graph(reference / "model.onnx")


def test_export_run_twice_keeps_its_site(cellseg, small_model, export_reference, tmp_path):
    # As when an export is killed once its site is in place, before it has exited.
    _, reference = export_reference
    site = tmp_path / "site"
    subprocess.run(["cp", "-r", str(reference), str(site)], check=True)
    result = cellseg("export", small_model, "--output", site)
    assert result.code == 0, result.err
    assert sorted(files_of(site)) == sorted(files_of(reference))


# --- train -------------------------------------------------------------------------------


def train_command(training_data: Path, hyperparameters: Path, models: Path) -> list[str]:
    return [
        CELLSEG, "train", "--images", str(training_data / "images"),
        "--annotations", str(training_data / "outlines"), "--name", "lab",
        "--hyperparameters", str(hyperparameters), "--models-dir", str(models),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def train_timing(training_data, tiny_hyperparameters, tmp_path_factory) -> Timing:
    """When an uninterrupted training prepares its data (its folder appears) and ends."""
    folder = tmp_path_factory.mktemp("train_reference")
    command = train_command(training_data, tiny_hyperparameters, folder / "models")
    timing = timed_run(command, lambda: (folder / "models" / "lab").exists(), folder)
    assert [row["epoch"] for row in ModelFolder(folder / "models" / "lab").read_history()] == [1, 2]
    return timing


def assert_trained_once_per_epoch(folder: ModelFolder, epochs: int) -> None:
    assert folder.read_config().status == "finished"
    assert [row["epoch"] for row in folder.read_history()] == list(range(1, epochs + 1))
    assert (folder.path / "model.keras").is_file()


@pytest.mark.parametrize(
    ("seed", "when"),
    [
        (0, "preparing"),
        (1, "training"),
        pytest.param(2, "starting", marks=pytest.mark.slow),
        pytest.param(3, "ending", marks=pytest.mark.slow),
    ],
)
def test_train_killed_anywhere_finishes_once_per_epoch(
    training_data, tiny_hyperparameters, train_timing, tmp_path, seed, when
):
    models = tmp_path / "models"
    command = train_command(training_data, tiny_hyperparameters, models)
    folder = ModelFolder(models / "lab")
    if when == "preparing":  # just after its folder appears, while annotations are converted
        killed = killed_after(
            command, random.Random(seed).uniform(0, 0.3), tmp_path, once=folder.path.exists
        )
    else:
        phase = {"starting": "s", "training": "w", "ending": "e"}[when]
        (delay,) = train_timing.delays(seed, phase)
        killed = killed_after(command, delay, tmp_path)
    finished = folder.config_path.is_file() and folder.read_config().status == "finished"
    if killed and not finished:  # a finished model is not trained again without --restart
        run_to_the_end(command, tmp_path)
    assert_trained_once_per_epoch(folder, epochs=2)
    assert hidden(models) == []


# --- what a killed write leaves ------------------------------------------------------------


def test_the_next_write_removes_only_the_temporary_files_of_killed_processes(tmp_path):
    from cellseg import atomic_write
    from cellseg.atomic_write import write_text_atomically

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs, as a killed command's
    host = atomic_write._HOST
    killed = tmp_path / f".a.png.{host}-{dead.pid}-k1ll3d_x.tmp"
    running = tmp_path / f".b.png.{host}-{os.getpid()}-runn1ng_.tmp"  # a write going on
    elsewhere = tmp_path / f".c.png.{host}x-{dead.pid}-0th3r_xx.tmp"  # another computer's
    for path in (killed, running, elsewhere):
        path.write_bytes(b"half a file")
    assert write_text_atomically(tmp_path / "d.txt", "whole")
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [running.name, elsewhere.name, "d.txt"]
    )
