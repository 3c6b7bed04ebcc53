"""Binary masks given as annotations (0 and one value on every cell, as Fiji and
``cellseg labels --target mask`` save them): one cell per separate region, not one cell."""

import csv
import warnings

import numpy as np
import pytest

from cellseg.annotations import read_annotation_labels
from cellseg.errors import CellsegWarning
from cellseg.image_io import read_image, write_image
from cellseg.postprocessing.drawing import outline_layer


def write(path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, image)


def three_regions(shape=(40, 48)) -> np.ndarray:
    """Three cells as a bool mask: two squares meeting only at a corner (two cells, side by
    side in no row or column), and one apart."""
    mask = np.zeros(shape, bool)
    mask[5:12, 5:12] = mask[12:19, 12:19] = True  # (11, 11) and (12, 12) share a corner
    mask[25:35, 25:40] = True
    return mask


def read_warned(path) -> tuple[np.ndarray, list[str]]:
    """`read_annotation_labels` of ``path`` and the `CellsegWarning` messages it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = read_annotation_labels(path)
    return labels, [str(w.message) for w in caught if issubclass(w.category, CellsegWarning)]


def write_tiff_bool(path, mask: np.ndarray) -> None:
    import tifffile

    tifffile.imwrite(path, mask)  # a 1-bit (bilevel) TIFF, as numpy's bool is saved


@pytest.mark.parametrize(
    "name, save",
    [
        ("mask.png", lambda path, mask: write(path, mask.astype(np.uint8) * np.uint8(255))),
        ("mask01.png", lambda path, mask: write(path, mask.astype(np.uint8))),
        ("mask.tif", write_tiff_bool),
    ],
    ids=["uint8 0 and 255", "uint8 0 and 1", "bool TIFF"],
)
def test_a_mask_of_one_value_is_one_cell_per_separate_region(tmp_path, name, save):
    mask = three_regions()
    save(tmp_path / name, mask)
    labels, said = read_warned(tmp_path / name)
    assert labels.max() == 3 and sorted(np.unique(labels)) == [0, 1, 2, 3]
    assert np.array_equal(labels > 0, mask)
    # Each region is one cell: the corner-touching squares (4-connected) are apart.
    for region in (np.s_[5:12, 5:12], np.s_[12:19, 12:19], np.s_[25:35, 25:40]):
        assert len(np.unique(labels[region])) == 1
    assert said == [
        f"{tmp_path / name}: a mask of one value, read as 3 cells, one per separate region "
        "(touching cells cannot be told apart in a mask; draw outlines or give a label "
        "image to separate them)"
    ]


def test_only_a_mask_is_split_a_label_image_is_left_as_it_is(tmp_path):
    labels = np.zeros((40, 48), np.uint16)
    labels[5:12, 5:12] = labels[25:35, 25:40] = 7  # one cell in two pieces: kept one cell
    labels[5:12, 30:40] = 300
    write(tmp_path / "labels.png", labels)
    write(tmp_path / "mask.png", (labels > 0).astype(np.uint8) * np.uint8(255))
    read, said = read_warned(tmp_path / "labels.png")
    assert read.dtype == np.uint16 and np.array_equal(read, labels) and said == []
    read, said = read_warned(tmp_path / "mask.png")
    assert read.max() == 3 and len(said) == 1


def test_a_mask_of_one_region_is_one_cell_numbered_1_without_a_warning(tmp_path):
    mask = np.zeros((40, 48), np.uint8)
    mask[10:20, 10:30] = 255
    write(tmp_path / "one.png", mask)
    labels, said = read_warned(tmp_path / "one.png")
    assert sorted(np.unique(labels)) == [0, 1] and np.array_equal(labels > 0, mask > 0)
    assert said == []


def test_the_mask_cellseg_labels_writes_reads_back_as_its_cells(tmp_path, cellseg):
    cells = np.zeros((40, 48), np.int32)
    cells[5:15, 5:15], cells[20:32, 25:40], cells[30:38, 5:12] = 1, 2, 3
    write(tmp_path / "outlines" / "cells.png", outline_layer(cells))
    result = cellseg("labels", tmp_path / "outlines", tmp_path / "masks", "--target", "mask")
    assert result.code == 0, result.err
    written = read_image(tmp_path / "masks" / "cells.png")
    assert written.dtype == np.uint8 and sorted(np.unique(written)) == [0, 255]
    labels, said = read_warned(tmp_path / "masks" / "cells.png")
    assert labels.max() == 3 and len(said) == 1
    assert all(len(np.unique(labels[cells == cell])) == 1 for cell in (1, 2, 3))


def test_evaluate_counts_a_masks_regions_as_its_true_cells(tmp_path, cellseg, small_model):
    images, annotations = tmp_path / "images", tmp_path / "annotations"
    write(images / "cells.png", np.full((40, 48, 3), 200, np.uint8))
    write(annotations / "cells.png", three_regions().astype(np.uint8) * np.uint8(255))
    table = tmp_path / "scores.csv"
    result = cellseg(
        "evaluate", small_model, "--images", images, "--annotations", annotations,
        "--output", table, "--scale", "1",
    )  # fmt: skip
    assert result.code == 0, result.err
    warned = [line for line in result.error_lines if "a mask of one value" in line]
    assert len(warned) == 1 and str(annotations / "cells.png") in warned[0]
    assert "read as 3 cells" in warned[0] and warned[0].startswith("cellseg evaluate: warning:")
    with open(table, newline="") as file:
        rows = {row["image"]: row for row in csv.DictReader(file)}
    assert rows["cells.png"]["true_count"] == "3"
