"""Draw cells: as the users' annotation layer, or over the image they were found in.

`outline_layer` draws each cell's outline in red on a transparent layer, the format the
users annotate in (`cellseg.preprocessing.outlines.outlines_to_labels` reads it back);
`draw_outlines` draws them over the image, for overlays and reports.
"""

from dataclasses import dataclass

import numpy as np

#: The annotation format's outline colour (RGB): users draw cells in red.
OUTLINE_RED = (255, 0, 0)


def outline_layer(labels: np.ndarray, *, colour=OUTLINE_RED) -> np.ndarray:
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


#: QuPath's colours (RGB) for its standard Positive and Negative classes.
POSITIVE_COLOUR, NEGATIVE_COLOUR = (200, 50, 50), (112, 112, 225)


@dataclass(frozen=True)
class OverlayStyle:
    """How cells are drawn over an image: outlines ``width`` pixels wide, in ``colour``, or
    positive and negative cells in two colours when cells are classified."""

    width: int = 2
    colour: tuple[int, int, int] = OUTLINE_RED
    positive: tuple[int, int, int] = POSITIVE_COLOUR
    negative: tuple[int, int, int] = NEGATIVE_COLOUR


def draw_outlines(
    image: np.ndarray,
    labels: np.ndarray,
    *,
    colour=OUTLINE_RED,
    width: int = 1,
    cell_colours: dict | None = None,
) -> np.ndarray:
    """The image as 8-bit RGB with each cell's outline drawn over it.

    Parameters
    ----------
    image : ndarray
        Any layout `cellseg.preprocessing.colour.as_rgb` takes.
    labels : ndarray of int
        0 background, one id per cell.
    colour : (r, g, b)
        The outlines' colour.
    width : int
        Pixels of the outline, from each cell's edge inward.
    cell_colours : dict, optional
        Cell id -> (r, g, b) for the cells drawn in another colour than ``colour``.

    Examples
    --------
    >>> labels = np.zeros((6, 6), int); labels[1:5, 1:5] = 1
    >>> draw_outlines(np.zeros((6, 6), np.uint8), labels)[2, 2]   # inside: not drawn
    array([0, 0, 0], dtype=uint8)
    >>> draw_outlines(np.zeros((6, 6), np.uint8), labels, width=2)[2, 2]
    array([255,   0,   0], dtype=uint8)
    """
    from scipy import ndimage as ndi
    from skimage.segmentation import find_boundaries

    from cellseg.preprocessing.colour import as_rgb

    overlay = np.clip(np.rint(as_rgb(image)), 0, 255).astype(np.uint8)
    labels = np.asarray(labels)
    drawn = find_boundaries(labels, mode="inner") & (labels > 0)
    if width > 1:  # the outline grown inward, never out of its cell
        inside = ndi.distance_transform_edt(~drawn, sampling=1) < width
        drawn = inside & (labels > 0)
    palette = np.empty((int(labels.max(initial=0)) + 1, 3), dtype=np.uint8)
    palette[:] = colour
    for cell, cell_colour in (cell_colours or {}).items():
        if 0 < cell < palette.shape[0]:
            palette[cell] = cell_colour
    overlay[drawn] = palette[labels[drawn]]
    return overlay


def style_colours(style: OverlayStyle, ids, positive) -> dict | None:
    """Cell id -> colour when cells are classified (``positive`` one flag per id), else None."""
    if positive is None:
        return None
    return {
        int(cell): style.positive if flag else style.negative
        for cell, flag in zip(ids, positive, strict=True)
    }
