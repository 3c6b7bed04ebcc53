"""Enlarging by cubic convolution (Pillow's bicubic filter): what it keeps."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellseg.preprocessing.resampling import cubic_resized

sizes = st.integers(1, 30)
scales = st.sampled_from([1.0, 1.3, 1.5, 2.0, 2.5, 4.0])


@settings(max_examples=60, deadline=None)
@given(sizes, sizes, scales, st.integers(0, 255))
def test_a_flat_image_stays_flat_at_the_size_asked(rows, columns, scale, value):
    shape = (max(1, round(rows * scale)), max(1, round(columns * scale)))
    image = np.full((rows, columns, 3), value, np.uint8)
    enlarged = cubic_resized(image, shape)
    assert enlarged.shape == (*shape, 3) and enlarged.dtype == np.uint8
    assert (enlarged == value).all()
    assert cubic_resized(image[..., 0], shape).shape == shape  # grey
    assert np.array_equal(cubic_resized(image.astype(np.float32), shape), enlarged)  # as_rgb's


@settings(max_examples=40, deadline=None)
@given(sizes, sizes, st.sampled_from([2, 4]), st.integers(0, 99))
def test_mirrored_images_enlarge_mirrored(rows, columns, factor, seed):
    image = np.random.default_rng(seed).integers(0, 256, (rows, columns, 3), dtype=np.uint8)
    shape = (rows * factor, columns * factor)
    for axis in (0, 1):
        flipped = cubic_resized(np.flip(image, axis), shape)
        assert np.array_equal(flipped, np.flip(cubic_resized(image, shape), axis))


@pytest.mark.parametrize("factor", [2, 4])
def test_an_image_shrunk_then_enlarged_comes_back_closer_than_bilinearly(factor):
    """What cubic convolution is for: a 40x image taken at 20x (or 10x) and enlarged back
    keeps more of its detail than bilinear interpolation leaves."""
    from skimage import data
    from skimage.transform import resize

    from cellseg.neural_network.prediction import enlarged

    image = data.immunohistochemistry()[:256, :256]
    small = np.rint(
        resize(image, (256 // factor,) * 2, preserve_range=True, anti_aliasing=True)
    ).astype(np.uint8)
    inside = (slice(8, -8),) * 2
    cubic = np.abs(cubic_resized(small, (256, 256)).astype(int) - image)[inside].mean()
    bilinear = np.abs(enlarged(small, factor, cubic=False).astype(int) - image)[inside].mean()
    assert cubic < 0.97 * bilinear
