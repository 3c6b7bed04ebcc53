"""Training targets from labels: mask, three classes, distance map, centre offsets."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.segmentation import find_boundaries

from cellseg.preprocessing.targets import (
    BOUNDARY,
    INTERIOR,
    centre_offsets,
    contacts,
    distance_map,
    foreground_mask,
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


def test_a_wider_boundary_keeps_crowded_cores_apart():
    b, i = BOUNDARY, INTERIOR
    cells = np.repeat(np.repeat(TWO_TOUCHING_CELLS, 2, axis=0), 2, axis=1)  # 6 x 6 cells
    middle_row = three_class(cells, width=2)[5]
    assert middle_row.tolist() == [0, 0, b, b, i, i, b, b, b, b, i, i, b, b, 0, 0]


@settings(max_examples=60, deadline=None)
@given(
    labels=arrays(
        np.int32, st.tuples(st.integers(1, 9), st.integers(1, 9)), elements=st.integers(0, 3)
    ),
    width=st.integers(1, 3),
)
def test_boundary_is_every_cell_pixel_within_width_steps_of_another_label(labels, width):
    rows, columns = np.indices(labels.shape)
    expected = np.zeros(labels.shape, bool)
    for row, column in zip(*np.nonzero(labels), strict=True):
        steps = np.abs(rows - row) + np.abs(columns - column)
        expected[row, column] = np.any((steps <= width) & (labels != labels[row, column]))
    target = three_class(labels, width)
    assert np.array_equal(target == BOUNDARY, expected)
    assert np.array_equal(target == INTERIOR, (labels > 0) & ~expected)
    if width == 1:  # the usual definition, a 4-neighbour outside
        assert np.array_equal(expected, find_boundaries(labels, mode="inner") & (labels > 0))


@settings(max_examples=60, deadline=None)
@given(
    labels=arrays(
        np.int32, st.tuples(st.integers(1, 9), st.integers(1, 9)), elements=st.integers(0, 3)
    )
)
def test_contacts_are_the_cell_pixels_next_to_another_cell(labels):
    padded = np.pad(labels, 1)
    expected = [
        (row, column)
        for row, column in zip(*np.nonzero(labels), strict=True)
        if any(
            padded[row + 1 + down, column + 1 + across] not in (0, labels[row, column])
            for down, across in ((-1, 0), (1, 0), (0, -1), (0, 1))
        )
    ]
    assert [tuple(place) for place in contacts(labels)] == expected


def test_two_touching_cells_meet_along_one_seam():
    assert contacts(TWO_TOUCHING_CELLS).tolist() == [[r, c] for r in (1, 2, 3) for c in (3, 4)]
    assert contacts(np.where(TWO_TOUCHING_CELLS == 2, 0, TWO_TOUCHING_CELLS)).size == 0


def test_a_boundary_narrower_than_a_pixel_is_refused():
    with pytest.raises(ValueError, match="at least 1 pixel"):
        three_class(TWO_TOUCHING_CELLS, width=0)


def test_centre_offsets_jump_where_touching_cells_meet():
    offsets = centre_offsets(TWO_TOUCHING_CELLS)
    assert offsets.shape == TWO_TOUCHING_CELLS.shape + (2,) and offsets.dtype == np.float32
    assert offsets[2, :, 0].tolist() == [0, -1, 0, 1, -1, 0, 1, 0]  # horizontal, row 2
    assert offsets[:, 2, 1].tolist() == [0, -1, 0, 1, 0]  # vertical, column 2


@settings(max_examples=60, deadline=None)
@given(
    labels=arrays(
        np.int32, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 3)
    )
)
def test_centre_offsets_are_centred_span_minus_one_to_one_and_mirror(labels):
    offsets = centre_offsets(labels)
    assert np.all(offsets[labels == 0] == 0)
    assert np.all(np.abs(offsets) <= 1)
    positions = np.indices(labels.shape)[::-1]  # columns (horizontal), then rows
    for cell in np.unique(labels[labels > 0]):
        inside = labels == cell
        for channel in (0, 1):
            values = offsets[..., channel][inside]
            assert abs(values.mean()) < 1e-5
            spread = np.ptp(positions[channel][inside]) > 0
            assert np.isclose(np.abs(values).max(), 1.0 if spread else 0.0)
            # Offsets grow with the position: the same order, ties included.
            order = np.argsort(positions[channel][inside], kind="stable")
            assert np.all(np.diff(values[order]) >= -1e-6)
    # Mirrored cells have mirrored offsets, the mirrored axis's with their sign turned.
    mirrored = centre_offsets(labels[:, ::-1])
    assert np.allclose(mirrored[..., 0], -offsets[:, ::-1, 0], atol=1e-6)
    assert np.allclose(mirrored[..., 1], offsets[:, ::-1, 1], atol=1e-6)
