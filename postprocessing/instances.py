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

One function per kind of output (`cells_from_classes`, `cells_from_hover`,
`cells_from_mask`, `cells_from_distance`); `cellseg.neural_network.targets` says which
one decodes each target, and `cellseg.neural_network.targets.cells_from_output` picks it
by the target's name. How touching cells are split is `grow_cells`.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
from scipy import ndimage as ndi


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
    min_confidence : float
        Cells whose calibrated confidence (`cellseg.postprocessing.confidence`) is below
        this are dropped; 0 keeps them all.
    """

    foreground: float = 0.5
    seed: float = 0.6
    min_area: int = 20
    smoothing: float = 0.0
    min_confidence: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Thresholds":
        return cls(**{key: values[key] for key in asdict(cls()) if key in values})


def cells_from_classes(
    output: np.ndarray,
    thresholds: Thresholds | None = None,
    *,
    markers: np.ndarray | None = None,
    foreground: np.ndarray | None = None,
    edges: np.ndarray | None = None,
) -> np.ndarray:
    """Cells from the probabilities of background, cell interior and cell boundary.

    Parameters
    ----------
    output : ndarray, shape (rows, columns, 3)
        The class probabilities, per pixel.
    thresholds : Thresholds, optional
        Defaults to ``Thresholds()``.
    markers : ndarray of int, shape (rows, columns), optional
        One label per cell (0 elsewhere) to grow instead of the cores above ``seed``: cell
        centres found another way, or annotated ones, to measure what finding the cores
        costs (``benchmarks/error_sources.py``).
    foreground : ndarray of bool, shape (rows, columns), optional
        The pixels the cells may cover, instead of those whose cell probability is above
        ``thresholds.foreground``: annotated ones, to measure what the outlines cost.
    edges : ndarray of float, shape (rows, columns), optional
        0 to 1 where touching cells meet (`offset_edges`): the cores are cut there.

    Returns
    -------
    ndarray of int32, shape (rows, columns)
        0 for background, 1..N for the cells.

    Examples
    --------
    >>> output = np.zeros((1, 8, 3)); output[..., 0] = 1   # background, but two cells:
    >>> boundary, interior = [0, .1, .9], [0, .9, .1]      # each with its own boundary
    >>> output[0, 1:7] = [boundary, interior, boundary, boundary, interior, boundary]
    >>> cells_from_classes(output, Thresholds(min_area=1))
    array([[0, 1, 1, 1, 2, 2, 2, 0]], dtype=int32)
    """
    thresholds = thresholds or Thresholds()
    output = _smoothed(_channels(output, 3), thresholds.smoothing)
    core = output[:, :, 1] if edges is None else output[:, :, 1] * (1 - edges)
    probability = output[:, :, 1] + output[:, :, 2]
    return grow_cells(probability, core, thresholds, markers=markers, foreground=foreground)


def cells_from_hover(
    output: np.ndarray,
    thresholds: Thresholds | None = None,
    *,
    markers: np.ndarray | None = None,
    foreground: np.ndarray | None = None,
) -> np.ndarray:
    """Cells from the three class probabilities followed by the two centre offsets: the
    cores of `cells_from_classes` are also cut where the offsets fall steeply
    (`offset_edges`), measured on the offsets as they are (smoothing would soften the
    jumps)."""
    output = _channels(output, 5)
    edges = offset_edges(output[:, :, 3:])
    return cells_from_classes(
        output[:, :, :3], thresholds, markers=markers, foreground=foreground, edges=edges
    )


def cells_from_distance(
    output: np.ndarray,
    thresholds: Thresholds | None = None,
    *,
    markers: np.ndarray | None = None,
    foreground: np.ndarray | None = None,
) -> np.ndarray:
    """Cells from each pixel's distance to its cell's edge, 1 at each cell's centre: the
    distance is both the cell probability and the core."""
    thresholds = thresholds or Thresholds()
    distance = _smoothed(_channels(output, 1), thresholds.smoothing)[:, :, 0]
    return grow_cells(distance, distance, thresholds, markers=markers, foreground=foreground)


def cells_from_mask(
    output: np.ndarray,
    thresholds: Thresholds | None = None,
    *,
    markers: np.ndarray | None = None,
    foreground: np.ndarray | None = None,
) -> np.ndarray:
    """Cells from a cell probability alone: its connected components above
    ``thresholds.foreground`` (no cores, so touching cells stay one)."""
    if markers is not None:
        raise ValueError("a mask output has no cores to grow markers over")
    thresholds = thresholds or Thresholds()
    probability = _smoothed(_channels(output, 1), thresholds.smoothing)[:, :, 0]
    mask = _foreground(probability, thresholds, foreground)
    return _drop_small(ndi.label(mask)[0], thresholds.min_area)


def grow_cells(
    probability: np.ndarray,
    core: np.ndarray,
    thresholds: Thresholds,
    *,
    markers: np.ndarray | None = None,
    foreground: np.ndarray | None = None,
) -> np.ndarray:
    """Split the foreground into cells: confident cores grow until they meet.

    The foreground is where ``probability`` exceeds ``thresholds.foreground`` (or the
    given ``foreground``); each connected region of ``core`` above ``thresholds.seed``
    within it (or each of the given ``markers``) is one cell, grown over the foreground
    down from high ``core`` (marker-controlled watershed). Foreground no core reaches (a
    faint cell) is a cell of its own; cells under ``thresholds.min_area`` pixels are
    dropped.
    """
    mask = _foreground(probability, thresholds, foreground)
    if markers is None:
        markers = ndi.label((core > thresholds.seed) & mask)[0]
    elif markers.shape != mask.shape:
        raise ValueError(f"markers of shape {markers.shape} for an output of {mask.shape}")
    else:
        markers = np.where(mask, markers, 0)  # only where there is foreground to grow
    return _drop_small(_grow_markers(core, markers, mask), thresholds.min_area)


def _channels(output: np.ndarray, channels: int) -> np.ndarray:
    output = np.asarray(output, dtype=np.float32)
    if output.ndim == 2:
        output = output[:, :, None]
    if output.ndim != 3 or output.shape[2] != channels:
        raise ValueError(f"expected an output of {channels} channels, got shape {output.shape}")
    return output


def _smoothed(output: np.ndarray, sigma: float) -> np.ndarray:
    if sigma > 0:
        return ndi.gaussian_filter(output, (sigma, sigma, 0))
    return output


def _foreground(probability, thresholds: Thresholds, foreground) -> np.ndarray:
    if foreground is None:
        return probability > thresholds.foreground
    if foreground.shape != probability.shape:
        raise ValueError(
            f"foreground of shape {foreground.shape} for an output of {probability.shape}"
        )
    return foreground.astype(bool)


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
    decode: Callable[[np.ndarray, Thresholds], np.ndarray],
    grid: Mapping[str, Sequence],
    *,
    start: Thresholds | None = None,
) -> tuple[Thresholds, float]:
    """Choose the thresholds that score best on validation images.

    The score is the mean over the images of the aggregated Jaccard index (outlines) and
    the F1 score at IoU 0.5 (cells found), equally weighted: AJI alone barely moves with the
    smallest cell kept, while F1 and counts do. Each threshold of ``grid`` is searched in
    turn over its values, the others held (coordinate ascent, twice round), which takes a
    few dozen evaluations instead of a full grid's thousands.

    Parameters
    ----------
    outputs, truths : sequences of ndarray
        The network's outputs for the validation images, and their true labels.
    decode : callable
        ``decode(output, thresholds)`` -> labels: the target's decoder
        (`cellseg.neural_network.targets.Target.decode`).
    grid : mapping
        Threshold name -> the values to try (the target's ``threshold_grid``).

    Returns
    -------
    (Thresholds, float)
        The best thresholds and their score, (AJI + F1) / 2.
    """
    from cellseg.metrics import overlaps

    def score(candidate: Thresholds) -> float:
        scores = []
        for output, truth in zip(outputs, truths, strict=True):
            table = overlaps(truth, decode(output, candidate))
            scores.append((table.aji() + table.match().f1) / 2)
        return float(np.mean(scores))

    known = {field.name for field in fields(Thresholds)}
    unknown = set(grid) - known
    if unknown:
        raise ValueError(f"no such thresholds: {', '.join(sorted(unknown))}")
    start = start or Thresholds()
    best, best_score = start, score(start)
    for _ in range(2):
        for name, values in grid.items():
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
