"""Cells' outlines as GeoJSON polygons (`cell_polygons`), for any shape a network may give:
rings a strict reader takes (RFC 7946), around the cell's own pixels, simplified to within
half a pixel of its border."""

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage as ndi

from cellseg.postprocessing.geojson import TOLERANCE, cell_polygons

#: Label images of a few cells of any shape: in pieces, with holes, on the image's edges.
LABELS = arrays(
    np.int32, st.tuples(st.integers(1, 20), st.integers(1, 20)), elements=st.integers(0, 3)
)
#: One large ragged cell (long borders, thin arms, holes): what simplification works on.
RAGGED = arrays(
    np.int32, st.tuples(st.integers(8, 36), st.integers(8, 36)), elements=st.integers(0, 1)
)
#: 8-connected: the background of a cell's outline reaches across pixel corners.
CORNERS = np.ones((3, 3), bool)


@settings(max_examples=300, deadline=None)
@given(LABELS)
def test_every_cell_has_a_closed_valid_counterclockwise_ring(labels):
    """RFC 7946: a polygon's ring is closed, of 4 positions or more, and runs
    counterclockwise around the area it bounds (the right-hand rule); shapely finds it
    valid. Simplified or not."""
    for tolerance in (0, TOLERANCE):
        rings = cell_polygons(labels, tolerance=tolerance)
        assert set(rings) == set(np.unique(labels[labels > 0]).tolist())
        for ring in rings.values():
            assert len(ring) >= 4 and np.array_equal(ring[0], ring[-1])
            linear = shapely.linearrings(ring)
            assert shapely.is_ccw(linear)
            assert shapely.is_valid(shapely.polygons(linear))


@settings(max_examples=300, deadline=None)
@given(LABELS)
def test_an_unsimplified_ring_holds_the_centres_of_one_piece_of_its_cell_and_no_other(labels):
    """Its border pixels in, the pixels beyond out: the ring encloses the centres of the
    pixels of one 4-connected piece of the cell, its holes filled, and nothing else."""
    rows, columns = np.indices(labels.shape)
    for cell, ring in cell_polygons(labels, tolerance=0).items():
        inside = shapely.contains_xy(shapely.polygons(ring), columns + 0.5, rows + 0.5)
        pieces, count = ndi.label(labels == cell)
        filled = [ndi.binary_fill_holes(pieces == piece, CORNERS) for piece in range(1, count + 1)]
        assert any(np.array_equal(inside, piece) for piece in filled)


@settings(max_examples=150, deadline=None)
@given(RAGGED)
def test_a_simplified_ring_stays_within_half_a_pixel_of_the_cells_border(labels):
    """Every point of the cell's exact outline is within `TOLERANCE` of the simplified ring,
    which keeps no more points than the outline."""
    exact = cell_polygons(labels, tolerance=0)
    for cell, ring in cell_polygons(labels).items():
        outline = shapely.segmentize(shapely.linestrings(exact[cell]), 0.1)
        points = shapely.points(shapely.get_coordinates(outline))
        assert shapely.distance(points, shapely.linestrings(ring)).max() <= TOLERANCE + 1e-9
        assert len(ring) <= len(exact[cell])
