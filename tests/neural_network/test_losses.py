"""Losses and the training metric: values computed by hand, serialisation round trips."""

import keras
import numpy as np
import pytest

from cellseg.neural_network.losses import (
    CellDice,
    DistanceLoss,
    HoverLoss,
    WeightedBinaryCrossEntropyDice,
    WeightedCrossEntropyDice,
    default_loss,
    separation,
)
from cellseg.preprocessing.targets import centre_offsets, three_class

# One image of two pixels: background predicted 0.7, boundary predicted 0.6.
CLASSES_TRUE = np.array([[[[1, 0, 0], [0, 0, 1]]]], np.float32)
CLASSES_PREDICTED = np.array([[[[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]]], np.float32)


def test_weighted_cross_entropy_by_hand():
    loss = WeightedCrossEntropyDice(class_weights=(1, 2, 4), dice_weight=0)
    # (-ln 0.7 * 1 - ln 0.6 * 4) / 2 pixels, divided by the mean weight 7 / 3.
    expected = (0.356675 + 4 * 0.510826) / 2 / (7 / 3)
    assert float(loss(CLASSES_TRUE, CLASSES_PREDICTED)) == pytest.approx(expected, rel=1e-5)


def test_dice_term_by_hand():
    loss = WeightedCrossEntropyDice(class_weights=(1, 1, 1), dice_weight=1)
    cross_entropy = (0.356675 + 0.510826) / 2
    # Per class (2 * intersection + 1) / (total + 1): (2.4 / 2.8, 1 / 1.5, 2.2 / 2.7).
    dice = (2.4 / 2.8 + 1 / 1.5 + 2.2 / 2.7) / 3
    expected = cross_entropy + (1 - dice)
    assert float(loss(CLASSES_TRUE, CLASSES_PREDICTED)) == pytest.approx(expected, rel=1e-5)


def test_painting_everything_background_is_not_rewarded():
    # The failure of the users' earlier tool: 94% background, all predicted background.
    truth = np.zeros((1, 10, 10, 3), np.float32)
    truth[..., 0] = 1
    truth[0, :3, :2] = (0, 1, 0)
    all_background = np.zeros_like(truth)
    all_background[..., 0] = 0.999
    all_background[..., 1:] = 0.0005
    perfect = np.clip(truth, 0.0005, 0.999)
    loss = default_loss("3class", class_frequencies=[0.94, 0.06, 0.0001])
    assert float(loss(truth, all_background)) > 3 * float(loss(truth, perfect))


def test_binary_and_distance_losses_by_hand():
    truth = np.array([[[[1.0], [0.0]]]], np.float32)
    predicted = np.array([[[[0.8], [0.4]]]], np.float32)
    binary = WeightedBinaryCrossEntropyDice(positive_weight=3, dice_weight=0)
    assert float(binary(truth, predicted)) == pytest.approx((3 * 0.223144 + 0.510826) / 2, 1e-5)
    distance = DistanceLoss(positive_weight=2, dice_weight=0)
    assert float(distance(truth, predicted)) == pytest.approx((2 * 0.04 + 0.16) / 2, 1e-5)


@pytest.mark.parametrize(
    "loss",
    [
        WeightedCrossEntropyDice(class_weights=(1, 3, 9), dice_weight=0.5, separation_weight=5),
        WeightedBinaryCrossEntropyDice(positive_weight=4),
        DistanceLoss(positive_weight=2),
        HoverLoss(class_weights=(1, 3, 9), offset_weight=0.5, gradient_weight=3),
    ],
    ids=lambda loss: type(loss).__name__,
)
def test_losses_survive_serialisation(loss):
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()


def test_cell_dice_counts_cell_pixels_over_batches():
    metric = CellDice(target="3class")
    metric.update_state(CLASSES_TRUE, CLASSES_PREDICTED)  # truth: pixel 2; predicted: pixel 2
    assert float(metric.result()) == pytest.approx(1.0)
    missed = np.array([[[[0.9, 0.05, 0.05], [0.9, 0.05, 0.05]]]], np.float32)
    metric.update_state(CLASSES_TRUE, missed)  # one more true cell pixel, none predicted
    assert float(metric.result()) == pytest.approx(2 * 1 / (2 + 1))
    metric.reset_state()
    assert float(metric.result()) == 0


def test_default_loss_weights_follow_the_class_frequencies():
    loss = default_loss("3class", [0.8, 0.15, 0.05])
    assert loss.class_weights == pytest.approx([1.0, 0.8 / 0.15, 16.0])
    assert default_loss("mask", [0.99, 0.01]).positive_weight == pytest.approx(50.0)  # capped


def test_class_balance_softens_the_weights_of_rare_classes():
    frequencies = [0.8, 0.15, 0.05]
    root = default_loss("3class", frequencies, class_balance=0.5).class_weights
    assert root == pytest.approx([1.0, (0.8 / 0.15) ** 0.5, 4.0])
    assert default_loss("3class", frequencies, class_balance=0.0).class_weights == [1.0] * 3


@pytest.mark.parametrize(
    ("target", "frequencies", "channels"),
    [
        ("3class", [0.8, 0.15, 0.05], 3),
        ("hover", [0.8, 0.15, 0.05], 5),
        ("mask", [0.9, 0.1], 1),
        ("distance", [0.9, 0.1], 1),
    ],
)
def test_dice_weight_scales_the_dice_term_of_every_default_loss(target, frequencies, channels):
    rng = np.random.default_rng(0)
    truth = (rng.random((2, 8, 8, channels)) > 0.5).astype(np.float32)
    predicted = rng.uniform(0.05, 0.95, (2, 8, 8, channels)).astype(np.float32)

    def value(weight):
        loss = default_loss(target, frequencies, dice_weight=weight)
        return float(loss(truth, predicted))

    dice_term = value(1) - value(0)
    assert dice_term > 0.01  # the Dice term is there, and 0 removes it
    assert value(3) - value(0) == pytest.approx(3 * dice_term, rel=1e-4)


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(3, dtype=np.float32)[three_class(labels)][None]


def test_separation_marks_narrow_gaps_and_touching_boundaries_only():
    labels = np.zeros((14, 30), int)
    labels[3:10, 1:6] = 1  # cell 1, then a gap of 2 pixels (columns 6 and 7)
    labels[3:10, 8:12] = 2  # cell 2, touching cell 3 at columns 11 | 12
    labels[3:10, 12:16] = 3  # cell 3, then a gap of 8 pixels
    labels[3:10, 24:29] = 4  # cell 4, 1 pixel from the tile's right edge
    marked = np.asarray(separation(_one_hot(labels)))[0] > 0.5
    assert marked[4:9, 6:8].all()  # the narrow gap
    assert marked[4:9, 11:13].all()  # both sides of the touching boundary
    assert not marked[:, 17:23].any()  # the wide gap
    assert not marked[:, 29].any()  # between a cell and the tile's edge: no second cell
    assert not marked[:2].any() and not marked[11:].any()  # open background
    assert not marked[labels == 1].any()  # a cell's own outer boundary and interior


def test_separation_weight_makes_merging_cells_cost_more():
    labels = np.zeros((12, 16), int)
    labels[2:10, 1:7] = 1
    labels[2:10, 9:15] = 2  # two cells, 2 pixels apart
    truth = _one_hot(labels)
    right = np.clip(truth, 0.01, 0.98)
    merged = right.copy()
    merged[0, 2:10, 7:9] = (0.1, 0.8, 0.1)  # the gap painted as cell interior
    plain = WeightedCrossEntropyDice(separation_weight=0, dice_weight=0)
    weighted = WeightedCrossEntropyDice(separation_weight=10, dice_weight=0)
    # Where nothing is wrong the weight hardly matters; merging costs several times more.
    extra_plain = float(plain(truth, merged)) - float(plain(truth, right))
    extra_weighted = float(weighted(truth, merged)) - float(weighted(truth, right))
    assert extra_weighted > 5 * extra_plain > 0
    assert default_loss("3class", [0.8, 0.15, 0.05], separation_weight=7).separation_weight == 7


def test_hover_loss_adds_offset_and_offset_gradient_errors_to_the_classes_loss():
    labels = np.zeros((1, 12, 16), int)
    labels[0, 2:10, 1:8], labels[0, 2:10, 8:15] = 1, 2  # two touching cells
    classes = _one_hot(labels[0])
    truth = np.concatenate([classes, centre_offsets(labels[0])[None]], axis=-1)
    loss = HoverLoss(class_weights=(1, 2, 4), offset_weight=1, gradient_weight=2)
    classes_alone = float(WeightedCrossEntropyDice(class_weights=(1, 2, 4))(classes, classes))
    assert float(loss(truth, truth)) == pytest.approx(classes_alone, rel=1e-5)
    # Offsets off by a constant: their gradients are right, only the squared error counts.
    shifted = truth.copy()
    shifted[..., 3:] += 0.1
    assert float(loss(truth, shifted)) == pytest.approx(classes_alone + 0.01, rel=1e-4)
    # Offsets blurred across the cut between the cells: the gradient term counts too.
    blurred = truth.copy()
    blurred[0, :, 7:9, 3] = 0.0
    squared = float(np.mean(np.square(blurred - truth)[..., 3:]))
    assert float(loss(truth, blurred)) > classes_alone + squared + 0.01
    assert float(HoverLoss(gradient_weight=0)(truth, blurred)) == pytest.approx(
        float(WeightedCrossEntropyDice()(classes, classes)) + squared, rel=1e-4
    )
