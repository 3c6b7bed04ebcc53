"""``<stem>_tiles.json`` lists an image's tiles: ``split --overwrite`` removes those of the
earlier split, and ``merge`` stitches only the listed ones and refuses when one is missing."""

import json

import numpy as np
import pytest

from cellseg.image_io import read_image, write_image


def noise(shape, seed):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def split(cellseg, image, tiles, tile, overlap, *options):
    result = cellseg("split", image, tiles, "--tile", tile, "--overlap", overlap, *options)
    assert result.code == 0, result.err
    return result


def listed(tiles, stem="a"):
    return json.loads((tiles / f"{stem}_tiles.json").read_text())["tiles"]


def errors(result):
    return [line for line in result.error_lines if ": error: " in line]


def test_overwrite_replaces_the_tiles_of_an_earlier_split(tmp_path, cellseg):
    """The changed image's tiles alone stay, so merge gives it back, not a blend of both."""
    image, tiles = tmp_path / "a.png", tmp_path / "tiles"
    write_image(image, noise((96, 96, 3), seed=1))
    split(cellseg, image, tiles, 48, 12)
    (tiles / "notes.txt").write_text("mine")
    changed = noise((96, 96, 3), seed=2)
    write_image(image, changed, overwrite=True)
    result = split(cellseg, image, tiles, 40, 8, "--overwrite")
    assert "9 earlier tiles removed" in result.out
    assert sorted(path.name for path in tiles.iterdir()) == sorted(
        listed(tiles) + ["a_tiles.json", "notes.txt"]
    )
    merged = cellseg("merge", tiles, tmp_path / "merged")
    assert merged.code == 0, merged.err
    assert f"stitched from {len(listed(tiles))} tiles" in merged.out
    assert np.array_equal(read_image(tmp_path / "merged" / "a.png"), changed)


def test_overwrite_removes_only_plain_tiles_the_manifest_lists(tmp_path, cellseg):
    """A manifest naming another image's file is not split's: nothing it lists is removed;
    a link or a folder named like a listed tile is never removed either."""
    image, tiles = tmp_path / "a.png", tmp_path / "tiles"
    write_image(image, noise((64, 64), seed=3))
    split(cellseg, image, tiles, 32, 0)
    write_image(tiles / "b_r00000_c00000.png", noise((8, 8), seed=4))
    manifest = json.loads((tiles / "a_tiles.json").read_text())
    manifest["tiles"].append("b_r00000_c00000.png")
    (tiles / "a_tiles.json").write_text(json.dumps(manifest))
    write_image(image, noise((64, 64), seed=5), overwrite=True)
    split(cellseg, image, tiles, 16, 0, "--overwrite")
    assert (tiles / "a_r00032_c00032.png").exists()  # the 32-pixel tiles stay
    assert (tiles / "b_r00000_c00000.png").exists()

    (tiles / "a_r00032_c00032.png").unlink()
    (tiles / "a_r00016_c00016.png").unlink()
    (tiles / "a_r00016_c00016.png").mkdir()
    (tiles / "a_r00000_c00016.png").unlink()
    (tiles / "a_r00000_c00016.png").symlink_to(tiles / "b_r00000_c00000.png")
    write_image(image, noise((64, 64), seed=6), overwrite=True)
    split(cellseg, image, tiles, 32, 0, "--overwrite")
    assert (tiles / "a_r00016_c00016.png").is_dir()
    assert (tiles / "a_r00000_c00016.png").is_symlink()
    assert not (tiles / "a_r00000_c00048.png").exists()  # a 16-pixel tile, removed


def test_merge_leaves_out_tiles_the_manifest_does_not_list(tmp_path, cellseg):
    """Stale tiles (of a split with other settings, made before split removed them) are
    named in one warning line and left out."""
    image, tiles = tmp_path / "a.png", tmp_path / "tiles"
    original = noise((70, 90, 3), seed=7)
    write_image(image, original)
    split(cellseg, image, tiles, 32, 8)
    for row, column in ((0, 1), (5, 5), (10, 0), (38, 57), (60, 60)):
        write_image(tiles / f"a_r{row:05d}_c{column:05d}.png", noise((10, 10, 3), seed=row))
    write_image(tiles / "a_r00000_c00000.tif", noise((32, 32, 3), seed=8))
    result = cellseg("merge", tiles, tmp_path / "merged")
    assert result.code == 0, result.err
    assert f"stitched from {len(listed(tiles))} tiles" in result.out
    (warning,) = [line for line in result.error_lines if ": warning: " in line]
    assert warning == (
        f"cellseg merge: warning: {tiles / 'a_tiles.json'}: 6 files named like tiles of a "
        "but not listed, left out: a_r00000_c00000.tif, a_r00000_c00001.png, "
        "a_r00005_c00005.png and 3 more"
    )
    assert np.array_equal(read_image(tmp_path / "merged" / "a.png"), original)


@pytest.mark.parametrize("missing", ["a_r00064_c00064.png", "a_r00000_c00000.png"])
def test_merge_refuses_a_missing_listed_tile_that_overlap_covers(tmp_path, cellseg, missing):
    """The centre tile of a 3 x 3 grid overlapping by half, or the corner one, leaves no
    hole, yet the image is not what split cut: refused, naming the tile."""
    (tmp_path / "images").mkdir()
    write_image(tmp_path / "images" / "a.png", noise((256, 256, 3), seed=9))
    write_image(tmp_path / "images" / "b.png", noise((40, 40), seed=10))
    split(cellseg, tmp_path / "images", tmp_path / "tiles", 128, 64)
    (tmp_path / "tiles" / missing).unlink()
    result = cellseg("merge", tmp_path / "tiles", tmp_path / "merged")
    assert result.code == 1
    row, column = (int(missing[3:8]), int(missing[10:15]))
    assert errors(result) == [
        f"cellseg merge: error: {tmp_path / 'tiles' / missing}: missing (the tile at row "
        f"{row}, column {column} that a_tiles.json lists)"
    ]
    assert sorted(path.name for path in (tmp_path / "merged").iterdir()) == ["b.png"]


def test_merge_refuses_an_image_whose_listed_tiles_are_all_missing(tmp_path, cellseg):
    (tmp_path / "images").mkdir()
    write_image(tmp_path / "images" / "a.png", noise((40, 40), seed=11))
    write_image(tmp_path / "images" / "b.png", noise((40, 40), seed=12))
    split(cellseg, tmp_path / "images", tmp_path / "tiles", 32, 8)
    for tile in (tmp_path / "tiles").glob("a_r*.png"):
        tile.unlink()
    result = cellseg("merge", tmp_path / "tiles", tmp_path / "merged")
    assert result.code == 1
    (error,) = errors(result)
    assert f"{tmp_path / 'tiles' / 'a_r00000_c00000.png'}: missing" in error


def test_a_manifest_without_a_tile_list_merges_every_tile_as_before(tmp_path, cellseg):
    image, tiles = tmp_path / "a.png", tmp_path / "tiles"
    original = noise((50, 61), seed=13)
    write_image(image, original)
    split(cellseg, image, tiles, 20, 4)
    manifest = json.loads((tiles / "a_tiles.json").read_text())
    count = len(manifest.pop("tiles"))
    (tiles / "a_tiles.json").write_text(json.dumps(manifest))
    result = cellseg("merge", tiles, tmp_path / "merged")
    assert result.code == 0, result.err
    assert f"stitched from {count} tiles" in result.out and ": warning: " not in result.err
    assert np.array_equal(read_image(tmp_path / "merged" / "a.png"), original)


@pytest.mark.parametrize(
    "tiles",
    [["b_r00000_c00000.png"], ["a_r00000_c00000.png"] * 2, "a_r00000_c00000.png", [7]],
    ids=["another image", "twice", "no list", "a number"],
)
def test_merge_refuses_a_tile_list_split_would_not_write(tmp_path, cellseg, tiles):
    (tmp_path / "tiles").mkdir()
    write_image(tmp_path / "tiles" / "a_r00000_c00000.png", noise((8, 8), seed=14))
    manifest = tmp_path / "tiles" / "a_tiles.json"
    manifest.write_text(json.dumps({"shape": [8, 8], "tiles": tiles}))
    result = cellseg("merge", tmp_path / "tiles", tmp_path / "merged")
    assert result.code == 1
    (error,) = errors(result)
    assert f"{manifest}: unreadable tile manifest" in error
