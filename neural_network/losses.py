"""Losses and a training metric built for imbalanced cell images, saved with the model.

Cells and especially their boundaries are a few percent of the pixels: a plain pixel loss
is minimised by predicting background everywhere (the users' earlier tool did exactly
that and reported 94% accuracy). Each loss here combines a class-weighted cross-entropy,
weights set from the training data's class frequencies, with a soft Dice term that counts
every class, however rare, equally.

``y_true`` always has the shape of ``y_pred``: one-hot classes for ``3class``, 0/1 for
``mask``, the normalised distance for ``distance``, the classes then the two centre
offsets for ``hover``. Users' own loss files receive the same.
"""

import keras
from keras import ops

from cellseg.neural_network.targets import get_target

_EPSILON = 1e-6


@keras.saving.register_keras_serializable(package="cellseg")
class WeightedCrossEntropyDice(keras.losses.Loss):
    """Class-weighted categorical cross-entropy plus the mean soft Dice loss of the classes.

    Parameters
    ----------
    class_weights : sequence of float
        One weight per class, e.g. inversely proportional to its frequency.
    dice_weight : float
        Weight of the Dice term against the cross-entropy.
    separation_weight : float
        Added to the weight of the pixels that keep neighbouring cells apart (`separation`):
        the narrow background gaps between cells and the boundaries where cells touch, so
        that painting over a two-pixel gap costs more. As in the U-Net paper (Ronneberger
        et al. 2015), whose weight map adds 10 there. (What it did for the default model:
        ``trained_models/default/EXPERIMENTS.md``.)
    """

    def __init__(
        self,
        class_weights=(1.0, 1.0, 1.0),
        dice_weight=1.0,
        separation_weight=0.0,
        name="weighted_ce_dice",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.class_weights = [float(weight) for weight in class_weights]
        self.dice_weight = float(dice_weight)
        self.separation_weight = float(separation_weight)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        y_pred = ops.clip(y_pred, _EPSILON, 1 - _EPSILON)
        weights = ops.convert_to_tensor(self.class_weights, dtype=y_pred.dtype)
        pixel_weights = ops.sum(y_true * weights, axis=-1)
        if self.separation_weight:
            pixel_weights = pixel_weights + self.separation_weight * separation(y_true)
        cross_entropy = -ops.sum(y_true * ops.log(y_pred), axis=-1) * pixel_weights
        cross_entropy = ops.mean(cross_entropy, axis=(1, 2)) / ops.mean(weights)
        return cross_entropy + self.dice_weight * _soft_dice_loss(y_true, y_pred)

    def get_config(self):
        return {
            **super().get_config(),
            "class_weights": self.class_weights,
            "dice_weight": self.dice_weight,
            "separation_weight": self.separation_weight,
        }


@keras.saving.register_keras_serializable(package="cellseg")
class WeightedBinaryCrossEntropyDice(keras.losses.Loss):
    """Binary cross-entropy with cell pixels weighted by ``positive_weight``, plus soft Dice."""

    def __init__(self, positive_weight=1.0, dice_weight=1.0, name="weighted_bce_dice", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positive_weight = float(positive_weight)
        self.dice_weight = float(dice_weight)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        y_pred = ops.clip(y_pred, _EPSILON, 1 - _EPSILON)
        cross_entropy = -(
            self.positive_weight * y_true * ops.log(y_pred) + (1 - y_true) * ops.log(1 - y_pred)
        )
        cross_entropy = ops.mean(cross_entropy, axis=(1, 2, 3))
        return cross_entropy + self.dice_weight * _soft_dice_loss(y_true, y_pred)

    def get_config(self):
        return {
            **super().get_config(),
            "positive_weight": self.positive_weight,
            "dice_weight": self.dice_weight,
        }


@keras.saving.register_keras_serializable(package="cellseg")
class DistanceLoss(keras.losses.Loss):
    """Mean squared error of the distance map, cell pixels weighted by ``positive_weight``,
    plus the soft Dice loss of the cells (distance above zero)."""

    def __init__(self, positive_weight=1.0, dice_weight=0.5, name="distance_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positive_weight = float(positive_weight)
        self.dice_weight = float(dice_weight)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        inside = ops.cast(y_true > 0, y_pred.dtype)
        weights = 1 + (self.positive_weight - 1) * inside
        squared = ops.mean(weights * ops.square(y_true - y_pred), axis=(1, 2, 3))
        return squared + self.dice_weight * _soft_dice_loss(inside, y_pred)

    def get_config(self):
        return {
            **super().get_config(),
            "positive_weight": self.positive_weight,
            "dice_weight": self.dice_weight,
        }


@keras.saving.register_keras_serializable(package="cellseg")
class HoverLoss(WeightedCrossEntropyDice):
    """The ``hover`` target's loss: `WeightedCrossEntropyDice` of the three classes (with
    its parameters), plus the mean squared error of the centre offsets times
    ``offset_weight`` and ``gradient_weight`` times that of their gradients inside the
    cells, as HoVer-Net's (Graham et al. 2019).

    The gradient term is what teaches the sharp jump of the offsets where two cells touch,
    which prediction cuts along; the squared error alone would let it blur.
    """

    def __init__(self, offset_weight=1.0, gradient_weight=2.0, name="hover_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.offset_weight = float(offset_weight)
        self.gradient_weight = float(gradient_weight)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        classes = super().call(y_true[..., :3], y_pred[..., :3])
        true_offsets, offsets = y_true[..., 3:], y_pred[..., 3:]
        squared = ops.mean(ops.square(true_offsets - offsets), axis=(1, 2, 3))
        cells = 1 - y_true[..., 0]
        gradients = _offset_gradient_error(true_offsets, offsets, cells)
        return classes + self.offset_weight * squared + self.gradient_weight * gradients

    def get_config(self):
        return {
            **super().get_config(),
            "offset_weight": self.offset_weight,
            "gradient_weight": self.gradient_weight,
        }


def _offset_gradient_error(true_offsets, offsets, cells):
    """Mean squared error of the horizontal offsets' differences along the rows and of the
    vertical offsets' along the columns, over pairs of neighbouring cell pixels, per image."""
    error = true_offsets - offsets  # the differences of the error are those of the errors
    across = error[:, :, 1:, 0] - error[:, :, :-1, 0]
    down = error[:, 1:, :, 1] - error[:, :-1, :, 1]
    pairs_across = cells[:, :, 1:] * cells[:, :, :-1]
    pairs_down = cells[:, 1:] * cells[:, :-1]

    def mean_square(differences, pairs):
        return ops.sum(ops.square(differences) * pairs, axis=(1, 2)) / (
            ops.sum(pairs, axis=(1, 2)) + 1.0
        )

    return mean_square(across, pairs_across) + mean_square(down, pairs_down)


@keras.saving.register_keras_serializable(package="cellseg")
class CellDice(keras.metrics.Metric):
    """Dice coefficient of the cell pixels over all batches: a metric that a network
    painting everything background scores 0 on, unlike accuracy.

    A pixel is a cell where ``y_true`` marks one (any non-background class, or a value above
    0) and where the prediction's cell probability exceeds 0.5.
    """

    def __init__(self, target="3class", name="cell_dice", **kwargs):
        super().__init__(name=name, **kwargs)
        self.target = target
        self.intersection = self.add_variable(shape=(), initializer="zeros", name="intersection")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        record = get_target(self.target)
        if record.classes:
            truth = 1 - y_true[..., 0]
            predicted = 1 - y_pred[..., 0]
        else:
            truth, predicted = y_true[..., 0], y_pred[..., 0]
        # A distance map is a cell wherever it is above 0, and ends near 0.1 at the edge.
        truth = ops.cast(truth > (0.0 if record.continuous else 0.5), "float32")
        predicted = ops.cast(predicted > (0.1 if record.continuous else 0.5), "float32")
        self.intersection.assign_add(ops.sum(truth * predicted))
        self.total.assign_add(ops.sum(truth) + ops.sum(predicted))

    def result(self):
        return 2 * self.intersection / ops.maximum(self.total, _EPSILON)

    def reset_state(self):
        self.intersection.assign(0.0)
        self.total.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "target": self.target}


def separation(y_true, gap: int = 5):
    """Pixels that keep cells apart, as 1.0 (others 0.0), from one-hot ``3class`` targets.

    They are the background pixels in gaps narrower than ``gap`` pixels between cells (those
    that a morphological closing of the cells with a ``gap`` x ``gap`` square fills), and
    the boundary pixels with no background around them (where two cells touch).

    Parameters
    ----------
    y_true : tensor, shape (batch, rows, columns, 3)
        Background, interior and boundary, one-hot.
    """
    background = y_true[..., :1]
    cells = 1 - background

    def dilate(mask, size):
        return ops.max_pool(mask, pool_size=size, strides=1, padding="same")

    # Closing, with the tile's surroundings taken as background (as scipy's border_value=0)
    # so that a cell near the edge does not close a gap against the edge.
    padded = ops.pad(cells, ((0, 0), (gap, gap), (gap, gap), (0, 0)))
    closed = (1 - dilate(1 - dilate(padded, gap), gap))[:, gap:-gap, gap:-gap]
    gaps = background * closed
    touching = y_true[..., 2:3] * (1 - dilate(background, 3))
    return ops.maximum(gaps, touching)[..., 0]


def default_loss(
    target: str,
    class_frequencies,
    *,
    separation_weight: float = 0.0,
    class_balance: float = 1.0,
    dice_weight: float = 1.0,
) -> keras.losses.Loss:
    """The class-balanced loss for ``target``, weighted from the training data.

    ``class_frequencies`` are the fractions of background, interior and boundary pixels
    (``3class``, ``hover``) or of background and cell pixels (``mask``, ``distance``).
    Each class is weighted by the inverse of its frequency to the power ``class_balance``
    (1: the inverse frequency, 0.5: its square root, 0: every class alike), normalised so
    background weighs 1 and capped at 50 so that a near-absent class cannot dominate.
    ``separation_weight`` (``3class`` and ``hover`` only) is added to the pixels between
    neighbouring cells (`separation`). ``dice_weight`` weighs the soft Dice term against
    the cross-entropy (the ``distance`` loss's against its squared error, half as much); 0
    leaves the cross-entropy alone.
    """
    frequencies = [max(float(value), 1e-4) for value in class_frequencies]
    weights = [min((frequencies[0] / value) ** class_balance, 50.0) for value in frequencies]
    return get_target(target).loss(
        weights, separation_weight=separation_weight, dice_weight=dice_weight
    )


def _soft_dice_loss(y_true, y_pred):
    """1 - mean over channels of the soft Dice coefficient, per image."""
    axes = (1, 2)
    intersection = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    dice = (2 * intersection + 1.0) / (total + 1.0)
    return 1 - ops.mean(dice, axis=-1)
