"""How a slide is cut into regions: each pixel owned once, read with its halo, at any
scale, and only the regions that hold tissue kept."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import cellseg.neural_network.whole_slide as whole_slide


def tissue_box(tissue: np.ndarray, window) -> tuple | None:
    """The bounding box (top, left, bottom, right) of the tissue pixels in a window."""
    top, left, bottom, right = window
    rows, columns = np.nonzero(tissue[top:bottom, left:right])
    if not rows.size:
        return None
    return top + rows.min(), left + columns.min(), top + rows.max() + 1, left + columns.max() + 1


@settings(max_examples=80, deadline=None)
@given(
    mask=st.lists(st.lists(st.booleans(), min_size=6, max_size=6), min_size=5, max_size=5),
    mask_pixel=st.tuples(st.integers(1, 600), st.integers(1, 500)),
    scale=st.sampled_from([0.5, 1.0, 2.0, 4.0]) | st.floats(0.2, 8.0),
)
def test_regions_own_every_pixel_once_and_read_it_with_its_halo(mask, mask_pixel, scale):
    """At any scale, the regions own each pixel of the slide once, and each is read with
    its halo, cut at the slide's edges: at least `HALO` and about `REGION` of the network's
    pixels. With a tissue mask (here of 5 x 6 pixels, each a block of the slide), only the
    regions that hold tissue are kept, each read over the tissue its window holds."""
    mask = np.array(mask)
    tissue = np.repeat(np.repeat(mask, mask_pixel[0], axis=0), mask_pixel[1], axis=1)
    rows, columns = tissue.shape
    side, halo = whole_slide.region_sides(scale)
    assert halo * scale >= whole_slide.HALO and abs(side * scale - whole_slide.REGION) <= scale
    regions = whole_slide.slide_regions((rows, columns), scale=scale)
    assert len(regions) == whole_slide.region_count((rows, columns), scale)
    owned = np.zeros((rows, columns), np.uint8)
    for region in regions:
        owned[region.top : region.bottom, region.left : region.right] += 1
        assert region.bottom - region.top <= side and region.right - region.left <= side
        assert region.window == (
            max(region.top - halo, 0),
            max(region.left - halo, 0),
            min(region.bottom + halo, rows),
            min(region.right + halo, columns),
        )
    assert (owned == 1).all()
    kept = {
        region.index: region.window
        for region in whole_slide.slide_regions(
            (rows, columns), whole_slide.Tissue(mask, (rows, columns)), scale
        )
    }
    for region in regions:
        own = (region.top, region.left, region.bottom, region.right)
        assert (region.index in kept) == (tissue_box(tissue, own) is not None)
        if region.index in kept:
            assert kept[region.index] == tissue_box(tissue, region.window)
