"""benchmarks/dsb_mosaics.py: small images packed into mosaics, every pixel kept, no overlap."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from dsb_mosaics import is_grey, pack, to_cell_area

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "dsb_mosaics.py"

SIDE = 40


def piece(height: int, width: int, cells: int):
    """A black image whose labels number ``cells`` stripes 1..cells."""
    labels = np.zeros((height, width), np.int32)
    for cell in range(1, cells + 1):
        labels[:, cell - 1 :: cells] = cell
    return np.zeros((height, width, 3), np.uint8), labels


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, SIDE), st.integers(1, SIDE), st.integers(1, 3)), max_size=12)
)
def test_pack_places_every_piece_once_without_overlap(shapes):
    pieces = [piece(height, min(width, SIDE), min(cells, width)) for height, width, cells in shapes]
    mosaics = pack(pieces, SIDE)
    assert all(
        image.shape == (SIDE, SIDE, 3) and labels.shape == (SIDE, SIDE) for image, labels in mosaics
    )
    # Every piece's pixels are black and the mosaics white: the black pixels are all of them.
    black = sum(int((image == 0).all(axis=-1).sum()) for image, _ in mosaics)
    assert black == sum(labels.size for _, labels in pieces)
    # Each piece's cells keep distinct ids in their mosaic.
    ids = sum(len(np.unique(labels[labels > 0])) for _, labels in mosaics)
    assert ids == sum(int(labels.max()) for _, labels in pieces)
    assert len(mosaics) <= len(pieces)


def test_a_piece_larger_than_the_mosaic_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        pack([piece(SIDE + 1, 2, 1)], SIDE)


def test_resized_to_the_median_cell_area():
    labels = np.zeros((200, 200), np.int32)
    for index, (row, column) in enumerate([(50, 50), (50, 150), (150, 100)], start=1):
        rows, columns = np.ogrid[:200, :200]
        labels[(rows - row) ** 2 + (columns - column) ** 2 <= 20**2] = index
    image = np.stack([np.where(labels > 0, 80, 220)] * 3, axis=-1).astype(np.uint8)
    resized, resized_labels = to_cell_area(image, labels, cell_area=np.pi * 10**2)
    assert resized.shape[:2] == resized_labels.shape == (100, 100)
    areas = np.bincount(resized_labels.ravel())[1:]
    assert np.allclose(areas, np.pi * 10**2, rtol=0.05)
    # At most 2x either way: a cell 4 times too wide is halved, not quartered.
    _, halved = to_cell_area(image, labels, cell_area=np.pi * 5**2)
    assert halved.shape == (100, 100)


def test_grey_images_are_told_from_stained_ones():
    grey = np.full((4, 4, 3), 90, np.uint8)
    stained = grey.copy()
    stained[..., 2] = 160
    assert is_grey(grey) and not is_grey(stained)


def test_a_folder_without_colour_images_is_one_line_naming_it(tmp_path):
    source = tmp_path / "dsb"
    (source / "images").mkdir(parents=True)
    output = tmp_path / "mosaics"
    result = subprocess.run(
        [sys.executable, SCRIPT, "--source", source, "--output", output],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"dsb_mosaics.py: {source / 'images'}: no colour PNG images to pack"
    )
    assert not output.exists()
