"""Training targets made from instance labels: mask, three classes, distance map."""

import numpy as np
from scipy import ndimage as ndi

#: Target kinds that `make_target` builds, besides the labels themselves.
TARGETS = ("mask", "3class", "distance")

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
    from skimage.morphology import diamond

    if width < 1:
        raise ValueError(f"the boundary width must be at least 1 pixel, got {width}")
    labels = np.asarray(labels)
    reach = diamond(width).astype(bool)
    # Beyond the image's edge counts as the same cell (a cell cut by the edge has no
    # boundary there), as with skimage.segmentation.find_boundaries.
    highest = ndi.maximum_filter(labels, footprint=reach, mode="nearest")
    lowest = ndi.minimum_filter(labels, footprint=reach, mode="nearest")
    target = (labels > 0).astype(np.uint8) * INTERIOR
    target[(highest != lowest) & (labels > 0)] = BOUNDARY
    return target


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


def make_target(labels: np.ndarray, kind: str) -> np.ndarray:
    """Build the ``kind`` target (one of `TARGETS`) from instance labels."""
    builders = {"mask": foreground_mask, "3class": three_class, "distance": distance_map}
    if kind not in builders:
        raise ValueError(f"target must be one of {TARGETS}, got {kind!r}")
    return builders[kind](labels)
