"""For tests of whole-slide prediction: a 'network' whose cells are a synthetic slide's dark
pixels (`DarkCells`), and the `PredictionFiles` of a new folder (`results`). The slides
themselves are fixtures (tests/neural_network/conftest.py)."""

import numpy as np
from skimage.measure import label

from cellseg.neural_network.model import Cells, TrainedModel
from cellseg.neural_network.model_config import ModelConfig
from cellseg.prediction_files import PredictionFiles


class DarkCells(TrainedModel):
    """A 'network' for RGB slides: its cells are the dark pixels (synthetic nuclei); it
    keeps the windows it was given, and may stop the process after some (a kill)."""

    def __init__(self, stop_after=None):
        super().__init__([], ModelConfig(), name="dark")
        self.windows, self.stop_after = [], stop_after

    def segment(self, image, *, scale="auto", counterstain=None):
        if len(self.windows) == self.stop_after:
            raise KeyboardInterrupt
        self.windows.append(image.shape[:2])
        cells = label(image[..., 0] < 160, connectivity=1).astype(np.int32)
        return Cells(image, cells, 1.0 if scale == "auto" else scale)


def results(folder, **options) -> PredictionFiles:
    folder.mkdir(exist_ok=True)
    return PredictionFiles(folder, **options)
