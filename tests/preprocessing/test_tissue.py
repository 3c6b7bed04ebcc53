"""Tissue told from glass on a low-resolution picture of a slide."""

import numpy as np
import pytest
from skimage.transform import downscale_local_mean

from cellseg.preprocessing.synthetic import synthetic_tissue
from cellseg.preprocessing.tissue import SATURATION_RANGE, saturation, tissue_mask


def glass(shape=(60, 80), *, tint=(238, 236, 240), noise=2, seed=0) -> np.ndarray:
    """Empty glass as a scanner sees it, shrunk: near white, a faint tint, some noise."""
    jitter = np.random.default_rng(seed).integers(-noise, noise + 1, (*shape, 3))
    return np.clip(np.array(tint) + jitter, 0, 255).astype(np.uint8)


def shrunk(image: np.ndarray, factor: int = 32) -> np.ndarray:
    """A slide's picture as the tissue is found on: block means, ``factor`` times smaller."""
    return np.rint(downscale_local_mean(image, (factor, factor, 1))).astype(np.uint8)


@pytest.mark.parametrize(
    "tint", [(238, 236, 240), (245, 245, 245), (244, 240, 233), (90, 90, 90), (0, 0, 0)]
)
def test_glass_white_tinted_dark_or_black_holds_no_tissue(tint):
    assert not tissue_mask(glass(tint=tint)).any()


def test_a_slide_of_tissue_alone_is_all_tissue():
    """Otsu alone would split tissue into its pale and dark parts: the threshold is kept
    within `SATURATION_RANGE`."""
    image, _ = synthetic_tissue((1920, 2560), seed=3, density=0.3)
    mask = tissue_mask(shrunk(image))
    assert mask.mean() == 1.0


def test_real_h_and_e_is_tissue(datasets):
    from cellseg.image_io import read_image

    paths = sorted((datasets / "monuseg" / "train" / "images").glob("*.png"))
    assert paths
    mosaic = np.concatenate([read_image(path)[..., :3] for path in paths[:6]], axis=1)
    mask = tissue_mask(shrunk(mosaic, 16))
    assert mask.mean() > 0.97  # fat and lumens inside tissue are filled


def test_a_slide_70_percent_glass():
    rows, columns = np.ogrid[:2400, :3200]
    inside = ((rows - 1200) / 900) ** 2 + ((columns - 1500) / 1050) ** 2 <= 1  # 39%
    image, _ = synthetic_tissue((2400, 3200), seed=5)
    image = np.where(inside[..., None], image, glass((2400, 3200), seed=1))
    mask = tissue_mask(shrunk(image), margin=0)
    truth = shrunk(inside[..., None].astype(np.uint8) * 255)[..., 0] > 127
    assert (mask & truth).sum() / (mask | truth).sum() > 0.95
    with_margin = tissue_mask(shrunk(image))
    assert (with_margin >= truth).all() and with_margin.sum() > mask.sum()


def test_dust_is_dropped_and_holes_are_filled():
    image = glass((60, 80))
    image[10:50, 10:50] = (200, 120, 170)  # tissue
    image[25:31, 25:31] = glass((6, 6))  # a hole of 36 pixels: a lumen
    image[55:58, 70:73] = (120, 60, 100)  # 9 pixels of dust
    mask = tissue_mask(image, margin=0)
    assert mask[25:31, 25:31].all() and not mask[50:, 60:].any()
    kept = tissue_mask(image, margin=0, largest_hole=16, smallest_piece=4)
    assert not kept[27:29, 27:29].any() and kept[56, 71]


def test_transparent_pixels_are_glass():
    image = np.zeros((40, 40, 4), np.uint8)
    image[..., :3] = (200, 120, 170)
    image[:, :20, 3] = 255  # scanned; the right half is what the scanner left out
    mask = tissue_mask(image, margin=0)
    assert mask[:, :19].all() and not mask[:, 21:].any()


def test_the_image_is_left_as_it_was_and_any_depth_is_read():
    image = glass((60, 80))
    image[10:50, 10:50] = (200, 120, 170)
    before = image.copy()
    mask = tissue_mask(image)
    assert np.array_equal(image, before)
    assert np.array_equal(tissue_mask(image.astype(np.uint16) * 257), mask)
    assert np.array_equal(tissue_mask(image / 255.0), mask)


def test_saturation_is_a_ratio_and_the_threshold_stays_in_range():
    pixel = np.array([[[200, 100, 150]]], np.uint8)
    assert saturation(pixel) == pytest.approx(0.5)
    assert saturation(pixel // 2) == pytest.approx(0.5)  # a darker scan, the same
    low, high = SATURATION_RANGE
    assert 0 < low < high < 0.15


def test_a_grey_picture_is_refused():
    with pytest.raises(ValueError, match="RGB"):
        tissue_mask(np.zeros((10, 10)))
