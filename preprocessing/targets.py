"""Training targets made from instance labels: mask, three classes, distance map, and
the centre offsets of the ``hover`` target (three classes with them).

Which of them each target a network learns is made of, and how: the records of
`cellseg.neural_network.targets`.
"""

import numpy as np
from scipy import ndimage as ndi

#: Class values of the three-class target.
BACKGROUND, INTERIOR, BOUNDARY = 0, 1, 2


def foreground_mask(labels: np.ndarray) -> np.ndarray:
    """Every cell pixel as 1, background as 0 (uint8)."""
    return (np.asarray(labels) > 0).astype(np.uint8)


def three_class(labels: np.ndarray, width: int = 1) -> np.ndarray:
    """Background 0, cell interior 1, cell boundary 2 (uint8).

    A boundary pixel belongs to a cell and has a pixel outside it (background or another
    cell) within ``width`` steps up, down, left or right; with the default width 1 these
    are the pixels with a 4-neighbour outside, so touching cells are separated by two
    boundary pixels. A wider boundary leaves the cores of crowded cells further apart.

    Examples
    --------
    >>> labels = np.array([[0, 1, 1, 1, 2, 2, 2, 0]] * 3)
    >>> three_class(labels)[1]
    array([0, 2, 1, 2, 2, 1, 2, 0], dtype=uint8)
    >>> three_class(np.array([[0, 1, 1, 1, 1, 1, 0]] * 5), width=2)[2]
    array([0, 2, 2, 1, 2, 2, 0], dtype=uint8)
    """
    if width < 1:
        raise ValueError(f"the boundary width must be at least 1 pixel, got {width}")
    labels = np.asarray(labels)
    # The largest and smallest label within `width` steps: `width` rounds of the four
    # neighbours' (a diamond, by slicing: several times faster than a footprint filter).
    # Beyond the image's edge counts as the same cell (a cell cut by the edge has no
    # boundary there), as with skimage.segmentation.find_boundaries.
    highest, lowest = labels, labels
    for _ in range(width):
        highest, lowest = _cross_extreme(highest, np.maximum), _cross_extreme(lowest, np.minimum)
    target = (labels > 0).astype(np.uint8) * INTERIOR
    target[(highest != lowest) & (labels > 0)] = BOUNDARY
    return target


def contacts(labels: np.ndarray) -> np.ndarray:
    """Where cells touch: the (row, column) of every cell pixel with a pixel of another
    cell among its four neighbours, shape ``(n, 2)``, in row-major order.

    Examples
    --------
    >>> contacts(np.array([[1, 1, 2, 0, 3]]))
    array([[0, 1],
           [0, 2]])
    """
    labels = np.asarray(labels).astype(np.int64)
    # Background counts as larger than every label for the smallest neighbour, as zero
    # for the largest, so that only other cells differ.
    lowest = _cross_extreme(np.where(labels > 0, labels, np.iinfo(np.int64).max), np.minimum)
    highest = _cross_extreme(labels, np.maximum)
    touching = (labels > 0) & ((highest > labels) | (lowest < labels))
    return np.argwhere(touching)


def _cross_extreme(values: np.ndarray, extreme) -> np.ndarray:
    """``extreme`` (np.maximum or np.minimum) of each pixel and its four neighbours, the
    image's edge pixels repeated beyond it."""
    result = values.copy()
    extreme(result[1:], values[:-1], out=result[1:])
    extreme(result[:-1], values[1:], out=result[:-1])
    extreme(result[:, 1:], values[:, :-1], out=result[:, 1:])
    extreme(result[:, :-1], values[:, 1:], out=result[:, :-1])
    return result


def distance_map(labels: np.ndarray, *, normalise: bool = True) -> np.ndarray:
    """Each cell pixel's Euclidean distance to the nearest pixel outside its cell (float32).

    With ``normalise`` each cell is scaled so its deepest pixel is 1, which puts small and
    large cells on one scale; background is 0.

    Examples
    --------
    >>> cell = np.zeros((7, 7), int); cell[1:6, 1:6] = 1
    >>> distance_map(cell, normalise=False)[3]
    array([0., 1., 2., 3., 2., 1., 0.], dtype=float32)
    """
    labels = np.asarray(labels)
    distance = np.zeros(labels.shape, dtype=np.float32)
    for cell, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        padded_box = tuple(slice(max(part.start - 1, 0), part.stop + 1) for part in box)
        inside = labels[padded_box] == cell
        # Pad so that a cell cut by the image edge is measured as if it ended there.
        local = ndi.distance_transform_edt(np.pad(inside, 1))[1:-1, 1:-1]
        if normalise and local.max() > 0:
            local = local / local.max()
        distance[padded_box][inside] = local[inside]
    return distance


def centre_offsets(labels: np.ndarray) -> np.ndarray:
    """Each cell pixel's offset from its cell's centre, per axis, scaled to -1..1 (float32).

    Channel 0 is horizontal (column minus the centre's column), channel 1 vertical (row
    minus the centre's row); each cell's offsets are divided by their largest magnitude on
    that axis, so every cell spans -1 to 1 whatever its size. These are the horizontal and
    vertical maps of HoVer-Net (Graham et al., Medical Image Analysis 58, 2019): where two
    cells touch, the maps jump from +1 to -1, which prediction turns into a cut between
    them. Background is 0.

    Examples
    --------
    >>> cells = np.array([[1, 1, 1, 2, 2, 2, 2, 2]])
    >>> centre_offsets(cells)[0, :, 0]
    array([-1. ,  0. ,  1. , -1. , -0.5,  0. ,  0.5,  1. ], dtype=float32)
    """
    labels = np.asarray(labels)
    flat = labels.ravel()
    inside = np.flatnonzero(flat)
    cells = flat[inside]
    pixels = np.bincount(cells, minlength=1)
    rows, columns = np.divmod(inside, labels.shape[1])
    offsets = np.zeros((2, flat.size), dtype=np.float32)
    for channel, positions in ((0, columns), (1, rows)):
        centres = np.bincount(cells, weights=positions, minlength=pixels.size)
        centred = positions - centres[cells] / np.maximum(pixels[cells], 1)
        largest = np.zeros(pixels.size)
        np.maximum.at(largest, cells, np.abs(centred))
        offsets[channel, inside] = centred / np.where(largest > 0, largest, 1)[cells]
    return np.moveaxis(offsets.reshape((2,) + labels.shape), 0, -1).copy()
