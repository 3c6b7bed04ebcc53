"""Network outputs to separated cells: one id per cell, touching cells split.

A network trained on one of the targets of `cellseg.preprocessing.targets` outputs, per pixel:

- ``3class``: probabilities of background, cell interior and cell boundary;
- ``mask``: the probability of being inside a cell;
- ``distance``: the distance to the cell's edge, 1 at each cell's centre;
- ``hover``: the three class probabilities, then the offsets of the pixel from its cell's
  centre, horizontal and vertical, each -1 to 1 across a cell
  (`cellseg.preprocessing.targets.centre_offsets`).

Cells are found by marker-controlled watershed: confident cores (interior probability, or
distance, above ``seed``) are the markers, and they grow over the foreground (cell
probability above ``foreground``) until they meet, so touching cells stay apart. For
``hover`` the cores are also cut where the offsets fall steeply (`offset_edges`): between
touching cells they jump from +1 to -1 even where the boundary class is faint. A ``mask``
output has no cores: its connected components are the cells. The thresholds are tuned on
validation images after training (`tune_thresholds`) and stored with the model.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
from scipy import ndimage as ndi

#: Targets a network can be trained on, and the output channels each needs.
OUTPUT_CHANNELS = {"mask": 1, "3class": 3, "distance": 1, "hover": 5}

#: Targets whose first three channels are the background, interior and boundary classes.
CLASS_TARGETS = ("3class", "hover")

#: Output channels that change sign when the image is mirrored, per mirrored axis (rows
#: 0, columns 1): the ``hover`` target's vertical and horizontal centre offsets.
MIRRORED_CHANNELS = {"hover": {0: 4, 1: 3}}


@dataclass(frozen=True)
class Thresholds:
    """How network outputs become cells.

    Attributes
    ----------
    foreground : float
        A pixel belongs to a cell when its cell probability (interior + boundary, or the
        mask output, or the distance) exceeds this.
    seed : float
        A cell's core: interior probability (or distance) above this; each core is one cell.
    min_area : int
        Cells smaller than this many pixels are dropped.
    smoothing : float
        Standard deviation (pixels) of a Gaussian applied to the output's probabilities
        (or distances) first, which keeps a faint cell from breaking into specks; 0 for
        none.
    """

    foreground: float = 0.5
    seed: float = 0.6
    min_area: int = 20
    smoothing: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Thresholds":
        return cls(**{key: values[key] for key in asdict(cls()) if key in values})


def cells_from_output(
    output: np.ndarray,
    target: str,
    thresholds: Thresholds | None = None,
    *,
    markers: np.ndarray | None = None,
    foreground: np.ndarray | None = None,
) -> np.ndarray:
    """Turn a network's output for one image into instance labels.

    Parameters
    ----------
    output : ndarray, shape (rows, columns, channels) or (rows, columns)
        The network's output: see the module's description for each target.
    target : {"3class", "mask", "distance", "hover"}
    thresholds : Thresholds, optional
        Defaults to ``Thresholds()``.
    markers : ndarray of int, shape (rows, columns), optional
        One label per cell (0 elsewhere) to grow instead of the cores above ``seed``: cell
        centres found another way, or annotated ones, to measure what finding the cores
        costs (``benchmarks/error_sources.py``). Not for ``mask`` outputs, which have none.
    foreground : ndarray of bool, shape (rows, columns), optional
        The pixels the cells may cover, instead of those whose cell probability is above
        ``thresholds.foreground``: annotated ones, to measure what the outlines cost.

    Returns
    -------
    ndarray of int32, shape (rows, columns)
        0 for background, 1..N for the cells.

    Examples
    --------
    >>> output = np.zeros((1, 8, 3)); output[..., 0] = 1   # background, but two cells:
    >>> boundary, interior = [0, .1, .9], [0, .9, .1]      # each with its own boundary
    >>> output[0, 1:7] = [boundary, interior, boundary, boundary, interior, boundary]
    >>> cells_from_output(output, "3class", Thresholds(min_area=1))
    array([[0, 1, 1, 1, 2, 2, 2, 0]], dtype=int32)
    """
    if target not in OUTPUT_CHANNELS:
        raise ValueError(f"target must be one of {tuple(OUTPUT_CHANNELS)}, got {target!r}")
    thresholds = thresholds or Thresholds()
    output = np.asarray(output, dtype=np.float32)
    if output.ndim == 2:
        output = output[:, :, None]
    if output.shape[2] != OUTPUT_CHANNELS[target]:
        raise ValueError(
            f"a {target} output has {OUTPUT_CHANNELS[target]} channels, got {output.shape[2]}"
        )
    edges = None
    if target == "hover":  # from the offsets as they are: smoothing would soften the jumps
        edges, output = offset_edges(output[:, :, 3:]), output[:, :, :3]
    if thresholds.smoothing > 0:
        output = ndi.gaussian_filter(output, (thresholds.smoothing, thresholds.smoothing, 0))
    if target in CLASS_TARGETS:
        cell_probability = output[:, :, 1] + output[:, :, 2]
        core = output[:, :, 1] if edges is None else output[:, :, 1] * (1 - edges)
    else:
        cell_probability = core = output[:, :, 0]
    if foreground is None:
        mask = cell_probability > thresholds.foreground
    elif foreground.shape != output.shape[:2]:
        raise ValueError(
            f"foreground of shape {foreground.shape} for an output of {output.shape[:2]}"
        )
    else:
        mask = foreground.astype(bool)
    if target == "mask":
        if markers is not None:
            raise ValueError("a mask output has no cores to grow markers over")
        labels, _ = ndi.label(mask)
    else:
        if markers is None:
            markers = ndi.label((core > thresholds.seed) & mask)[0]
        elif markers.shape != mask.shape:
            raise ValueError(f"markers of shape {markers.shape} for an output of {mask.shape}")
        else:
            markers = np.where(mask, markers, 0)  # only where there is foreground to grow
        labels = _grow_markers(core, markers, mask)
    return _drop_small(labels, thresholds.min_area)


def offset_edges(offsets: np.ndarray) -> np.ndarray:
    """Where centre offsets fall steeply, 0 to 1: the edges between touching cells.

    Across a cell the horizontal offset rises from -1 to 1 left to right (the vertical one
    top to bottom); where two cells touch it falls back from about +1 to -1 between two
    neighbouring pixels. Each pixel gets the largest fall, halved, between it and its
    neighbour on either side, of the horizontal offsets along rows and the vertical ones
    along columns, clipped to 0..1: a full jump of 2 reads 1 on both sides of the cut.

    Examples
    --------
    >>> offsets = np.zeros((1, 6, 2), np.float32)
    >>> offsets[0, :, 0] = [-1, 0, 1, -1, 0, 1]          # two cells side by side
    >>> offset_edges(offsets)[0]
    array([0., 0., 1., 1., 0., 0.], dtype=float32)
    """
    steepest = np.zeros(offsets.shape[:2], dtype=np.float32)
    for channel, axis in ((0, 1), (1, 0)):
        fall = -np.diff(offsets[:, :, channel], axis=axis) / 2
        before = (slice(None),) * axis + (slice(None, -1),)
        after = (slice(None),) * axis + (slice(1, None),)
        steepest[before] = np.maximum(steepest[before], fall)
        steepest[after] = np.maximum(steepest[after], fall)
    return np.clip(steepest, 0, 1)


def tune_thresholds(
    outputs: Sequence[np.ndarray],
    truths: Sequence[np.ndarray],
    target: str,
    *,
    start: Thresholds | None = None,
) -> tuple[Thresholds, float]:
    """Choose the thresholds that score best on validation images.

    The score is the mean over the images of the aggregated Jaccard index (outlines) and
    the F1 score at IoU 0.5 (cells found), equally weighted: AJI alone barely moves with the
    smallest cell kept, while F1 and counts do. Each threshold is searched in turn over a
    small grid, the others held (coordinate ascent, twice round), which takes a few dozen
    evaluations instead of a full grid's thousands.

    Returns
    -------
    (Thresholds, float)
        The best thresholds and their score, (AJI + F1) / 2.
    """
    from cellseg.metrics import overlaps

    def score(candidate: Thresholds) -> float:
        scores = []
        for output, truth in zip(outputs, truths, strict=True):
            table = overlaps(truth, cells_from_output(output, target, candidate))
            scores.append((table.aji() + table.match().f1) / 2)
        return float(np.mean(scores))

    grids = {
        "smoothing": (0.0, 1.0, 2.0),
        "foreground": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9),
        "seed": (0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95),
        "min_area": (5, 10, 20, 40, 60),
    }
    if target == "mask":
        del grids["seed"]
    if target == "distance":
        # A cell's outer pixels are about 1 / its radius of the way to its centre (0.1 for
        # a nucleus 20 pixels across): cells end far below the probabilities' thresholds.
        grids["foreground"] = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
        grids["seed"] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    start = start or Thresholds()
    best, best_score = start, score(start)
    for _ in range(2):
        for name, values in grids.items():
            for value in values:
                candidate = replace(best, **{name: value})
                if candidate == best:
                    continue
                candidate_score = score(candidate)
                if candidate_score > best_score:
                    best, best_score = candidate, candidate_score
    return best, best_score


def _grow_markers(core: np.ndarray, markers: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Marker-controlled watershed: ``markers`` grow over ``mask``, down from high ``core``."""
    from skimage.segmentation import watershed

    markers = markers.astype(np.int32, copy=False)
    count = int(markers.max(initial=0))
    labels = watershed(-core, markers, mask=mask) if count else markers.copy()
    # Foreground not reached by any core (a faint cell) becomes a cell of its own.
    orphans, orphan_count = ndi.label(mask & (labels == 0))
    if orphan_count:
        labels[orphans > 0] = orphans[orphans > 0] + count
    return labels


def _drop_small(labels: np.ndarray, min_area: int) -> np.ndarray:
    """Remove cells under ``min_area`` pixels and number the rest 1..N."""
    areas = np.bincount(labels.ravel())
    keep = areas >= max(min_area, 1)
    keep[0] = False
    lookup = np.zeros(areas.size, dtype=np.int32)
    lookup[keep] = np.arange(1, keep.sum() + 1, dtype=np.int32)
    return lookup[labels]
