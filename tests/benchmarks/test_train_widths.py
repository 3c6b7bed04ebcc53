"""benchmarks/train_widths.py: the tile rate it plans epochs by, read as Keras reads batches."""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from train_widths import tiles_per_second

from cellseg.neural_network.dataset import sample_batches

SECONDS_PER_TILE = 0.02


def slow_load(sample):
    """A tile that takes SECONDS_PER_TILE to make, as cutting and augmenting one does."""
    time.sleep(SECONDS_PER_TILE)
    return np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 3), np.float32)


def test_the_rate_is_that_of_the_workers_after_their_start():
    batches = sample_batches(range(10_000), slow_load, 4, workers=1)
    rate = tiles_per_second(batches, warm_up=1, seconds=1.0)
    # One worker makes at most 50 tiles a second; a loaded machine may make fewer.
    assert 20 < rate <= 1 / SECONDS_PER_TILE
