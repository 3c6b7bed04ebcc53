"""TrainedModel: one object segments an image the same way for every command."""

import keras
import numpy as np
import pytest

from cellseg.neural_network.architectures import unet, with_normalisation
from cellseg.neural_network.model import TrainedModel
from cellseg.neural_network.model_config import ModelConfig
from cellseg.postprocessing.instances import Thresholds


@pytest.fixture(scope="module")
def network():
    keras.utils.set_random_seed(0)
    return with_normalisation(unet(target="3class", base_filters=4, depth=2), (128,) * 3, (50,) * 3)


def test_evaluation_sees_what_prediction_sees(network):
    from cellseg.neural_network.evaluation import evaluate_images

    image = np.random.default_rng(4).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    # Thresholds at which this untrained network finds hundreds of specks, different ones
    # with and without flips.
    thresholds = Thresholds(foreground=0.65, seed=0.36, min_area=1, smoothing=0)
    for flips in (1, 2):
        config = ModelConfig(divisor=4, test_time_flips=flips, thresholds=thresholds)
        model = TrainedModel(network, config)
        found = model.segment(image, scale=1).labels
        _, scores = evaluate_images(model, [(image, found)])
        # Scored against its own prediction, evaluation (same flips) finds the same cells.
        assert scores["predicted_count"] == scores["true_count"] == found.max()
        assert found.max() > 100 and scores["aji"] == 1


def dark_is_cell_network():
    """A fixed 3-class network: dark pixels are cell interior, bright ones background."""
    inputs = keras.Input((None, None, 3))
    layer = keras.layers.Conv2D(3, 1, activation="softmax")
    outputs = layer(inputs)
    weights = np.zeros((1, 1, 3, 3), np.float32)
    weights[0, 0, :, 0], weights[0, 0, :, 1] = 1 / 30, -1 / 30
    layer.set_weights([weights, np.array([-12.8, 12.8, -10.0], np.float32)])
    return keras.Model(inputs, outputs)


def test_scale_finds_cells_at_the_size_the_model_expects():
    from skimage.draw import disk

    image = np.full((120, 130, 3), 255, np.uint8)
    centres = [(20 + 40 * row, 20 + 45 * column) for row in range(3) for column in range(3)]
    for centre in centres:
        image[disk(centre, 3.5)] = 40  # about 40 pixels: under min_area at this size
    thresholds = Thresholds(foreground=0.5, seed=0.5, min_area=60, smoothing=0)
    model = TrainedModel(dark_is_cell_network(), ModelConfig(divisor=1, thresholds=thresholds))
    assert model.segment(image, scale=1).labels.max() == 0
    found = model.segment(image, scale=2)
    labels = found.labels
    # Found at twice the size (about 160 pixels each), labelled at the image's own size.
    assert found.scale == 2 and labels.shape == image.shape[:2] and labels.max() == len(centres)
    assert set(np.unique(labels)) == set(range(len(centres) + 1))
    for centre in centres:
        assert labels[centre] > 0
    found, dark = labels > 0, image[..., 0] < 128
    assert (found & dark).sum() / (found | dark).sum() > 0.8
    with pytest.raises(ValueError, match="scale must be positive"):
        model.segment(image, scale=0)


def test_a_counterstain_paler_than_the_training_images_is_strengthened_first():
    from skimage.draw import disk

    from cellseg.preprocessing.colour import rgb_from_stain_amounts

    stains = np.zeros((120, 130, 3), np.float32)
    centres = [(20 + 40 * row, 20 + 45 * column) for row in range(3) for column in range(3)]
    for centre in centres:
        stains[disk(centre, 8)] = (0.04, 0, 0)  # pale haematoxylin, no eosin
    image = np.rint(rgb_from_stain_amounts(stains) * 255).astype(np.uint8)
    thresholds = Thresholds(foreground=0.5, seed=0.5, min_area=20, smoothing=0)
    config = ModelConfig(divisor=1, thresholds=thresholds)
    model = TrainedModel(dark_is_cell_network(), config)
    plain = model.segment(image, scale=1)
    assert plain.labels.max() == 0 and plain.counterstain == 1
    trained_on = {"lowest": 0.08, "median": 0.14}  # the training images' haematoxylin
    found = model.with_config(haematoxylin=trained_on).segment(image, scale=1)
    assert 3 < found.counterstain <= 4 and found.labels.max() == len(centres)
    assert found.image is image  # outputs are drawn on the image as it was


def test_auto_scale_finds_small_cells_again_at_the_training_size():
    from skimage.draw import disk

    image = np.full((120, 130, 3), 255, np.uint8)
    centres = [(15 + 30 * row, 15 + 33 * column) for row in range(4) for column in range(4)]
    for centre in centres:
        image[disk(centre, 3.5)] = 40  # about 40 pixels each
    thresholds = Thresholds(foreground=0.5, seed=0.5, min_area=5, smoothing=0)
    config = ModelConfig(divisor=1, thresholds=thresholds, cell_area=160.0)  # twice as wide
    model = TrainedModel(dark_is_cell_network(), config)
    found = model.segment(image, scale="auto")
    assert 1.8 <= found.scale <= 2.0
    assert np.array_equal(found.labels, model.segment(image, scale=found.scale).labels)
    assert found.labels.max() == len(centres)
    # Cells of the training size are left as they are.
    model = model.with_config(cell_area=40.0)
    found = model.segment(image, scale="auto")
    assert found.scale == 1 and np.array_equal(found.labels, model.segment(image, scale=1).labels)


def test_segment_file_decides_whole_or_region_by_region(network, tmp_path, monkeypatch):
    import tifffile

    import cellseg.neural_network.model as model_module
    from cellseg.image_io import write_image

    image = np.random.default_rng(5).integers(0, 256, (300, 280, 3), dtype=np.uint8)
    write_image(tmp_path / "small.png", image)
    tifffile.imwrite(tmp_path / "slide.tif", image, tile=(256, 256))
    model = TrainedModel(network, ModelConfig(divisor=4))
    whole = model.segment_file(tmp_path / "small.png", scale=1)
    assert np.array_equal(whole.labels, model.segment(image, scale=1).labels)
    monkeypatch.setattr(model_module, "REGION_MODE_PIXELS", 300 * 280 - 1)
    slide = model.segment_file(tmp_path / "slide.tif", scale=1)
    assert slide.shape == (300, 280) and slide.region_count == 1
    assert np.array_equal(slide.whole_labels() > 0, whole.labels > 0)
    slide.close()
    # Enlarged 2x, the small image is past the limit too: a 2x slide of it.
    assert model.segment_file(tmp_path / "small.png", scale=2).scale == 2
