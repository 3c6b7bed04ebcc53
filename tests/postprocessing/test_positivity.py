"""DAB positivity told from an image's own cells: right on known mixtures, none in H&E."""

import numpy as np
import pytest

from cellseg.postprocessing.measurements import measure_cells
from cellseg.postprocessing.positivity import auto_positive_threshold
from cellseg.preprocessing.synthetic import synthetic_tissue


@pytest.mark.parametrize("share", [0.05, 0.1, 0.3, 0.6, 0.9])
@pytest.mark.parametrize("seed", [1, 2])
def test_auto_threshold_finds_the_share_of_positive_cells_of_a_known_mixture(share, seed):
    image, labels = synthetic_tissue((512, 512), seed=seed, positive_fraction=share)
    dab = np.array([cell.dab for cell in measure_cells(image, labels)])
    threshold = auto_positive_threshold(dab)
    assert threshold is not None
    assert abs((dab >= threshold).mean() - share) <= 0.03


def test_auto_threshold_finds_no_positive_cells_where_none_are_stained():
    image, labels = synthetic_tissue((512, 512), seed=3, positive_fraction=0.0)
    dab = np.array([cell.dab for cell in measure_cells(image, labels)])
    assert auto_positive_threshold(dab) is None
    rng = np.random.default_rng(0)  # H&E nuclei read about 0.3 of "DAB", in one group
    assert auto_positive_threshold(rng.normal(0.3, 0.05, 400)) is None
    assert auto_positive_threshold(rng.gamma(9, 0.03, 400)) is None  # skewed, still one


@pytest.mark.real_data
def test_auto_threshold_finds_no_positive_cells_in_real_h_and_e(datasets):
    from cellseg.image_io import read_image

    folder = datasets / "monuseg" / "train"
    for path in sorted((folder / "images").glob("*.png"))[:6]:
        cells = measure_cells(read_image(path), read_image(folder / "labels" / path.name))
        assert auto_positive_threshold(np.array([cell.dab for cell in cells])) is None, path


def test_too_few_cells_tell_nothing():
    assert auto_positive_threshold(np.array([0.05, 0.9, 0.8])) is None
    assert auto_positive_threshold(np.full(50, 0.4)) is None
