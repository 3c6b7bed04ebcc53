"""Training targets from labels: mask, three classes, distance map."""

import numpy as np
import pytest

from cellseg.preprocessing.targets import (
    BOUNDARY,
    INTERIOR,
    distance_map,
    foreground_mask,
    make_target,
    three_class,
)

TWO_TOUCHING_CELLS = np.array(
    [
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 1, 1, 1, 2, 2, 2, 0],
        [0, 1, 1, 1, 2, 2, 2, 0],
        [0, 1, 1, 1, 2, 2, 2, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
    ]
)


def test_mask_is_every_cell_pixel():
    assert (
        foreground_mask(TWO_TOUCHING_CELLS).tolist()
        == (TWO_TOUCHING_CELLS > 0).astype(int).tolist()
    )


def test_three_classes_separate_touching_cells_by_boundaries():
    b, i = BOUNDARY, INTERIOR
    expected = [
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, b, b, b, b, b, b, 0],
        [0, b, i, b, b, i, b, 0],
        [0, b, b, b, b, b, b, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
    ]
    assert three_class(TWO_TOUCHING_CELLS).tolist() == expected


def test_distance_is_to_the_nearest_pixel_outside_the_cell():
    cell = np.zeros((7, 9), int)
    cell[1:6, 1:8] = 3
    distance = distance_map(cell, normalise=False)
    assert distance[3].tolist() == [0, 1, 2, 3, 3, 3, 2, 1, 0]
    assert distance[0].max() == 0


def test_normalised_distance_peaks_at_one_in_every_cell():
    distance = distance_map(TWO_TOUCHING_CELLS)
    for cell in (1, 2):
        assert distance[TWO_TOUCHING_CELLS == cell].max() == pytest.approx(1.0)
    assert distance[TWO_TOUCHING_CELLS == 0].max() == 0
    # The touching column is the edge of both cells, not their middle.
    assert distance[2, 3] < distance[2, 2]


def test_cells_cut_by_the_image_edge_end_there():
    labels = np.ones((3, 5), int)
    assert distance_map(labels, normalise=False)[1].tolist() == [1, 2, 2, 2, 1]


def test_unknown_target_is_refused():
    with pytest.raises(ValueError, match="target must be one of"):
        make_target(TWO_TOUCHING_CELLS, "outlines")
