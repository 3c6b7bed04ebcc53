"""The count's interval: the count, give or take the cells' doubt and the model's spread."""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from cellseg.postprocessing.confidence import Calibration, count_interval, count_spread

confidences = st.lists(st.floats(0, 1), max_size=300)
spreads = st.floats(0, 1)


@given(confidences, spreads, spreads)
def test_the_interval_holds_the_count_and_widens_with_the_spread(confidence, one, other):
    narrow, wide = sorted((one, other))
    count = len(confidence)
    expected, low, high = count_interval(np.array(confidence), narrow)
    assert 0 <= low <= count <= high
    assert expected == round(float(np.sum(confidence)), 2)  # real nuclei among the cells
    _, wider_low, wider_high = count_interval(np.array(confidence), wide)
    assert wider_low <= low and high <= wider_high


@given(st.integers(50, 5000), st.floats(0.01, 0.5))
def test_sure_cells_leave_the_spread_alone_to_set_the_width(count, spread):
    _, low, high = count_interval(np.ones(count), spread)
    half = 1.959963984540054 * spread * count
    assert abs(low - (count - half)) <= 1 or low == 0
    assert abs(high - (count + half)) <= 1


def test_an_interval_of_the_validation_spread_holds_counts_that_stray_as_much():
    """Images whose counts stray from the truth as the validation images' did: the 95%
    interval holds the truth on about 95% of them."""
    rng = np.random.default_rng(0)
    drawn = rng.integers(200, 2000, size=400)
    found = np.round(drawn * (1 + rng.normal(0, 0.1, size=drawn.size))).astype(int)
    spread = count_spread(found[:100], drawn[:100])  # measured on a hundred of them

    def share_held(spread):
        pairs = zip(drawn[100:], found[100:], strict=True)
        intervals = [(truth, count_interval(np.full(count, 0.9), spread)) for truth, count in pairs]
        return np.mean([low <= truth <= high for truth, (_, low, high) in intervals])

    assert 0.9 <= share_held(spread) <= 0.99
    assert share_held(0.0) < 0.5  # the cells' doubt alone: far too narrow


@given(
    st.lists(st.tuples(st.floats(0.001, 0.999), st.booleans()), min_size=2, max_size=80),
    st.floats(0.2, 3.0),
    st.floats(-6.0, 6.0),
)
@example([(0.25, False), (0.25, True)], 1.5, -1.0)  # damped Newton steps went back and forth
def test_refitting_the_intercept_keeps_the_slope_and_sums_to_the_real_cells(cells, slope, shift):
    """With few false cells, a fine-tuned model's calibration keeps its parent's slope and
    moves its intercept until its confidences sum to the real cells (the likelihood's
    equation for the intercept): a parent 4x too unsure had `expected` 8 for 27 real."""
    scores = np.array([score for score, _ in cells])
    real = np.array([flag for _, flag in cells])
    refitted = Calibration(slope, shift).refit_intercept(scores, real)
    assert refitted.slope == slope
    if real.all() or not real.any():
        assert refitted == Calibration(slope, shift)
    else:
        assert abs(refitted.confidence(scores).sum() - real.sum()) < 1e-6
