"""An image's row of counts.csv from its cells (`image_counts`)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellseg.postprocessing.confidence import count_interval
from cellseg.postprocessing.counts import image_counts

cells = st.lists(
    st.tuples(
        st.floats(1, 5000, allow_nan=False),
        st.floats(0, 1, allow_nan=False),
        st.booleans(),
    ),
    max_size=60,
)


@given(cells, st.one_of(st.none(), st.floats(0, 0.5)), st.one_of(st.none(), st.floats(0.1, 2)))
def test_the_count_lies_in_its_interval_and_the_shares_are_of_it(found, spread, pixel_size):
    areas = [area for area, _, _ in found]
    confidences = [confidence for _, confidence, _ in found]
    positives = [flag for _, _, flag in found]
    counts = image_counts(areas, confidences, positives, count_spread=spread, pixel_size=pixel_size)
    assert counts["count"] == len(found)
    assert counts["count_low"] <= counts["count"] <= counts["count_high"]
    assert 0 <= counts["expected"] <= counts["count"] + 0.005  # rounded to 2 decimals
    assert (counts["expected"], counts["count_low"], counts["count_high"]) == count_interval(
        np.array(confidences), spread
    )
    assert counts["positive"] == sum(positives)
    assert 0 <= counts["positive_percent"] <= 100
    if found:
        assert min(areas) - 0.01 <= counts["mean_area"] <= max(areas) + 0.01
        if pixel_size:
            assert counts["mean_area_um2"] == pytest.approx(
                np.mean(areas) * pixel_size**2, abs=1e-3
            )
    else:
        assert counts["mean_area"] is None and "mean_area_um2" not in counts


def test_without_confidences_or_positivity_only_the_count_and_size():
    assert image_counts([10.0, 20.0]) == {"count": 2, "mean_area": 15.0}


def test_a_flag_or_confidence_per_cell_or_an_error():
    with pytest.raises(ValueError, match="3 confidences for 2 cells"):
        image_counts([10.0, 20.0], [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="1 positivity flags for 2 cells"):
        image_counts([10.0, 20.0], positives=[True])
