"""Run a network over an image of any size; choose the scale that suits its cells.

Images up to `WHOLE_IMAGE_PIXELS` go through the network in one piece (padded to a size
the network accepts); larger ones, and networks built for a fixed input size, go tile by
tile with overlap, the outputs blended toward each tile's centre. Cells are then found on
the stitched output, never per tile, so none is cut or counted twice at a seam
(`cellseg.neural_network.model.TrainedModel.segment`).
"""

from dataclasses import dataclass

import numpy as np

from cellseg.neural_network.targets import get_target
from cellseg.preprocessing.colour import as_rgb
from cellseg.preprocessing.tiling import stitch_tiles, tile_positions

#: Largest image predicted in one piece (2048 x 2048 pixels); larger ones are tiled, which
#: bounds the memory the network takes.
WHOLE_IMAGE_PIXELS = 2048 * 2048
#: Largest tile side for large images when the network accepts any size: few tiles, so
#: little is computed twice, in less memory than the largest whole image.
LARGE_TILE = 1280
#: Pixels shared by neighbouring tiles: each tile's outputs near its border, where the
#: network sees less context, are blended away toward the neighbour's centre.
TILE_OVERLAP = 64


def network_output(
    model,
    image: np.ndarray,
    *,
    divisor: int = 32,
    flips: int = 1,
    batch_size: int = 1,
    target: str = "3class",
):
    """The network's output for ``image``, of the image's rows and columns.

    Parameters
    ----------
    model : keras.Model
        Takes RGB on the 0-255 scale (`cellseg.neural_network.architectures.with_normalisation`).
    image : ndarray
        Any layout `cellseg.preprocessing.colour.as_rgb` accepts.
    divisor : int
        Input sides must be multiples of this (2 ** depth of a U-Net).
    flips : {1, 2, 4}
        Test-time augmentation: average the outputs for the image as it is and flipped
        (2: also turned half round; 4: also flipped left-right and upside down).
    target : str
        The model's target; mirrored views of a ``hover`` output have their offsets'
        signs put back (`cellseg.neural_network.targets.Target.mirrored`).

    Returns
    -------
    ndarray of float32, shape (rows, columns, channels)
    """
    rgb = as_rgb(image)
    rows, columns = rgb.shape[:2]
    fixed = model.input_shape[1:3]
    if None not in fixed:
        tile, overlap = int(fixed[0]), int(fixed[0]) // 4
    elif rows * columns <= WHOLE_IMAGE_PIXELS:
        padded = _pad(rgb, _round_up(rows, divisor), _round_up(columns, divisor))
        output = _averaged_over_flips(model, padded[None], flips, target)[0]
        return output[:rows, :columns].astype(np.float32)
    else:
        tile = max(_balanced_tile(length, divisor) for length in (rows, columns))
        overlap = TILE_OVERLAP
    padded = _pad(rgb, max(rows, tile), max(columns, tile))
    positions = tile_positions(padded.shape, tile, overlap)
    outputs = []
    for start in range(0, len(positions), batch_size):
        chunk = positions[start : start + batch_size]
        batch = np.stack([padded[position.window] for position in chunk])
        outputs.extend(_averaged_over_flips(model, batch, flips, target))
    channels = outputs[0].shape[-1]
    stitched = stitch_tiles(
        zip(positions, outputs, strict=True),
        padded.shape[:2] + (channels,),
        method="blend",
        dtype=np.float32,
        accumulate=np.float32,  # half the memory of float64 sums; tiles differ anyway
    )
    return stitched[:rows, :columns]


#: The scale chosen from the image itself (see `choose_scale`).
AUTO = "auto"
#: The scales ``auto`` chooses among: a model trained at 40x meets 40x, 20x and 10x images.
AUTO_SCALES = (1.0, 2.0, 4.0)
#: Side of the central crop the scale is chosen on: a few dozen nuclei, in a fraction of
#: the time the whole image takes.
AUTO_SCALE_CROP = 384
#: Fewer cells than this tell too little about their size.
AUTO_SCALE_MIN_CELLS = 10


@dataclass(frozen=True)
class ScaleTrial:
    """The cells found on a crop at one scale: how many, how sure the network was of them
    (their mean raw score, and its standard error), and their median area in the enlarged
    image's pixels."""

    scale: float
    cells: int
    mean_score: float
    median_area: float
    score_error: float = 0.0

    @classmethod
    def of(cls, scale: float, labels: np.ndarray, scores: np.ndarray) -> "ScaleTrial":
        """The trial of the cells ``labels`` (ids 1..N) with raw ``scores`` (one a cell)."""
        areas = np.bincount(labels.ravel())[1:]
        areas = areas[areas > 0]
        return cls(
            scale,
            int(areas.size),
            float(scores.mean()) if scores.size else 0.0,
            float(np.median(areas)) if areas.size else 0.0,
            float(scores.std() / np.sqrt(scores.size)) if scores.size else 0.0,
        )


def choose_scale(trials: list[ScaleTrial], cell_area: float | None) -> float:
    """The scale ``auto`` chooses from the trials of a crop at `AUTO_SCALES`, in order.

    The network is surest of cells of the size it learned: the scale whose cells it scores
    highest on average wins (trials stop at the first scale that does worse than the one
    before), or the largest one it is about as sure of (`_about_as_sure`). When its
    cells are under half the training cells' area (``cell_area``), as a 20x image's nuclei
    would be at 1, the first larger scale whose cells are not wins; when none is, the small
    cells are the network's own false pieces, and it stays. A scale tells
    nothing with fewer than `AUTO_SCALE_MIN_CELLS` cells, unless they are of about the
    training cells' size: a sparse image's few nuclei, where enlarging would cut them up.

    Examples
    --------
    >>> trials = [ScaleTrial(1, 66, 0.952, 216), ScaleTrial(2, 170, 0.957, 456)]
    >>> choose_scale(trials, 339.0)    # surer at 2
    2.0
    >>> choose_scale([ScaleTrial(1, 150, 0.972, 150), ScaleTrial(2, 240, 0.971, 540)], 339)
    2.0
    >>> choose_scale([ScaleTrial(1, 60, 0.97, 400), ScaleTrial(2, 100, 0.96, 900)], 339)
    1.0
    >>> choose_scale([ScaleTrial(1, 7, 0.99, 1498), ScaleTrial(2, 17, 0.94, 1474)], 472)
    1.0
    >>> choose_scale([ScaleTrial(1, 36, 0.985, 226), ScaleTrial(2, 66, 0.971, 204)], 637)
    1.0

    A 20x image is about as sure at 2 as at 1 (within a standard error); a 40x one is not:

    >>> twenty = [ScaleTrial(1, 131, 0.9718, 185, 0.0014), ScaleTrial(2, 230, 0.97, 574, 0.0014)]
    >>> forty = [ScaleTrial(1, 65, 0.9707, 475, 0.0027), ScaleTrial(2, 180, 0.9517, 306, 0.0015)]
    >>> choose_scale(twenty, 339.0), choose_scale(forty, 339.0)
    (2.0, 1.0)
    """
    useful = [trial for trial in trials if _tells(trial, cell_area)]
    if not useful:
        return 1.0
    best = max(useful, key=lambda trial: trial.mean_score)
    best = max([best, *(t for t in useful if _about_as_sure(t, best))], key=lambda t: t.scale)
    if not _large_enough(best, cell_area):
        larger = [t for t in useful if t.scale > best.scale and _large_enough(t, cell_area)]
        best = larger[0] if larger else best
    return float(best.scale)


def _about_as_sure(trial: ScaleTrial, best: ScaleTrial) -> bool:
    """Whether the network is about as sure of a larger scale's cells as of the best's:
    within one standard error of the difference (Breiman's one-standard-error rule). A
    40x image's nuclei at 2x score clearly lower than at 1x; a 20x image's, about the same.
    Enlarging a 20x image less loses a third of its nuclei; enlarging a 40x one more splits
    a few: the larger scale is the safer choice."""
    error = float(np.hypot(trial.score_error, best.score_error))
    return trial.scale > best.scale and best.mean_score - trial.mean_score <= error


def _tells(trial: ScaleTrial, cell_area: float | None) -> bool:
    """Whether a trial tells anything: enough cells, or a few of the training cells' size."""
    if trial.cells >= AUTO_SCALE_MIN_CELLS:
        return True
    return trial.cells > 0 and bool(cell_area) and _large_enough(trial, cell_area)


def _large_enough(trial: ScaleTrial, cell_area: float | None) -> bool:
    """Whether a trial's cells are at least half the training cells' area (when known)."""
    return not cell_area or trial.median_area >= cell_area / 2


def rescaled(find, rgb: np.ndarray, scale: float):
    """The cells ``find`` gives for ``rgb`` enlarged by ``scale``, brought back to the
    image's size and numbered 1..N again.

    ``find(image)`` returns ``(labels, values)``, one value per cell 1..N (its confidence);
    the values of the cells that remain come back with their labels. The image is resized
    as `enlarged` does, the labels by their nearest pixel.
    """
    from skimage.segmentation import relabel_sequential
    from skimage.transform import resize

    rows, columns = rgb.shape[:2]
    labels, values = find(enlarged(rgb, scale))
    back = resize(labels, (rows, columns), order=0, preserve_range=True, anti_aliasing=False)
    numbered, _, inverse = relabel_sequential(back.astype(labels.dtype))
    kept = np.asarray(inverse)[1:].astype(int)  # the id each new one had
    return numbered, np.asarray(values)[kept - 1] if kept.size else np.zeros(0)


def enlarged(rgb: np.ndarray, scale: float, *, cubic: bool = True) -> np.ndarray:
    """``rgb`` resized by ``scale``, as uint8: enlarged by Pillow's bicubic filter
    (`cellseg.preprocessing.resampling`: sharper than bilinear, a 20x image seen as 40x
    keeps more of its nuclei), or with ``cubic=False`` bilinearly, as `choose_scale`'s
    trials see their crops; shrunk as `skimage.transform.resize` does (bilinear,
    anti-aliased)."""
    from skimage.transform import resize

    from cellseg.preprocessing.resampling import cubic_resized

    if scale == 1:
        return rgb
    rows, columns = rgb.shape[:2]
    scaled_shape = (max(1, round(rows * scale)), max(1, round(columns * scale)))
    if scale > 1 and cubic:
        return cubic_resized(rgb, scaled_shape)
    if scale in (2, 4) and min(rows, columns) >= 2:  # skimage's pixels, twenty times faster
        scaled = rgb.astype(np.float32)
        for axis in (0, 1):
            scaled = _linear_upsampled(scaled, int(scale), axis)
    else:
        scaled = resize(rgb, scaled_shape, order=1, preserve_range=True, anti_aliasing=scale < 1)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _linear_upsampled(values: np.ndarray, factor: int, axis: int) -> np.ndarray:
    """``values`` enlarged ``factor`` times along ``axis`` by linear interpolation, pixel
    centres aligned and the ends mirrored, as `scipy.ndimage.zoom` (order 1, ``grid_mode``,
    mode ``mirror``) does for `skimage.transform.resize`. With a factor of 2 or 4 every
    weight is a multiple of 1/8, so 8-bit values interpolate exactly in float32.

    Examples
    --------
    >>> _linear_upsampled(np.array([0, 4, 8], np.float32), 2, 0)
    array([1., 1., 3., 5., 7., 7.], dtype=float32)
    """
    ahead = np.moveaxis(values, axis, 0)
    before = np.concatenate([ahead[1:2], ahead[:-1]])  # the pixel before, mirrored at 0
    after = np.concatenate([ahead[1:], ahead[-2:-1]])  # the pixel after, mirrored at the end
    out = np.empty((ahead.shape[0] * factor, *ahead.shape[1:]), np.float32)
    for phase in range(factor):
        offset = (phase + 0.5) / factor - 0.5  # where this output pixel's centre falls
        near, weight = (before, -offset) if offset < 0 else (after, offset)
        out[phase::factor] = np.float32(1 - weight) * ahead + np.float32(weight) * near
    return np.moveaxis(out, 0, axis)


def central_crop(image: np.ndarray, side: int) -> np.ndarray:
    """The ``side`` x ``side`` window at the image's centre (the image, when smaller)."""
    rows, columns = image.shape[:2]
    top, left = max(0, (rows - side) // 2), max(0, (columns - side) // 2)
    return image[top : top + side, left : left + side]


#: Flipped views of a batch (rows, columns axes 1 and 2) for test-time augmentation.
_FLIPS = {1: [()], 2: [(), (1, 2)], 4: [(), (2,), (1,), (1, 2)]}


def _averaged_over_flips(
    model, batch: np.ndarray, flips: int, target: str = "3class"
) -> np.ndarray:
    """The network's output, averaged over flipped views (each flipped back), in float32.

    The views are summed in the order of `_FLIPS` (the page's worker does the same).
    """
    if flips not in _FLIPS:
        raise ValueError(f"flips must be 1, 2 or 4, got {flips}")
    total = None
    for axes in _FLIPS[flips]:
        view = np.flip(batch, axes) if axes else batch
        output = np.asarray(model.predict_on_batch(np.ascontiguousarray(view)), np.float32)
        output = np.flip(output, axes) if axes else output
        for axis in axes:  # a mirrored view's offsets point the other way
            channel = get_target(target).mirrored.get(axis - 1)
            if channel is not None:
                output[..., channel] *= -1
        total = output if total is None else total + output
    return total / np.float32(flips) if flips > 1 else total


def _balanced_tile(length: int, divisor: int) -> int:
    """The smallest tile side (a multiple of ``divisor``, at most `LARGE_TILE`) that covers
    ``length`` with as few tiles as `LARGE_TILE` would need, so little is computed twice."""
    count = max(1, -(-(length - TILE_OVERLAP) // (LARGE_TILE - TILE_OVERLAP)))
    side = -(-(length + (count - 1) * TILE_OVERLAP) // count)
    return min(_round_up(side, divisor), LARGE_TILE)


def _round_up(value: int, divisor: int) -> int:
    return -(-value // divisor) * divisor


def _pad(image: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Pad at the bottom and right by reflection (edge repeat for tiny images)."""
    extra_rows, extra_columns = rows - image.shape[0], columns - image.shape[1]
    if extra_rows == 0 and extra_columns == 0:
        return image
    reflect = extra_rows < image.shape[0] and extra_columns < image.shape[1]
    return np.pad(
        image, ((0, extra_rows), (0, extra_columns), (0, 0)), mode="reflect" if reflect else "edge"
    )
