"""Outlines: finding the drawn pixels, and turning outlines into separated cells."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from cellseg.metrics import aggregated_jaccard_index, count_objects, match
from cellseg.postprocessing.drawing import outline_layer
from cellseg.preprocessing.outlines import outline_mask, outlines_to_labels
from cellseg.preprocessing.synthetic import knock_out_pixels, synthetic_tissue

RED, WHITE, CLEAR = (255, 0, 0, 255), (255, 255, 255, 255), (0, 0, 0, 0)


def layer_of(*pixels):
    return np.array([pixels], dtype=np.uint8)


def test_red_opaque_pixels_are_outline():
    layer = layer_of(RED, (255, 0, 0, 0), WHITE, CLEAR, (200, 40, 30, 200), (255, 0, 0, 100))
    assert outline_mask(layer).tolist() == [[True, False, False, False, True, False]]


def test_thresholds_and_channel_are_options():
    layer = layer_of(RED, (0, 255, 0, 255), (255, 0, 0, 100))
    assert outline_mask(layer, channel="green").tolist() == [[False, True, False]]
    assert outline_mask(layer, alpha_threshold=50).tolist() == [[True, False, True]]
    faint = layer_of((120, 0, 0, 255))
    assert not outline_mask(faint).any()
    assert outline_mask(faint, threshold=100).all()


def test_sixteen_bit_and_rgb_layers():
    rgb16 = np.array([[[65535, 0, 0], [65535, 65535, 65535]]], dtype=np.uint16)
    assert outline_mask(rgb16).tolist() == [[True, False]]


def test_gray_layer_is_refused():
    with pytest.raises(ValueError, match="RGB or RGBA"):
        outline_mask(np.zeros((4, 4), np.uint8))


def draw(labels):
    """The users' annotation of ``labels``: the outline pixels of every cell."""
    return outline_mask(outline_layer(labels))


def assert_same_cells(expected, found):
    assert count_objects(found) == count_objects(expected)
    assert aggregated_jaccard_index(expected, found) == 1.0


def test_touching_cells_stay_apart_and_keep_their_outlines():
    labels = np.zeros((12, 20), int)
    labels[2:9, 2:9] = 1
    labels[2:9, 9:16] = 2  # shares a side with cell 1
    labels[9:12, 5:12] = 3  # cut by the bottom edge, touching both
    assert_same_cells(labels, outlines_to_labels(draw(labels)))


def test_background_pocket_between_cells_is_not_a_cell():
    labels = np.zeros((24, 20), int)
    labels[2:10, 2:18] = 1
    labels[10:22, 2:8] = 2
    labels[10:22, 12:18] = 3
    labels[16:22, 8:12] = 4  # closes a pocket of background at rows 10-15, columns 8-11
    found = outlines_to_labels(draw(labels))
    assert_same_cells(labels, found)
    assert found[12, 9] == 0


@st.composite
def cell_layouts(draw_):
    """Rectangles of at least 5 x 5 on a grid, some touching, some apart, some at edges.

    One cell at least lies apart, inside background: a picture cut in two by one straight
    outline is ambiguous (either side could be the cell), one that is a single cell edge to
    edge has no outline at all. For the same reason every stretch of background reaches a
    cell lying apart: an empty corner closed off by touching cells and the image's edges
    looks exactly like a cell cut by those edges.
    """
    widths = draw_(st.lists(st.integers(5, 14), min_size=1, max_size=5))
    heights = draw_(st.lists(st.integers(5, 14), min_size=1, max_size=5))
    kinds = draw_(
        st.lists(
            st.sampled_from(["full", "inset", "empty"]),
            min_size=len(widths) * len(heights),
            max_size=len(widths) * len(heights),
        ).filter(lambda kinds: "inset" in kinds)
    )
    labels = np.zeros((sum(heights), sum(widths)), int)
    cell = 0
    apart = []
    top = 0
    for height in heights:
        left = 0
        for width in widths:
            kind = kinds.pop()
            if kind != "empty":
                inset = 0 if kind == "full" else 1
                cell += 1
                if inset:
                    apart.append(cell)
                labels[top + inset : top + height - inset, left + inset : left + width - inset] = (
                    cell
                )
            left += width
        top += height
    background, count = ndi.label(labels == 0)
    beside_apart = ndi.binary_dilation(np.isin(labels, apart)) & (background > 0)
    assume(set(np.unique(background[beside_apart])) == set(range(1, count + 1)))
    return labels


@given(cell_layouts())
@settings(max_examples=150, deadline=None)
def test_any_layout_of_cells_is_recovered_exactly(labels):
    assert_same_cells(labels, outlines_to_labels(draw(labels)))


def test_no_outline_means_no_cells():
    assert not outlines_to_labels(np.zeros((30, 40), bool)).any()


def square_outline(gaps):
    outline = np.zeros((20, 20), bool)
    outline[4:16, 4:16] = True
    outline[5:15, 5:15] = False
    for row, column in gaps:
        outline[row, column] = False
    return outline


@pytest.mark.parametrize(
    "gaps",
    [[], [(4, 9)], [(4, 9), (4, 10)], [(15, 6), (9, 4), (10, 15)], [(4, 4)]],
    ids=["closed", "one pixel", "two pixels", "three gaps", "corner"],
)
def test_gaps_of_one_or_two_pixels_are_closed(gaps):
    found = outlines_to_labels(square_outline(gaps))
    expected = np.zeros((20, 20), int)
    expected[4:16, 4:16] = 1
    assert count_objects(found) == 1
    # A missing pixel itself may fall on either side; every other pixel is exact.
    known = np.ones(found.shape, bool)
    for row, column in gaps:
        known[row, column] = False
    assert np.array_equal(found[known], expected[known])


def test_synthetic_tissue_with_gaps_in_its_outlines():
    _, labels = synthetic_tissue((256, 256), seed=3)
    found = outlines_to_labels(knock_out_pixels(draw(labels), 0.025))
    assert aggregated_jaccard_index(labels, found) > 0.9
    assert match(labels, found).f1 > 0.9


def test_thick_hand_drawn_outlines_are_read_along_their_centre():
    labels = np.zeros((60, 90), int)
    for cell, (row, column) in enumerate([(10, 10), (10, 40), (35, 25), (35, 62)], start=1):
        labels[row : row + 18, column : column + 20] = cell
    thick = ndi.binary_dilation(draw(labels), np.ones((3, 3), bool))
    found = outlines_to_labels(thick)
    assert count_objects(found) == 4
    assert aggregated_jaccard_index(labels, found) > 0.85


def test_result_is_numbered_one_to_n():
    _, labels = synthetic_tissue((128, 128), seed=5)
    found = outlines_to_labels(draw(labels))
    assert found.dtype == np.int32
    assert np.array_equal(np.unique(found), np.arange(found.max() + 1))
