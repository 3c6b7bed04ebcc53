"""Nuclei on the seams between a slide's regions: each found once, whichever side of the
seam each region's view of it puts its centre (a new-user audit found one counted twice in
every slide it tried)."""

import numpy as np
import pytest
from skimage.draw import disk
from skimage.measure import label

from cellseg.image_io import read_image
from cellseg.metrics import count_objects
from cellseg.neural_network.model import Cells, TrainedModel
from cellseg.neural_network.model_config import ModelConfig
from cellseg.prediction_files import PredictionFiles
from cellseg.slide_io import ArrayRegions


class Biased(TrainedModel):
    """An oracle of the true labels that takes from each cell its row and column of pixels
    farthest from the window's centre (``away``) or nearest to it: two windows meeting at a
    seam put the centre of a nucleus on it on their own side of it, or on the other's."""

    def __init__(self, away: bool):
        super().__init__([], ModelConfig(), name="biased")
        self.away = away

    def segment(self, image, *, scale="auto", counterstain=None):
        labels = label(image, background=0, connectivity=1).astype(np.int32)
        middle = np.array(labels.shape) / 2
        for cell in range(1, labels.max() + 1):
            pixels = np.argwhere(labels == cell)
            for axis in (0, 1):
                beyond = pixels[:, axis].mean() > middle[axis]
                edge = pixels[:, axis].max() if beyond == self.away else pixels[:, axis].min()
                drop = pixels[pixels[:, axis] == edge]
                labels[drop[:, 0], drop[:, 1]] = 0
        return Cells(image, labels, 1.0 if scale == "auto" else scale)


class LabelRegions(ArrayRegions):
    def read(self, top, left, bottom, right):
        return self.image[top:bottom, left:right]


def seam_nuclei() -> np.ndarray:
    """Nuclei centred exactly on the seams of 512-pixel regions, none where two cross."""
    truth = np.zeros((1024, 1536), np.uint16)
    centres = [(row, column) for column in (512, 1024) for row in range(40, 1000, 60)]
    centres += [(512, column) for column in range(40, 1500, 60) if abs(column - 512) > 20]
    centres = [(row, column) for row, column in centres if abs(column - 1024) > 20 or row != 512]
    for number, centre in enumerate(centres, start=1):
        truth[disk(centre, 6)] = number
    return truth


@pytest.mark.parametrize("away", [True, False], ids=["owned by both", "owned by neither"])
def test_a_nucleus_on_a_seam_is_found_once(small_regions, tmp_path, away):
    truth = seam_nuclei()
    model = Biased(away)
    slide = model.segment_slide(LabelRegions(truth), scale=1.0, tissue_only=False)
    assert count_objects(slide.whole_labels()) == count_objects(truth)
    slide = model.segment_slide(LabelRegions(truth), scale=1.0, tissue_only=False)
    files = PredictionFiles(tmp_path, formats=("tiff",))
    files.add("slide.tif", slide)
    assert files.finish(["slide.tif"])[0]["count"] == count_objects(truth)
    found = read_image(tmp_path / "slide_labels.tif")
    # Each nucleus is one cell, and every cell one nucleus.
    for number in range(1, truth.max() + 1):
        assert len(set(np.unique(found[truth == number])) - {0}) == 1
