"""Prediction over images of any size: whole or tiled, the same answer."""

from dataclasses import replace

import keras
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import cellseg.neural_network.prediction as prediction
from cellseg.neural_network.architectures import unet, with_normalisation


@pytest.fixture(scope="module")
def network():
    keras.utils.set_random_seed(0)
    return with_normalisation(unet(target="3class", base_filters=4, depth=2), (128,) * 3, (50,) * 3)


@pytest.mark.parametrize("shape", [(37, 53, 3), (64, 64), (5, 300, 4)])
def test_output_has_the_image_size_whatever_it_is(network, shape):
    image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    output = prediction.network_output(network, image, divisor=4)
    assert output.shape == (*shape[:2], 3) and output.dtype == np.float32
    np.testing.assert_allclose(output.sum(axis=2), 1, rtol=1e-4)


def test_tiled_prediction_matches_the_whole_image_away_from_seams(network, monkeypatch):
    image = np.random.default_rng(2).integers(0, 256, (180, 200, 3), dtype=np.uint8)
    whole = prediction.network_output(network, image, divisor=4)
    monkeypatch.setattr(prediction, "WHOLE_IMAGE_PIXELS", 100)
    monkeypatch.setattr(prediction, "LARGE_TILE", 96)
    tiled = prediction.network_output(network, image, divisor=4)
    # A two-level U-Net sees 10 pixels around each output pixel; tiles overlap by 64, and
    # blending favours each tile's centre, so the outputs agree closely everywhere.
    assert np.abs(tiled - whole).mean() < 0.01


def test_fixed_size_model_is_run_tile_by_tile():
    inputs = keras.Input((32, 32, 3))
    fixed = keras.Model(inputs, keras.layers.Conv2D(1, 1, activation="sigmoid")(inputs))
    output = prediction.network_output(fixed, np.zeros((50, 70, 3), np.uint8))
    assert output.shape == (50, 70, 1)


def test_flip_averaging_sees_each_flip_once(network):
    image = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    plain = prediction.network_output(network, image, divisor=4)
    rotated = prediction.network_output(network, image[::-1, ::-1], divisor=4)[::-1, ::-1]
    two = prediction.network_output(network, image, divisor=4, flips=2)
    # The average of the image and its half turn, each turned back.
    np.testing.assert_allclose(two, (plain + rotated) / 2, atol=1e-5)
    four = prediction.network_output(network, image, divisor=4, flips=4)
    assert four.shape == plain.shape and not np.allclose(four, two)
    with pytest.raises(ValueError, match="flips must be"):
        prediction.network_output(network, image, flips=3)


class _SlopeModel:
    """Stands for a hover network: classes from the red channel, offsets its slopes across
    and down (central differences, whose sign turns exactly when the image is mirrored)."""

    input_shape = (None, None, None, 3)

    def predict_on_batch(self, batch):
        red = batch[..., 0].astype(np.float32) / 255
        classes = np.stack([1 - red, red / 2, red / 2], axis=-1)
        offsets = np.stack([np.gradient(red, axis=2), np.gradient(red, axis=1)], axis=-1)
        return np.concatenate([classes, offsets], axis=-1)


@pytest.mark.parametrize("flips", [2, 4])
def test_flip_averaging_turns_mirrored_hover_offsets_back(flips):
    image = np.random.default_rng(5).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    model = _SlopeModel()
    plain = prediction.network_output(model, image, divisor=4, target="hover")
    averaged = prediction.network_output(model, image, divisor=4, flips=flips, target="hover")
    np.testing.assert_allclose(averaged, plain, atol=1e-6)
    # Without turning the signs back, mirrored views would cancel the offsets out.
    unsigned = prediction.network_output(model, image, divisor=4, flips=2, target="3class")
    assert np.abs(unsigned[..., 3:]).max() < 1e-6 < np.abs(plain[..., 3:]).max()


def test_auto_scale_takes_the_scale_the_network_is_surest_of():
    trial = prediction.ScaleTrial
    surest_at_two = [trial(1, 60, 0.95, 300), trial(2, 170, 0.96, 420), trial(4, 350, 0.95, 340)]
    assert prediction.choose_scale(surest_at_two, 339.0) == 2
    assert prediction.choose_scale(surest_at_two[:1], 339.0) == 1
    # Surest of cells still under half the training cells' area: the next scale up.
    too_small = [trial(1, 150, 0.972, 150), trial(2, 240, 0.971, 540)]
    assert prediction.choose_scale(too_small, 339.0) == 2
    assert prediction.choose_scale(too_small, None) == 1  # a model that does not know its cells
    # Too few cells at a scale tell nothing; none anywhere: the image as it is.
    assert prediction.choose_scale([trial(1, 3, 0.99, 40), trial(2, 40, 0.9, 300)], 339) == 2
    assert prediction.choose_scale([trial(1, 0, 0.0, 0), trial(2, 2, 0.9, 50)], 339) == 1
    # A sparse image: a few nuclei of the training size at 1, cut into pieces at 2.
    sparse = [trial(1, 7, 0.99, 1498), trial(2, 17, 0.94, 1474), trial(4, 25, 0.93, 351)]
    assert prediction.choose_scale(sparse, 472.0) == 1
    assert prediction.choose_scale(sparse, None) == 2  # their size unknown, too few to tell
    # Small at every scale: the network's own false pieces, not a 20x image; it stays.
    pieces = [trial(1, 36, 0.985, 226), trial(2, 66, 0.971, 204), trial(4, 57, 0.956, 225)]
    assert prediction.choose_scale(pieces, 637.0) == 1
    # Still too small at 2, the training size at 4: a 10x image goes straight to 4.
    ten_x = [trial(1, 20, 0.97, 30), trial(2, 60, 0.95, 120), trial(4, 90, 0.94, 480)]
    assert prediction.choose_scale(ten_x, 500.0) == 4


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 40), st.integers(1, 40), st.sampled_from([2, 4, 1.5, 1.3]), st.integers(0, 99)
)
def test_enlarging_is_cubic_at_the_size_scale_gives(rows, columns, scale, seed):
    """Enlarged images (20x and 10x ones for a 40x model) get cubic convolution (Pillow's
    bicubic filter), at the size the scale gives."""
    from cellseg.preprocessing.resampling import cubic_resized

    image = np.random.default_rng(seed).integers(0, 256, (rows, columns, 3), dtype=np.uint8)
    shape = (round(rows * scale), round(columns * scale))
    assert np.array_equal(prediction.enlarged(image, scale), cubic_resized(image, shape))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40), st.integers(1, 40), st.sampled_from([2, 4, 1.5, 0.5]), st.integers(0, 99)
)
def test_bilinear_enlarging_and_shrinking_give_skimages_pixels_bit_for_bit(
    rows, columns, scale, seed
):
    """Shrunk, and enlarged bilinearly (the scale's trials), images get exactly the pixels
    `skimage.transform.resize` gives; by 2 and 4 axis by axis, the fast way."""
    from skimage.transform import resize

    image = np.random.default_rng(seed).integers(0, 256, (rows, columns, 3), dtype=np.uint8)
    shape = (max(1, round(rows * scale)), max(1, round(columns * scale)))
    reference = resize(image, shape, order=1, preserve_range=True, anti_aliasing=scale < 1)
    expected = np.clip(np.rint(reference), 0, 255).astype(np.uint8)
    assert np.array_equal(prediction.enlarged(image, scale, cubic=False), expected)
    if scale < 1:
        assert np.array_equal(prediction.enlarged(image, scale), expected)


trial_lists = st.lists(
    st.builds(
        prediction.ScaleTrial,
        st.just(1.0),
        st.integers(0, 300),
        st.floats(0.8, 1.0),
        st.floats(10, 2000),
        st.floats(0, 0.01),
    ),
    min_size=1,
    max_size=3,
).map(lambda trials: [replace(t, scale=s) for t, s in zip(trials, (1.0, 2.0, 4.0), strict=False)])


@settings(max_examples=200, deadline=None)
@given(trial_lists, st.sampled_from([None, 339.0, 600.0]))
@example(  # 1x and 4x tie exactly, 2x within a standard error of them: 4x, not 2x
    [
        prediction.ScaleTrial(1.0, 10, 0.9296875, 10.0, 0.0),
        prediction.ScaleTrial(2.0, 10, 0.921875, 10.0, 0.0078125),
        prediction.ScaleTrial(4.0, 10, 0.9296875, 10.0, 0.0),
    ],
    None,
)
def test_a_near_tie_only_ever_enlarges_more(trials, cell_area):
    """The one-standard-error rule moves ``auto`` to a larger scale the network is about as
    sure of, never to a smaller one; without errors it is the rule of the mean scores."""
    exact = [replace(trial, score_error=0.0) for trial in trials]
    chosen = prediction.choose_scale(trials, cell_area)
    assert chosen >= prediction.choose_scale(exact, cell_area)
    best = max(trials, key=lambda trial: trial.mean_score)
    sizeable = all(t.cells >= 10 and t.median_area >= (cell_area or 0) / 2 for t in trials)
    if chosen > best.scale and sizeable:  # the rule of the cells' size not at play
        taken = next(t for t in trials if t.scale == chosen)
        assert best.mean_score - taken.mean_score <= np.hypot(taken.score_error, best.score_error)
