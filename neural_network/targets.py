"""What a network can learn to output: one record per target, read by every layer.

A `Target` says how many channels the network outputs and with which activation, how the
training labels are encoded into it (`cellseg.preprocessing.targets`), how its output is
decoded into cells (`cellseg.postprocessing.instances`), the post-processing thresholds
tuned after training, and its default loss (`cellseg.neural_network.losses`). Training,
losses, architectures, the checks of users' files, prediction and the command line's
``--target`` choices all read `TARGETS`.

Adding a target is one record here, its loss in ``losses.py``, and its decoder in the
browser page (``cellseg/web/cells.js``).

Importing this module loads no TensorFlow: the losses are built only when asked for.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from cellseg.postprocessing import instances
from cellseg.postprocessing.instances import Thresholds
from cellseg.preprocessing.targets import (
    centre_offsets,
    distance_map,
    foreground_mask,
    three_class,
)

#: Thresholds tried after training, each in turn (`instances.tune_thresholds`).
_PROBABILITY_GRID = {
    "smoothing": (0.0, 1.0, 2.0),
    "foreground": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9),
    "seed": (0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95),
    "min_area": (5, 10, 20, 40, 60),
}
#: A cell's outer pixels are about 1 / its radius of the way to its centre (0.1 for a
#: nucleus 20 pixels across): its distances end far below the probabilities' thresholds.
_DISTANCE_GRID = {
    **_PROBABILITY_GRID,
    "foreground": (0.02, 0.05, 0.1, 0.15, 0.2, 0.3),
    "seed": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
}


@dataclass(frozen=True)
class Target:
    """One thing a network can learn to output for each pixel.

    Attributes
    ----------
    name : str
        As the command line and model configurations spell it (``--target``).
    description : str
        One line for ``--help``.
    channels : int
        Output channels of the network.
    activation : tuple of (name, activation, channels)
        The final layers, in order: ``softmax`` over the classes, ``sigmoid`` for a
        probability or a distance in 0-1, ``tanh`` for offsets in -1..1.
    classes : bool
        The first three channels are the probabilities of background, cell interior and
        cell boundary (class weights, the cell Dice metric and the loss depend on it).
    continuous : bool
        The training target is a continuous map, resampled bilinearly when a training
        tile is zoomed or turned (labels and classes take the nearest pixel).
    mirrored : mapping of int to int
        Output channels whose sign changes when the image is mirrored, per mirrored axis
        (rows 0, columns 1): offsets point the other way. Test-time flips put them back.
    image_map : callable or None
        ``image_map(labels)``: a map of the whole image that training tiles are cut from
        instead of the labels (the distance map, whose values depend on whole cells).
    picture : callable or None
        ``picture(labels, boundary_width)``: the target as ``cellseg labels --target``
        writes it, ``(image, suffix)``; None when it has no picture of its own.
    encode : callable
        ``encode(tile, boundary_width)``: the training target of a tile of labels (or of
        ``image_map``), float32 of shape (rows, columns, channels).
    decode : callable
        ``decode(output, thresholds, *, markers=None, foreground=None)``: cells (int32
        labels) from the network's output.
    threshold_grid : mapping
        Threshold name -> values searched when tuning on validation images.
    loss : callable
        ``loss(class_weights, *, separation_weight, dice_weight)``: the default loss, a
        ``keras`` loss (`cellseg.neural_network.losses.default_loss` weighs the classes).
    cell_probability : callable
        ``cell_probability(output)``: each pixel's probability, 0..1, of being in a cell,
        whose mean over a cell is its raw confidence
        (`cellseg.postprocessing.confidence.cell_scores`).
    """

    name: str
    description: str
    channels: int
    activation: tuple[tuple[str, str, int], ...]
    classes: bool
    encode: Callable[[np.ndarray, int], np.ndarray]
    decode: Callable[..., np.ndarray]
    loss: Callable
    cell_probability: Callable[[np.ndarray], np.ndarray]
    continuous: bool = False
    mirrored: Mapping[int, int] = field(default_factory=dict)
    image_map: Callable[[np.ndarray], np.ndarray] | None = None
    picture: Callable[[np.ndarray, int], tuple[np.ndarray, str]] | None = None
    threshold_grid: Mapping[str, Sequence] = field(default_factory=lambda: _PROBABILITY_GRID)

    def class_counts(self, labels: np.ndarray, boundary_width: int = 1) -> np.ndarray:
        """Pixels of each class of ``labels`` that the loss weighs: background, interior
        and boundary for class targets, background and cell otherwise."""
        if self.classes:
            return np.bincount(three_class(labels, boundary_width).ravel(), minlength=3)[:3]
        cells = int(np.count_nonzero(labels))
        return np.array([labels.size - cells, cells])


def _one_hot_classes(tile: np.ndarray, boundary_width: int) -> np.ndarray:
    return np.eye(3, dtype=np.float32)[three_class(tile, boundary_width)]


def _classes_and_offsets(tile: np.ndarray, boundary_width: int) -> np.ndarray:
    return np.concatenate([_one_hot_classes(tile, boundary_width), centre_offsets(tile)], axis=-1)


def _cell_mask(tile: np.ndarray, boundary_width: int) -> np.ndarray:
    return (tile > 0).astype(np.float32)[:, :, None]


def _as_map(tile: np.ndarray, boundary_width: int) -> np.ndarray:
    return tile.astype(np.float32)[:, :, None]


def _class_picture(labels: np.ndarray, boundary_width: int):
    return three_class(labels, boundary_width), ".png"


def _mask_picture(labels: np.ndarray, boundary_width: int):
    return foreground_mask(labels) * np.uint8(255), ".png"


def _distance_picture(labels: np.ndarray, boundary_width: int):
    return distance_map(labels), ".tif"


def _not_background(output: np.ndarray) -> np.ndarray:
    return 1 - output[..., 0]


def _first_channel(output: np.ndarray) -> np.ndarray:
    return np.clip(output[..., 0], 0, 1)


def _class_loss(weights, *, separation_weight=0.0, dice_weight=1.0):
    from cellseg.neural_network.losses import WeightedCrossEntropyDice

    return WeightedCrossEntropyDice(
        class_weights=weights,
        separation_weight=separation_weight,
        dice_weight=dice_weight,
    )


def _hover_loss(weights, *, separation_weight=0.0, dice_weight=1.0):
    from cellseg.neural_network.losses import HoverLoss

    return HoverLoss(
        class_weights=weights,
        separation_weight=separation_weight,
        dice_weight=dice_weight,
    )


def _mask_loss(weights, *, separation_weight=0.0, dice_weight=1.0):
    from cellseg.neural_network.losses import WeightedBinaryCrossEntropyDice

    return WeightedBinaryCrossEntropyDice(positive_weight=weights[1], dice_weight=dice_weight)


def _distance_loss(weights, *, separation_weight=0.0, dice_weight=1.0):
    from cellseg.neural_network.losses import DistanceLoss

    return DistanceLoss(positive_weight=weights[1], dice_weight=dice_weight / 2)


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target(
            name="3class",
            description="0 background, 1 cell interior, 2 cell boundary",
            channels=3,
            activation=(("output", "softmax", 3),),
            classes=True,
            encode=_one_hot_classes,
            decode=instances.cells_from_classes,
            loss=_class_loss,
            cell_probability=_not_background,
            picture=_class_picture,
        ),
        Target(
            name="hover",
            description="the three classes and each pixel's offset from its cell's centre "
            "(HoVer-Net's maps, to cut touching cells apart)",
            channels=5,
            activation=(("classes", "softmax", 3), ("offsets", "tanh", 2)),
            classes=True,
            mirrored={0: 4, 1: 3},
            encode=_classes_and_offsets,
            decode=instances.cells_from_hover,
            loss=_hover_loss,
            cell_probability=_not_background,
        ),
        Target(
            name="mask",
            description="a cell mask, 255 on cells (touching cells stay one)",
            channels=1,
            activation=(("output", "sigmoid", 1),),
            classes=False,
            encode=_cell_mask,
            decode=instances.cells_from_mask,
            loss=_mask_loss,
            cell_probability=_first_channel,
            picture=_mask_picture,
            threshold_grid={k: v for k, v in _PROBABILITY_GRID.items() if k != "seed"},
        ),
        Target(
            name="distance",
            description="each cell pixel's distance to its cell's edge, 1 at its centre (float32)",
            channels=1,
            activation=(("output", "sigmoid", 1),),
            classes=False,
            continuous=True,
            image_map=distance_map,
            encode=_as_map,
            decode=instances.cells_from_distance,
            loss=_distance_loss,
            cell_probability=_first_channel,
            picture=_distance_picture,
            threshold_grid=_DISTANCE_GRID,
        ),
    )
}

#: The target a model learns unless told otherwise.
DEFAULT_TARGET = "3class"


def get_target(name: str) -> Target:
    """The target called ``name``; a ValueError listing the known ones otherwise."""
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; known: {', '.join(TARGETS)}")
    return TARGETS[name]


def cells_from_output(
    output: np.ndarray,
    target: str,
    thresholds: Thresholds | None = None,
    *,
    markers: np.ndarray | None = None,
    foreground: np.ndarray | None = None,
) -> np.ndarray:
    """Cells (int32 labels, 0 background) from a network's output for ``target``
    (its `Target.decode`).

    Examples
    --------
    >>> output = np.zeros((1, 6, 1), np.float32); output[0, 1:5, 0] = [.2, .9, .9, .2]
    >>> cells_from_output(output, "mask", Thresholds(foreground=0.5, min_area=1))
    array([[0, 0, 1, 1, 0, 0]], dtype=int32)
    """
    record = get_target(target)
    channels = 1 if np.ndim(output) == 2 else np.shape(output)[-1]
    if channels != record.channels:
        raise ValueError(f"a {target} output has {record.channels} channels, got {channels}")
    return record.decode(output, thresholds, markers=markers, foreground=foreground)


def tune_thresholds(outputs, truths, target: str, *, start: Thresholds | None = None):
    """The thresholds that decode ``outputs`` of ``target`` best against ``truths``
    (`cellseg.postprocessing.instances.tune_thresholds` over the target's grid)."""
    record = get_target(target)
    return instances.tune_thresholds(
        outputs, truths, record.decode, record.threshold_grid, start=start
    )
