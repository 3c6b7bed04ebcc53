"""Tiling: tiles cover every pixel, have one size, and stitch back to the input exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellseg.preprocessing.tiling import (
    STITCH_METHODS,
    TilePosition,
    split_into_tiles,
    stitch_tiles,
    tile_positions,
    tile_starts,
)


@st.composite
def tilings(draw):
    tile = draw(st.integers(1, 64))
    overlap = draw(st.integers(0, tile - 1))
    rows = draw(st.integers(1, 150))
    columns = draw(st.integers(1, 150))
    return (rows, columns), tile, overlap


@given(tilings())
@settings(max_examples=300, deadline=None)
def test_tiles_cover_every_pixel_with_one_size_and_stay_inside(tiling):
    shape, tile, overlap = tiling
    positions = tile_positions(shape, tile, overlap)
    covered = np.zeros(shape, dtype=int)
    for position in positions:
        assert position.height == min(tile, shape[0])
        assert position.width == min(tile, shape[1])
        assert position.row + position.height <= shape[0]
        assert position.column + position.width <= shape[1]
        covered[position.window] += 1
    assert covered.min() >= 1


@given(st.integers(1, 500), st.integers(1, 64), st.data())
@settings(max_examples=300, deadline=None)
def test_neighbouring_tiles_overlap_at_least_as_asked(length, tile, data):
    overlap = data.draw(st.integers(0, tile - 1))
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0
    assert starts[-1] + min(tile, length) == length  # the last tile ends at the edge
    steps = np.diff(starts)
    assert (steps > 0).all()
    assert (steps <= tile - overlap).all()


@given(tilings(), st.sampled_from(STITCH_METHODS), st.sampled_from([1, 3, 4]))
@settings(max_examples=200, deadline=None)
def test_split_then_stitch_is_the_identity(tiling, method, channels):
    shape, tile, overlap = tiling
    rng = np.random.default_rng(sum(shape) + tile)
    full_shape = shape if channels == 1 else (*shape, channels)
    image = rng.integers(0, 2**16, size=full_shape, dtype=np.uint16)
    tiles = list(split_into_tiles(image, tile=tile, overlap=overlap))
    assert np.array_equal(stitch_tiles(tiles, image.shape, method=method), image)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.int32, bool])
@pytest.mark.parametrize("method", STITCH_METHODS)
def test_stitching_keeps_the_dtype(dtype, method):
    image = (np.arange(37 * 23).reshape(37, 23) % 7).astype(dtype)
    tiles = split_into_tiles(image, tile=10, overlap=3)
    stitched = stitch_tiles(tiles, image.shape, method=method)
    assert stitched.dtype == image.dtype
    assert np.array_equal(stitched, image)


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float32])
@pytest.mark.parametrize("method", ["mean", "blend"])
def test_large_tiles_of_full_range_values_stitch_back_exactly(dtype, method):
    # Tiles as large as prediction's (1280 px, blend weights up to 640 x 640), values over
    # each dtype's whole range.
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        image = rng.integers(info.min, info.max, size=(1500, 1400), dtype=dtype, endpoint=True)
    else:
        image = (rng.standard_normal((1500, 1400)) * 1e6).astype(dtype)
    tiles = split_into_tiles(image, tile=1280, overlap=64)
    stitched = stitch_tiles(tiles, image.shape, method=method)
    assert stitched.dtype == image.dtype
    assert np.array_equal(stitched, image)


@pytest.mark.parametrize("method", ["mean", "blend"])
def test_an_8_bit_image_is_stitched_in_five_bytes_a_sample(method):
    """``cellseg merge`` of an image at the size cap must fit in memory: float32 sums and
    the result, no float64 copies (16 to 24 bytes a sample, as before)."""
    from memory_peaks import peak_in_a_fresh_python

    image = np.random.default_rng(1).integers(0, 256, (600, 500, 3), dtype=np.uint8)
    tiles = split_into_tiles(image, tile=256, overlap=32)
    assert np.array_equal(stitch_tiles(tiles, image.shape, method=method), image)
    peak = peak_in_a_fresh_python("stitch_peak", method, image.shape)  # the same image
    pixels = image.shape[0] * image.shape[1]
    # Sums (4 bytes a sample), weights (4 a pixel), coverage (1 a pixel), the result (1 a
    # sample), and one tile's float copies.
    assert peak <= 5 * image.nbytes + 5 * pixels + 4 * 12 * 256 * 256, peak / image.nbytes


def test_float32_sums_blend_network_outputs_as_float64_sums_do():
    # Neighbouring tiles of a network's output disagree where they overlap; summed in
    # float32 (half the memory) their blend is the float64 blend to float32 rounding.
    rng = np.random.default_rng(0)
    probabilities = rng.random((1500, 1400, 3), dtype=np.float32)
    tiles = [
        (position, np.clip(tile + rng.normal(0, 0.1, tile.shape), 0, 1).astype(np.float32))
        for position, tile in split_into_tiles(probabilities, tile=1280, overlap=64)
    ]
    in_float64 = stitch_tiles(tiles, probabilities.shape, dtype=np.float32)
    in_float32 = stitch_tiles(tiles, probabilities.shape, dtype=np.float32, accumulate=np.float32)
    assert in_float32.dtype == np.float32
    np.testing.assert_allclose(in_float32, in_float64, rtol=0, atol=1e-6)


def test_users_defaults_keep_the_right_and_bottom_edges():
    # The users' old script dropped the last partial tile; 1200 x 1600 with 200 / 100.
    positions = tile_positions((1200, 1600), 200, 100)
    assert max(p.row + p.height for p in positions) == 1200
    assert max(p.column + p.width for p in positions) == 1600
    assert len(positions) == 11 * 15


def test_max_keeps_the_largest_prediction_where_tiles_overlap():
    left = (TilePosition(0, 0, 1, 3), np.array([[1, 5, 5]], np.uint8))
    right = (TilePosition(0, 2, 1, 3), np.array([[9, 2, 2]], np.uint8))
    assert stitch_tiles([left, right], (1, 5), method="max").tolist() == [[1, 5, 9, 2, 2]]
    assert stitch_tiles([left, right], (1, 5), method="mean").tolist() == [[1, 5, 7, 2, 2]]


def test_blend_favours_the_tile_whose_centre_is_nearer():
    # Column 3 is the last pixel of the left tile (weight 1) and the second of the right
    # tile (weight 2): the right tile's value dominates.
    left = (TilePosition(0, 0, 1, 4), np.zeros((1, 4)))
    right = (TilePosition(0, 2, 1, 4), np.ones((1, 4)))
    stitched = stitch_tiles([left, right], (1, 6), method="blend")
    assert stitched[0, 3] == pytest.approx(2 / 3)
    assert stitched[0, 2] == pytest.approx(1 / 3)


def test_missing_tile_is_reported_with_its_place():
    tiles = list(split_into_tiles(np.zeros((30, 30)), tile=10, overlap=0))
    del tiles[4]  # the centre tile
    with pytest.raises(ValueError, match="uncovered, the first at row 10, column 10"):
        stitch_tiles(tiles, (30, 30))


@pytest.mark.parametrize(("tile", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_impossible_tiling_is_refused(tile, overlap):
    with pytest.raises(ValueError):
        tile_starts(100, tile, overlap)


@pytest.mark.parametrize("method", ["mean", "blend"])
def test_16_bit_tiles_overlapping_hundreds_of_times_stitch_back_exactly(method):
    """Tiles of 23 pixels cut one pixel apart: up to 529 cover a pixel, and 16-bit values
    summed over them pass float32's 24 bits (hypothesis found it)."""
    image = np.random.default_rng(116).integers(0, 2**16, size=(45, 48, 4), dtype=np.uint16)
    tiles = split_into_tiles(image, tile=23, overlap=22)
    stitched = stitch_tiles(tiles, image.shape, method=method)
    assert stitched.dtype == np.uint16 and np.array_equal(stitched, image)
