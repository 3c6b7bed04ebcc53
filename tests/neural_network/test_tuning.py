"""Fitting a model's post-processing to a few annotated images (`tuned_on`): what too few
cells or images cannot measure is kept as it was, or only its intercept fitted, and said."""

import pytest

from cellseg.errors import CellsegWarning
from cellseg.neural_network.model import TrainedModel
from cellseg.neural_network.tuning import LEAST_IMAGES_FOR_SPREAD, count_spread_on, tuned_on
from cellseg.preprocessing.synthetic import synthetic_tissue


def test_too_few_false_cells_or_images_keep_the_calibration_and_the_spread():
    """A model tuned on one image annotated with its own cells (the fine-tuning loop with
    nothing corrected) finds hardly a false cell: fitted to them, its confidence was
    certain of everything (a slope of 140) and its count's interval empty (a spread of 0
    from one image). Both are kept as they were; on enough images the spread is
    measured."""
    model = TrainedModel.load("default")
    made = [synthetic_tissue((128, 128), seed=seed) for seed in (1, 2, 3)]
    images, truths = [image for image, _ in made], [labels for _, labels in made]
    own = [model.segment(image).labels for image in images]
    with pytest.warns(CellsegWarning, match="too few to calibrate its confidence on"):
        tuned, _ = tuned_on(model, images[:1], own[:1])
    assert tuned.config.calibration == model.config.calibration
    assert tuned.config.count_spread == model.config.count_spread
    assert len(images) == LEAST_IMAGES_FOR_SPREAD
    # Synthetic tissue: enough cells, but few false ones, which cannot fit a slope.
    with pytest.warns(CellsegWarning, match="fewer than 20 false ones: its confidence is"):
        tuned, _ = tuned_on(model, images, truths)
    assert tuned.config.count_spread == count_spread_on(tuned, images, truths)
    assert tuned.config.count_spread != model.config.count_spread
    calibration, parent = tuned.config.calibration, model.config.calibration
    assert calibration.slope == parent.slope and calibration.intercept != parent.intercept
