"""Shared fixtures: the command line, real data from ../shared, small synthetic images."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from cellseg.cli import main

#: Real annotated microscopy beside the repository; absent on a user's clone.
SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture
def datasets() -> Path:
    """The ../shared/datasets folder; skips the test when it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"real data not available ({SHARED_DATASETS} is absent)")
    return SHARED_DATASETS


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
        code = main([str(argument) for argument in arguments])
        captured = capsys.readouterr()
        return CommandResult(code, captured.out, captured.err)

    return run


def folder_digest(folder: Path) -> dict[str, str]:
    """Name -> SHA-256 of every file below ``folder``, to prove inputs were not touched."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def rgb_image() -> np.ndarray:
    """A 61 x 47 RGB uint8 image with structure in every channel."""
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, size=(61, 47, 3), dtype=np.uint8)
