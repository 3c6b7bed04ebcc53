"""Gaussian blur: hand-computed values, dtype and channels kept, input untouched."""

import numpy as np
import pytest

from cellseg.preprocessing.blur import gaussian_blur


def test_impulse_spreads_as_the_gaussian_kernel():
    # A unit impulse blurred with sigma 1 is the normalised kernel exp(-x^2 / 2):
    # [0.0540, 0.2420, 0.3989, 0.2420, 0.0540] (truncated at 4 sigma, renormalised).
    impulse = np.zeros((1, 9))
    impulse[0, 4] = 1.0
    x = np.arange(-4, 5)
    kernel = np.exp(-(x**2) / 2)
    kernel /= kernel.sum()
    row = gaussian_blur(impulse, 1.0)[0]
    # The blur is 2-D but the image is one row tall and edges repeat, so rows add up.
    np.testing.assert_allclose(row, kernel, atol=1e-12)


def test_integer_values_are_rounded_to_nearest():
    impulse = np.zeros((1, 5), np.uint8)
    impulse[0, 2] = 100
    # 100 * [0.0545, 0.2442, 0.4026, 0.2442, 0.0545] (kernel cut at the edges).
    assert gaussian_blur(impulse, 1.0).tolist() == [[5, 24, 40, 24, 5]]


@pytest.mark.parametrize(
    ("dtype", "shape"),
    [
        (np.uint8, (20, 30)),
        (np.uint16, (20, 30, 3)),
        (np.uint8, (20, 30, 4)),
        (np.float32, (20, 30)),
    ],
)
def test_constant_image_stays_constant_with_its_dtype_and_channels(dtype, shape):
    image = np.full(shape, 200, dtype=dtype)
    blurred = gaussian_blur(image, 3.0)
    assert blurred.dtype == dtype
    assert blurred.shape == shape
    assert np.array_equal(blurred, image)


def test_channels_are_blurred_separately():
    image = np.zeros((9, 9, 3), np.uint8)
    image[4, 4, 1] = 255
    blurred = gaussian_blur(image, 1.0)
    assert blurred[:, :, 0].max() == 0 and blurred[:, :, 2].max() == 0
    # Centre of a 2-D unit Gaussian of sigma 1: 1 / (2 pi) = 0.1592; 255 * 0.1592 = 40.6.
    assert blurred[4, 4, 1] == 41


def test_sums_are_kept_away_from_edges_and_input_is_untouched():
    rng = np.random.default_rng(1)
    image = np.zeros((64, 64))
    image[20:44, 20:44] = rng.random((24, 24))
    before = image.copy()
    blurred = gaussian_blur(image, 2.0)
    assert blurred.sum() == pytest.approx(image.sum())
    assert np.array_equal(image, before)


def test_sigma_zero_is_a_copy_and_negative_is_refused():
    image = np.arange(12, dtype=np.uint16).reshape(3, 4)
    assert np.array_equal(gaussian_blur(image, 0), image)
    with pytest.raises(ValueError):
        gaussian_blur(image, -1)
