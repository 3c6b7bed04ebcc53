"""Fixtures of the benchmark scripts' tests."""

import numpy as np
import pytest

from cellseg.image_io import write_image
from cellseg.preprocessing.synthetic import synthetic_tissue


@pytest.fixture
def tissue_folders(tmp_path):
    """Folders ``images`` and ``labels`` of two small synthetic tissue images, as a
    benchmark script's ``--images`` and ``--labels``."""
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    for seed in (1, 2):
        image, cells = synthetic_tissue((128, 128), seed=seed)
        write_image(images / f"tissue{seed}.png", image)
        write_image(labels / f"tissue{seed}.png", cells.astype(np.uint16))
    return images, labels
