"""``cellseg split`` then ``cellseg merge`` gives every image back exactly."""

import json

import numpy as np
import pytest

from cellseg.image_io import read_image, write_image


def real_or_synthetic_crop(datasets_root, rows=611, columns=997):
    """A 997 x 611 RGB crop of real H&E tissue when ../shared is there, else synthetic."""
    if datasets_root is not None:
        images = sorted((datasets_root / "monuseg" / "train" / "images").glob("*.png"))
        if images:
            return read_image(images[0])[:rows, :columns]
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (rows, columns, 3), dtype=np.uint8)


@pytest.fixture
def crop(datasets_if_present):
    return real_or_synthetic_crop(datasets_if_present)


@pytest.mark.parametrize("method", ["max", "mean", "blend"])
def test_odd_sized_crop_comes_back_exactly(tmp_path, cellseg, crop, method):
    write_image(tmp_path / "crop.png", crop)
    split = cellseg(
        "split", tmp_path / "crop.png", tmp_path / "tiles", "--tile", 256, "--overlap", 40
    )
    assert split.code == 0, split.err
    merged = cellseg("merge", tmp_path / "tiles", tmp_path / "merged", "--method", method)
    assert merged.code == 0, merged.err
    assert np.array_equal(read_image(tmp_path / "merged" / "crop.png"), crop)


def test_tiles_are_named_by_position_and_recorded(tmp_path, cellseg):
    write_image(tmp_path / "scan.png", np.zeros((1200, 1600, 3), np.uint8))
    assert cellseg("split", tmp_path / "scan.png", tmp_path / "tiles").code == 0
    tiles = sorted(path.name for path in (tmp_path / "tiles").glob("scan_r*_c*.png"))
    assert len(tiles) == 11 * 15  # 200 px tiles, 100 px overlap, right and bottom edges kept
    assert "scan_r01000_c01400.png" in tiles
    manifest = json.loads((tmp_path / "tiles" / "scan_tiles.json").read_text())
    assert manifest["shape"] == [1200, 1600, 3]
    assert manifest["tile"] == 200 and manifest["overlap"] == 100
    assert sorted(manifest["tiles"]) == tiles


def test_an_image_smaller_than_a_tile_is_named_in_the_summary(tmp_path, cellseg):
    """Its tiles are of its own side, not the --tile the summary gives: it says which."""
    images = tmp_path / "images"
    images.mkdir()
    write_image(images / "large.png", np.zeros((300, 300), np.uint8))
    write_image(images / "low.png", np.zeros((150, 400), np.uint8))
    result = cellseg("split", images, tmp_path / "tiles", "--tile", "200", "--overlap", "0")
    assert result.code == 0, result.err
    assert (
        result.out.strip()
        .splitlines()[-1]
        .endswith("; smaller than a tile, cut to their own side: low.png")
    )
    shapes = {read_image(path).shape for path in (tmp_path / "tiles").glob("low_*.png")}
    assert shapes == {(150, 200)}


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("gray16.tif", np.arange(90 * 70, dtype=np.uint16).reshape(90, 70) * 7),
        ("rgb16.tif", np.random.default_rng(3).integers(0, 2**16, (90, 70, 3), dtype=np.uint16)),
        ("rgba.png", np.random.default_rng(1).integers(0, 256, (90, 70, 4), dtype=np.uint8)),
        ("float.tif", np.random.default_rng(2).random((90, 70)).astype(np.float32)),
    ],
)
def test_any_mode_and_depth_round_trips(tmp_path, cellseg, name, image):
    write_image(tmp_path / name, image)
    assert cellseg("split", tmp_path / name, tmp_path / "t", "--tile", 32, "--overlap", 5).code == 0
    assert cellseg("merge", tmp_path / "t", tmp_path / "m").code == 0
    (merged,) = (tmp_path / "m").iterdir()
    assert np.array_equal(read_image(merged), image)


def test_merge_without_manifest_uses_the_tiles_extent(tmp_path, cellseg):
    image = np.random.default_rng(4).integers(0, 256, (50, 77), dtype=np.uint8)
    write_image(tmp_path / "a.png", image)
    cellseg("split", tmp_path / "a.png", tmp_path / "t", "--tile", 20, "--overlap", 4)
    (tmp_path / "t" / "a_tiles.json").unlink()
    assert cellseg("merge", tmp_path / "t", tmp_path / "m").code == 0
    assert np.array_equal(read_image(tmp_path / "m" / "a.png"), image)


def test_max_merges_predicted_masks(tmp_path, cellseg):
    # Masks predicted per tile disagree where tiles overlap: max keeps every detection.
    tiles = tmp_path / "predicted"
    tiles.mkdir()
    left, right = np.zeros((4, 6), np.uint8), np.zeros((4, 6), np.uint8)
    left[1, 5] = 255
    right[2, 0] = 255
    write_image(tiles / "a_r00000_c00000.png", left)
    write_image(tiles / "a_r00000_c00004.png", right)
    assert cellseg("merge", tiles, tmp_path / "m", "--method", "max").code == 0
    merged = read_image(tmp_path / "m" / "a.png")
    assert merged.shape == (4, 10)
    assert merged[1, 5] == 255 and merged[2, 4] == 255


def test_missing_tile_is_named(tmp_path, cellseg):
    write_image(tmp_path / "a.png", np.zeros((60, 60), np.uint8))
    cellseg("split", tmp_path / "a.png", tmp_path / "t", "--tile", 20, "--overlap", 0)
    (tmp_path / "t" / "a_r00020_c00020.png").unlink()
    result = cellseg("merge", tmp_path / "t", tmp_path / "m")
    assert result.code == 1
    assert "row 20, column 20" in result.err and "missing" in result.err
    assert not (tmp_path / "m" / "a.png").exists()


def test_overlap_must_be_smaller_than_the_tile(tmp_path, cellseg):
    write_image(tmp_path / "a.png", np.zeros((6, 6), np.uint8))
    result = cellseg("split", tmp_path / "a.png", tmp_path / "t", "--tile", 10, "--overlap", 10)
    assert result.code == 2 and "--overlap must be" in result.err
