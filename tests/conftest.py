"""Shared fixtures: the command line, real data from ../shared, small synthetic images."""

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from cellseg.cli import main

# Quiet TensorFlow's start-up chatter (CUDA probing on machines without a GPU), as the
# commands do.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The tests' own modules (hostile_corpus: every kind of hostile file, built in code),
# importable from every test module.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile_corpus import BAD_IMAGE_KINDS, make_bad_file

#: Real annotated microscopy beside the repository; absent on a user's clone.
SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture
def datasets() -> Path:
    """The ../shared/datasets folder; skips the test when it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"real data not available ({SHARED_DATASETS} is absent)")
    return SHARED_DATASETS


@pytest.fixture
def datasets_if_present() -> Path | None:
    """The ../shared/datasets folder, or None on a clone without it."""
    return SHARED_DATASETS if SHARED_DATASETS.is_dir() else None


class CommandResult:
    """Exit code and captured output of one ``cellseg`` run."""

    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@pytest.fixture
def cellseg(capsys):
    """Run ``cellseg ARGS...`` in-process: ``cellseg("split", "a.png", "out")``."""

    def run(*arguments) -> CommandResult:
        try:
            code = main([str(argument) for argument in arguments])
        except SystemExit as stop:  # argparse's usage errors, as the console script exits
            code = stop.code
        captured = capsys.readouterr()
        return CommandResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def folder_digest():
    """``folder_digest(folder)``: name -> SHA-256 of every file below it, to prove inputs
    were not touched."""

    def digest(folder: Path) -> dict[str, str]:
        return {
            str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }

    return digest


@pytest.fixture
def rgb_image() -> np.ndarray:
    """A 61 x 47 RGB uint8 image with structure in every channel."""
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, size=(61, 47, 3), dtype=np.uint8)


@pytest.fixture
def make_bad_image():
    """``make_bad_image(folder, kind)``: write one kind of unusable image file."""
    return make_bad_file


@pytest.fixture(params=BAD_IMAGE_KINDS)
def bad_image(request, tmp_path) -> Path:
    """One kind of unusable image file at a time (every test using it runs for each kind)."""
    return make_bad_file(tmp_path / "bad", request.param)


#: A schedule short enough to train in seconds on a CPU: with ``--from``, the whole file
#: (the network is the parent's).
TINY_SCHEDULE = """\
BATCH_SIZE = 2
EPOCHS = 2
LEARNING_RATE = 1e-3
VALIDATION_SPLIT = 0.25
TILE_SIZE = 64
STEPS_PER_EPOCH = 2
"""
#: Hyperparameters small enough to train in seconds on a CPU.
TINY_HYPERPARAMETERS = TINY_SCHEDULE + "BASE_FILTERS = 4\nDEPTH = 2\n"


@pytest.fixture(scope="session")
def training_data(tmp_path_factory) -> Path:
    """Four synthetic 96 x 96 images with red-outline annotations (images/, outlines/, labels/)."""
    folder = tmp_path_factory.mktemp("training_data")
    assert main(["synth", str(folder), "--count", "4", "--size", "96", "--seed", "11"]) == 0
    return folder


@pytest.fixture(scope="session")
def tiny_hyperparameters(tmp_path_factory) -> Path:
    """A hyperparameters file for two quick epochs of a small U-Net on 64 px tiles."""
    path = tmp_path_factory.mktemp("hyperparameters") / "tiny.py"
    path.write_text(TINY_HYPERPARAMETERS)
    return path


@pytest.fixture
def tiny_schedule(tmp_path) -> Path:
    """A hyperparameters file of `TINY_SCHEDULE` alone, for fine-tuning (``--from``)."""
    path = tmp_path / "tiny.py"
    path.write_text(TINY_SCHEDULE)
    return path


@pytest.fixture
def train_command(cellseg, training_data, tiny_hyperparameters, tmp_path):
    """``train_command("--name", "x", ...)``: cellseg train on the synthetic data, tiny settings,
    models in tmp_path / "models"."""

    def run(*arguments):
        return cellseg(
            "train",
            "--images",
            training_data / "images",
            "--annotations",
            training_data / "outlines",
            "--models-dir",
            tmp_path / "models",
            "--hyperparameters",
            tiny_hyperparameters,
            *arguments,
        )

    return run


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    """A model folder with an untrained two-level U-Net (3 classes), as training writes it."""
    import keras

    from cellseg.neural_network.architectures import unet, with_normalisation

    folder = tmp_path_factory.mktemp("models") / "small"
    folder.mkdir()
    keras.utils.set_random_seed(0)
    network = with_normalisation(unet(base_filters=4, depth=2), (190, 150, 200), (40, 45, 35))
    network.save(folder / "best.keras")
    config = {
        "target": "3class",
        "divisor": 4,
        "status": "finished",
        "postprocessing": {"foreground": 0.5, "seed": 0.6, "min_area": 10},
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture
def ctrl_c_as_at_a_terminal():
    """SIGINT raising `KeyboardInterrupt`, as Python sets it up at a terminal, even where
    the tests run with it ignored (started in a shell's background, or by a CI runner)."""
    import signal

    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)
