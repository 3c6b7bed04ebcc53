"""Counterstain strength: pale haematoxylin without eosin is strengthened, nothing else is."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellseg.preprocessing.colour import (
    MOST_COUNTERSTAIN,
    counterstain_factor,
    counterstain_reference,
    counterstain_strength,
    is_brightfield,
    rgb_from_stain_amounts,
    stain_amounts,
    with_counterstain,
)

#: The shipped default's training images span about this (trained_models/default/config.json).
REFERENCE = {"lowest": 0.1, "median": 0.16}


def section(haematoxylin: float, eosin: float, dab: float = 0.0) -> np.ndarray:
    """An 8-bit RGB section: round nuclei of ``haematoxylin`` (and ``dab`` in the left
    ones) on a stroma of ``eosin``, on a white background in one corner."""
    rows, columns = np.mgrid[:96, :96]
    stains = np.zeros((96, 96, 3), np.float32)
    stains[..., 1] = eosin
    stains[:24, :24, 1] = 0  # glass
    for row in range(12, 96, 24):
        for column in range(12, 96, 24):
            nucleus = (rows - row) ** 2 + (columns - column) ** 2 <= 49
            stains[nucleus, 0] = haematoxylin
            if column < 48:
                stains[nucleus, 2] = dab
    return np.rint(rgb_from_stain_amounts(stains) * 255).astype(np.uint8)


def test_pale_counterstain_without_eosin_is_brought_to_the_training_median():
    pale = section(haematoxylin=0.04, eosin=0.0, dab=0.3)
    factor = counterstain_factor(pale, REFERENCE)
    assert factor == pytest.approx(REFERENCE["median"] / counterstain_strength(pale)[0], rel=1e-2)
    stronger = with_counterstain(pale, factor)
    assert counterstain_strength(stronger)[0] == pytest.approx(REFERENCE["median"], rel=0.1)
    # Only the haematoxylin changes: the DAB a positivity threshold reads is kept.
    before, after = stain_amounts(pale / 255.0), stain_amounts(stronger / 255.0)
    np.testing.assert_allclose(after[..., 2], before[..., 2], atol=0.01)
    assert stronger.dtype == np.uint8 and stronger.shape == pale.shape


@pytest.mark.parametrize(
    "image",
    [
        section(haematoxylin=0.04, eosin=0.05),  # H&E, however pale: its own stain balance
        section(haematoxylin=0.14, eosin=0.0),  # within the training images' range
        255 - section(haematoxylin=0.04, eosin=0.0),  # a dark, fluorescence-like image
        np.full((32, 32, 3), 255, np.uint8),  # nothing stained
    ],
    ids=["H&E", "in range", "fluorescence", "blank"],
)
def test_other_images_are_left_as_they_are(image):
    factor = counterstain_factor(image, REFERENCE)
    assert factor == 1.0
    assert with_counterstain(image, factor) is image


def test_no_reference_no_change():
    assert counterstain_factor(section(haematoxylin=0.02, eosin=0.0), None) == 1.0


def test_the_factor_is_bounded():
    faint = section(haematoxylin=0.02, eosin=0.0)  # 8x paler than the median, measurable
    assert counterstain_factor(faint, REFERENCE) == MOST_COUNTERSTAIN


def test_reference_of_training_strengths():
    assert counterstain_reference([0.2, 0.1, 0.15, 0.0]) == {"lowest": 0.1, "median": 0.15}
    assert counterstain_reference([]) is None


def test_brightfield_against_fluorescence():
    assert is_brightfield(section(0.15, 0.05))
    assert not is_brightfield(np.full((8, 8, 3), 30, np.uint8))  # fluorescence background
    assert not is_brightfield(np.zeros((0, 0, 3), np.uint8))


@settings(max_examples=40, deadline=None)
@given(
    haematoxylin=st.floats(0.0, 0.4),
    eosin=st.floats(0.0, 0.3),
    dab=st.floats(0.0, 0.5),
)
def test_stain_amounts_round_trip(haematoxylin, eosin, dab):
    stains = np.array([[[haematoxylin, eosin, dab]]], np.float32)
    back = stain_amounts(rgb_from_stain_amounts(stains))
    np.testing.assert_allclose(back, stains, atol=2e-3)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([np.uint8, np.uint16]), st.sampled_from([2, 4]), st.integers(0, 2**16))
def test_an_image_with_alpha_on_white_is_its_colours_where_opaque_and_white_where_clear(
    dtype, channels, seed
):
    from cellseg.preprocessing.colour import on_white, significant_bits

    top = np.iinfo(dtype).max
    image = np.random.default_rng(seed).integers(0, top, (6, 7, channels), endpoint=True)
    image = image.astype(dtype)
    image[..., -1] = top  # opaque everywhere: the colours as they are
    colours = image[..., 0] if channels == 2 else image[..., :3]
    assert np.array_equal(on_white(image), colours) and on_white(image).dtype == dtype
    image[:3, :, -1] = 0  # the top rows clear: white at the image's depth
    white = 2 ** significant_bits(image) - 1
    laid = on_white(image)
    assert (laid[:3] == white).all() and np.array_equal(laid[3:], colours[3:])
