"""Draw cells: as the users' annotation layer, or over the image they were found in.

`outline_layer` draws each cell's outline in red on a transparent layer, the format the
users annotate in (`cellseg.preprocessing.outlines.outlines_to_labels` reads it back);
`draw_outlines` draws them over the image, for overlays and reports.
"""

import numpy as np


def outline_layer(labels: np.ndarray, *, colour=(255, 0, 0)) -> np.ndarray:
    """Draw each cell's outline on a transparent layer: the users' annotation format.

    The outline is each cell's inner boundary (its pixels with a 4-neighbour outside it),
    so `outlines_to_labels` gives the labels back.

    Returns
    -------
    ndarray of uint8, shape (rows, columns, 4)
        Transparent (0, 0, 0, 0) except opaque ``colour`` on the outlines.
    """
    from skimage.segmentation import find_boundaries

    labels = np.asarray(labels)
    drawn = find_boundaries(labels, mode="inner") & (labels > 0)
    layer = np.zeros(labels.shape + (4,), dtype=np.uint8)
    layer[drawn] = (*colour, 255)
    return layer


def draw_outlines(image: np.ndarray, labels: np.ndarray, *, colour=(255, 0, 0)) -> np.ndarray:
    """The image as 8-bit RGB with each cell's outline drawn over it in ``colour``.

    Examples
    --------
    >>> labels = np.zeros((4, 4), int); labels[1:3, 1:3] = 1
    >>> draw_outlines(np.zeros((4, 4), np.uint8), labels)[1, 1]
    array([255,   0,   0], dtype=uint8)
    """
    from skimage.segmentation import find_boundaries

    from cellseg.preprocessing.colour import as_rgb

    overlay = np.clip(np.rint(as_rgb(image)), 0, 255).astype(np.uint8)
    labels = np.asarray(labels)
    overlay[find_boundaries(labels, mode="inner") & (labels > 0)] = colour
    return overlay
