"""benchmarks/cell_sizes.py: the calibration it fits again, with the cells' size or without,
is the logistic regression that made the cells."""

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from cell_sizes import BANDS, band_name, design, fitted


@pytest.mark.parametrize(("with_area", "weights"), [(False, [1.4, -0.6]), (True, [1.2, 0.9, 0.3])])
def test_the_fit_recovers_the_weights_that_made_the_cells(with_area, weights):
    rng = np.random.default_rng(0)
    cells = 40_000
    image = {"confidence": rng.uniform(0.02, 0.98, cells), "area": rng.uniform(40, 1500, cells)}
    image["real"] = rng.random(cells) < expit(design(image, 339.0, with_area) @ weights)
    assert np.allclose(fitted([image], 339.0, with_area), weights, atol=0.06)


def test_the_bands_are_named_by_their_bounds():
    names = [band_name(index) for index in range(len(BANDS) - 1)]
    assert names[0] == "under 0.35x" and names[1] == "0.35-0.55x" and names[-1] == "1.2x and over"
