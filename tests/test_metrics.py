"""Metrics against values computed by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cellseg.metrics import (
    SCORE_NAMES,
    Errors,
    aggregated_jaccard_index,
    count_objects,
    dice,
    errors,
    image_scores,
    match,
    overlaps,
    pixel_iou,
    undefined_scores,
    without_undefined,
)

# Truth: cell 1 (4 px) and cell 2 (2 px). Prediction: cell 5 covers 3 px of cell 1 and one
# background pixel; cell 7 (2 px) covers only background.
TRUTH = np.array(
    [
        [1, 1, 0, 0, 0],
        [1, 1, 0, 0, 2],
        [0, 0, 0, 0, 2],
    ]
)
PREDICTION = np.array(
    [
        [5, 5, 0, 0, 0],
        [5, 0, 5, 0, 0],
        [0, 0, 7, 7, 0],
    ]
)


def test_overlap_table():
    table = overlaps(TRUTH, PREDICTION)
    assert table.intersection.tolist() == [[3, 0], [0, 0]]
    assert table.truth_areas.tolist() == [4, 2]
    assert table.predicted_areas.tolist() == [4, 2]
    assert table.iou[0, 0] == pytest.approx(3 / 5)


def test_pixel_scores():
    # 3 pixels shared, 6 truth, 6 predicted, 9 in either.
    assert dice(TRUTH, PREDICTION) == pytest.approx(6 / 12)
    assert pixel_iou(TRUTH, PREDICTION) == pytest.approx(3 / 9)


def test_aji_counts_missed_and_spurious_cells_in_the_union():
    # Cell 1 pairs with 5: 3 / 5. Cell 2 overlaps nothing: +2 to the union. Cell 7 is
    # never paired: +2. AJI = 3 / (5 + 2 + 2).
    assert aggregated_jaccard_index(TRUTH, PREDICTION) == pytest.approx(3 / 9)


def test_aji_counts_a_merged_prediction_once_per_cell():
    truth = np.array([[1, 1, 2, 2]])
    merged = np.array([[9, 9, 9, 9]])
    # Both cells pair with 9: intersections 2 + 2, unions 4 + 4.
    assert aggregated_jaccard_index(truth, merged) == pytest.approx(4 / 8)


def test_matching_at_iou_half():
    result = match(TRUTH, PREDICTION)
    assert (result.true_positives, result.false_positives, result.false_negatives) == (1, 1, 1)
    assert result.precision == pytest.approx(0.5)
    assert result.recall == pytest.approx(0.5)
    assert result.f1 == pytest.approx(2 / 4)
    # PQ: matched IoU 0.6 over TP + FP / 2 + FN / 2 = 2.
    assert result.panoptic_quality == pytest.approx(0.3)


def test_matching_is_one_to_one_below_half():
    truth = np.array([[1, 1, 1, 2, 2, 2]])
    prediction = np.array([[4, 4, 4, 4, 4, 0]])
    # IoU(1, 4) = 3 / 5, IoU(2, 4) = 2 / 6: at 0.3 only one of them may pair with 4.
    result = match(truth, prediction, iou_threshold=0.3)
    assert result.true_positives == 1
    assert result.matched_iou_sum == pytest.approx(3 / 5)


def test_identical_labels_score_one_whatever_their_ids():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 6, size=(20, 20))
    renamed = np.where(truth > 0, truth * 10 + 3, 0)
    assert aggregated_jaccard_index(truth, renamed) == 1.0
    assert match(truth, renamed).f1 == 1.0
    assert match(truth, renamed).panoptic_quality == 1.0


@pytest.mark.parametrize(
    ("truth", "prediction", "expected"),
    [
        (np.zeros((3, 3), int), np.zeros((3, 3), int), 1.0),
        (np.zeros((3, 3), int), np.ones((3, 3), int), 0.0),
        (np.ones((3, 3), int), np.zeros((3, 3), int), 0.0),
    ],
)
def test_empty_images(truth, prediction, expected):
    assert aggregated_jaccard_index(truth, prediction) == expected
    assert match(truth, prediction).f1 == expected
    assert dice(truth, prediction) == expected


def test_count_and_shape_check():
    assert count_objects(PREDICTION) == 2
    with pytest.raises(ValueError, match="differ in shape"):
        dice(TRUTH, PREDICTION[:, :4])


def test_errors_sort_the_unmatched_cells_by_what_went_wrong():
    truth = np.zeros((12, 40), int)
    found = np.zeros((12, 40), int)
    truth[1:6, 1:6], truth[1:6, 6:11] = 1, 2  # two touching cells...
    found[1:6, 1:11] = 10  # ...found as one
    truth[1:10, 14:23] = 3  # one large cell...
    found[1:10, 14:17], found[1:10, 17:20], found[1:10, 20:23] = 11, 12, 13  # ...in three
    truth[1:6, 26:31] = 4  # not found
    found[7:11, 26:30] = 14  # found where there is no cell
    truth[1:6, 33:38], found[1:6, 33:37] = 5, 15  # found, matched (IoU 0.8)
    assert errors(truth, found) == Errors(merged=2, split=3, missed=1, spurious=1)
    scores = image_scores(truth, found)
    assert [scores[kind] for kind in ("merged", "split", "missed", "spurious")] == [2, 3, 1, 1]


@st.composite
def label_pairs(draw):
    shape = (draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    labels = arrays(np.int32, shape, elements=st.integers(0, 5))
    return draw(labels), draw(labels)


@settings(max_examples=200, deadline=None)
@given(label_pairs())
def test_errors_are_unmatched_cells_and_swap_with_the_images(pair):
    truth, found = pair
    kinds, matching = errors(truth, found), match(truth, found)
    assert kinds.merged + kinds.missed <= matching.false_negatives
    assert kinds.split + kinds.spurious <= matching.false_positives
    swapped = errors(found, truth)
    assert (swapped.merged, swapped.split) == (kinds.split, kinds.merged)
    assert (swapped.missed, swapped.spurious) == (kinds.spurious, kinds.missed)
    assert errors(truth, truth) == Errors(0, 0, 0, 0)


@settings(max_examples=200, deadline=None)
@given(label_pairs())
def test_every_score_of_an_image_is_that_of_its_own_function(pair):
    """`image_scores` counts the shared pixels once for all its scores."""
    truth, prediction = pair
    scores = image_scores(truth, prediction)
    matching = match(truth, prediction)
    kinds = errors(truth, prediction)

    assert scores["aji"] == aggregated_jaccard_index(truth, prediction)
    assert (scores["f1"], scores["panoptic_quality"]) == (matching.f1, matching.panoptic_quality)
    assert scores["dice"] == dice(truth, prediction)
    assert scores["true_count"] == count_objects(truth)
    assert scores["predicted_count"] == count_objects(prediction)
    assert (scores["merged"], scores["split"], scores["missed"], scores["spurious"]) == (
        kinds.merged,
        kinds.split,
        kinds.missed,
        kinds.spurious,
    )


# An image without cells drawn where 2 are found, one where neither has any, one where 1 of
# 2 drawn cells is found exactly.
NO_TRUTH = (np.zeros((1, 4), int), np.array([[1, 0, 2, 0]]))
NOTHING = (np.zeros((1, 4), int), np.zeros((1, 4), int))
HALF_FOUND = (np.array([[1, 0, 2, 0]]), np.array([[1, 0, 0, 0]]))


@pytest.mark.parametrize(
    ("pair", "undefined"),
    [
        (NO_TRUTH, {"recall", "count_error"}),
        (NOTHING, {"aji", "f1", "panoptic_quality", "dice", "iou"} | {"precision", "recall"}
         | {"count_error"}),
        (NO_TRUTH[::-1], {"precision"}),
        (HALF_FOUND, set()),
    ],
)  # fmt: skip
def test_a_score_that_divides_by_0_is_undefined(pair, undefined):
    """Recall and the count error divide by the true count, precision by the predicted
    one, and the other ratios by both: each 0 / 0 is None, the counts never are."""
    scores = without_undefined(image_scores(*pair))
    assert {name for name, value in scores.items() if value is None} == undefined
    assert set(undefined_scores(scores["true_count"], scores["predicted_count"])) == undefined
    assert set(scores) == set(SCORE_NAMES)


def test_cells_found_where_none_are_drawn_score_0_not_a_count_error_of_2():
    scores = without_undefined(image_scores(*NO_TRUTH))
    assert (scores["aji"], scores["f1"], scores["precision"], scores["dice"]) == (0, 0, 0, 0)
    assert (scores["spurious"], scores["count_error"], scores["recall"]) == (2, None, None)


def test_half_found_scores_by_hand():
    scores = without_undefined(image_scores(*HALF_FOUND))
    assert (scores["precision"], scores["recall"], scores["count_error"]) == (1.0, 0.5, 0.5)
    assert scores["f1"] == pytest.approx(2 / 3) and scores["aji"] == 0.5


def test_means_leave_undefined_scores_out_and_say_of_how_many_images():
    """The mean recall of an image with 1 of 2 cells found and one without cells drawn is
    that of the first alone (not (0.5 + 1) / 2), and it is of 1 image."""
    from cellseg.neural_network.evaluation import mean_scores, scored_images

    rows = [without_undefined(image_scores(*pair)) for pair in (HALF_FOUND, NO_TRUTH)]
    means, images = mean_scores(rows), scored_images(rows)
    assert (means["recall"], means["count_error"]) == (0.5, 0.5)
    assert (images["recall"], images["count_error"], images["precision"]) == (1, 1, 2)
    assert means["precision"] == 0.5 and means["true_count"] == 1
    nothing = [without_undefined(image_scores(*NOTHING))]
    assert mean_scores(nothing)["aji"] is None and scored_images(nothing)["aji"] == 0
