"""Red-outline annotations: find the outline pixels, and turn closed outlines into cells.

The users draw a red outline around each cell on a transparent layer. `outline_mask`
finds those pixels; `outlines_to_labels` turns them into instance labels, one id per cell.
The way back, cells drawn as such a layer, is `cellseg.postprocessing.drawing.outline_layer`.

How cells are found
-------------------
1. Small gaps in the outline (one or two missing pixels) are closed by thickening the
   outline by one pixel; the regions left between the thickened lines are *seeds*.
   Each seed then grows back over the original (thin) line's free pixels, so gaps are
   split between the regions on either side of them.
2. A region is either a cell interior or background. A one-pixel outline always has a cell
   on one side and background on the other, so the regions are 2-coloured along the
   outline pixels that touch two of them; touching cells do not count, as each brings its
   own line. In each connected group the colour whose regions enclose holes (background
   surrounds cells; cells rarely surround anything) is background.
3. A region that the thickening cut in two at a narrow waist is one cell again: cell
   regions of one original enclosed area, or meeting each other without an outline in
   between, are merged.
4. Outline pixels belong to the nearest cell; outline pieces touching no cell (cells a few
   pixels wide) become cells of their own, and pieces under 15 pixels that touch a cell
   (a thin part of it that pinched off a loop of its own) join it. A long thin piece that
   touches no cell is an outline left open: it is left out, with an `OpenOutlineWarning`.

Outlines three or more pixels wide (drawn by hand) are first thinned to their centre line.
Two-pixel lines are read as they are: each side then has its own line, as touching cells do.
"""

import warnings

import numpy as np
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from cellseg.preprocessing.region_colouring import cell_regions

_FOUR = ndi.generate_binary_structure(2, 1)
_EIGHT = np.ones((3, 3), dtype=bool)

#: Colour channels that `outline_mask` can select.
CHANNELS = {"red": 0, "green": 1, "blue": 2}

#: An outline is thick (drawn by hand) when more than this fraction of its pixels have all
#: four neighbours on it: real one-pixel annotations have 0.013 at most, 3-pixel lines 0.47.
_SOLID_FRACTION = 0.25

#: Outline pixels farther than this from every cell interior are grouped into cells of their own.
_OUTLINE_REACH = 2.5

#: A piece smaller than this many pixels that touches a cell is part of that cell (real
#: cells this small are all but absent from MoNuSeg and DSB 2018 annotations).
_FRAGMENT_PIXELS = 15

#: Pieces meeting along a seam are one cell unless a double wall longer than this many
#: pixels per seam pixel separates them too.
_WALL_PER_SEAM = 3

#: A line of outline longer than this that encloses nothing is an outline left open, not a
#: cell: a closed outline this long encloses an area of its own.
_ARC_PIXELS = 24


class OpenOutlineWarning(UserWarning):
    """Outlines that enclose no area (drawn open, or with a gap wider than two pixels) were
    left out; ``count`` of them, the first at pixel ``first`` (row, column)."""

    def __init__(self, message: str, *, count: int = 0, first=(0, 0)):
        super().__init__(message)
        self.count, self.first = count, first


def outline_mask(
    annotation: np.ndarray,
    *,
    channel: str = "red",
    threshold: int = 128,
    alpha_threshold: int = 128,
) -> np.ndarray:
    """Find the outline pixels of an annotation layer.

    A pixel is on the outline when it is opaque enough and the chosen colour channel
    dominates it: that channel at or above ``threshold`` and the two others below it.

    Parameters
    ----------
    annotation : ndarray, shape (rows, columns, 3 or 4)
        RGB or RGBA annotation, uint8 or uint16 (16-bit values are scaled to 8 bits).
    channel : {"red", "green", "blue"}
        The colour the outlines are drawn in.
    threshold : int
        Channel value (0-255) from which a pixel counts as drawn.
    alpha_threshold : int
        Opacity (0-255) from which a pixel counts as drawn; ignored for RGB.

    Returns
    -------
    ndarray of bool, shape (rows, columns)

    Examples
    --------
    >>> layer = np.zeros((1, 3, 4), np.uint8)
    >>> layer[0, 0] = (255, 0, 0, 255)     # red, opaque
    >>> layer[0, 1] = (255, 0, 0, 0)       # red, transparent
    >>> layer[0, 2] = (255, 255, 255, 255) # white
    >>> outline_mask(layer)
    array([[ True, False, False]])
    """
    if annotation.ndim != 3 or annotation.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB or RGBA annotation, got shape {annotation.shape}")
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {sorted(CHANNELS)}, got {channel!r}")
    values = annotation
    if annotation.dtype == np.uint16:
        values = (annotation >> 8).astype(np.uint8)
    elif annotation.dtype != np.uint8:
        raise ValueError(f"expected a uint8 or uint16 annotation, got {annotation.dtype}")
    chosen = CHANNELS[channel]
    others = [index for index in range(3) if index != chosen]
    drawn = values[:, :, chosen] >= threshold
    for other in others:
        drawn &= values[:, :, other] < threshold
    if values.shape[2] == 4:
        drawn &= values[:, :, 3] >= alpha_threshold
    return drawn


def outlines_to_labels(outline: np.ndarray) -> np.ndarray:
    """Turn an outline mask into instance labels, one id per enclosed cell.

    Parameters
    ----------
    outline : ndarray of bool, shape (rows, columns)
        The drawn outline pixels (see `outline_mask`). Lines may be one pixel or thicker;
        gaps of one or two pixels are closed. Cells cut by the image edge may be open there.

    Returns
    -------
    ndarray of int32, shape (rows, columns)
        0 for background, 1..N for the cells, numbered in raster order of their first pixel.
        Outline pixels belong to the cell they surround.

    Examples
    --------
    >>> outline = np.zeros((7, 12), bool)
    >>> outline[1:6, 1:6] = outline[1:6, 6:11] = True          # two touching squares...
    >>> outline[2:5, 2:5] = outline[2:5, 7:10] = False         # ...drawn as outlines
    >>> outlines_to_labels(outline)[3]
    array([0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 0], dtype=int32)
    """
    outline = np.asarray(outline, dtype=bool)
    if outline.ndim != 2:
        raise ValueError(f"expected a 2-D outline mask, got shape {outline.shape}")
    outline = _centre_line(outline)
    regions, count = _seed_regions(outline)
    is_cell = cell_regions(regions, count, outline)
    cells = _merge_split_cells(regions, count, outline, is_cell)
    cells = _claim_outline(cells, outline)
    cells = _merge_fragments(cells)
    return _sequential(cells)


def _centre_line(outline: np.ndarray) -> np.ndarray:
    """Thin a thick (hand-drawn) outline to its centre line; leave a thin one as it is."""
    from skimage.morphology import skeletonize

    if not outline.any():
        return outline
    # Only a line three or more pixels wide has pixels whose four neighbours are all on it;
    # one-pixel outlines, double walls between touching cells included, next to none.
    padded = np.pad(outline, 1)
    solid = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    thick = solid[outline].mean() > _SOLID_FRACTION
    return skeletonize(outline) if thick else outline


def _seed_regions(outline: np.ndarray) -> tuple[np.ndarray, int]:
    """Regions between the lines, with gaps of up to two pixels closed.

    Returns the region of every non-outline pixel (0 on the outline) and the region count.
    """
    from skimage.segmentation import watershed

    thick = ndi.binary_dilation(outline, structure=_EIGHT)
    seeds, count = ndi.label(~thick, structure=_FOUR)
    # Areas so narrow that thickening erased them keep a seed of their own.
    enclosed, enclosed_count = ndi.label(~outline, structure=_FOUR)
    seeded = np.zeros(enclosed_count + 1, dtype=bool)
    seeded[enclosed[seeds > 0]] = True
    seeded[0] = True
    narrow, narrow_count = ndi.label(~seeded[enclosed], structure=_FOUR)
    seeds[narrow > 0] = narrow[narrow > 0] + count
    count += narrow_count
    # A seed grows over the free pixels of the thin line only: through a gap, the seeds on
    # either side meet half way.
    regions = watershed(np.zeros(outline.shape, np.uint8), seeds, mask=~outline, connectivity=1)
    return regions, count


def _merge_split_cells(regions, count, outline, is_cell) -> np.ndarray:
    """Cell labels, with regions that the gap closing cut apart at a waist joined again.

    Two cell regions that meet with no line between them are one cell cut at a narrow
    waist, unless a long double wall (each cell's own line) also separates them: then they
    are two touching cells that a gap in that wall let meet.
    """
    cells = np.where(is_cell[regions], regions, 0)
    seams = _count_pairs(*_neighbour_pairs(cells))
    if not seams:
        return cells
    nearest_small, nearest_large = _cells_beside_outline(cells, outline)
    walls = _count_pairs(*_neighbour_pairs(nearest_large))
    for pair, length in _count_pairs(nearest_small, nearest_large).items():
        walls[pair] = walls.get(pair, 0) + length
    links = [
        pair for pair, seam in seams.items() if walls.get(pair, 0) < _WALL_PER_SEAM * (seam + 1)
    ]
    if not links:
        return cells
    links = np.array(links)
    graph = coo_matrix(
        (np.ones(len(links)), (links[:, 0], links[:, 1])), shape=(count + 1, count + 1)
    )
    _, component = connected_components(graph, directed=False)
    return np.where(cells > 0, component[cells] + 1, 0)


def _neighbour_pairs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values of every two 4-neighbouring pixels, as two flat arrays."""
    first = np.concatenate([labels[:-1].ravel(), labels[:, :-1].ravel()])
    second = np.concatenate([labels[1:].ravel(), labels[:, 1:].ravel()])
    return first, second


def _count_pairs(first: np.ndarray, second: np.ndarray) -> dict[tuple[int, int], int]:
    """How often each pair of different non-zero values occurs, as ``{(small, large): n}``."""
    keep = (first > 0) & (second > 0) & (first != second)
    pairs = np.stack([np.minimum(first, second)[keep], np.maximum(first, second)[keep]], axis=1)
    if len(pairs) == 0:
        return {}
    unique, counts = np.unique(pairs, axis=0, return_counts=True)
    return {(a, b): n for (a, b), n in zip(unique.tolist(), counts.tolist(), strict=True)}


def _cells_beside_outline(cells: np.ndarray, outline: np.ndarray):
    """For each outline pixel the smallest and largest cell id among its 4-neighbours (0: none)."""
    padded = np.pad(cells, 1)
    around = np.stack(
        [padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]], axis=0
    )
    largest = around.max(axis=0)
    smallest = np.where(around > 0, around, np.iinfo(around.dtype).max).min(axis=0)
    smallest = np.where(smallest == np.iinfo(around.dtype).max, 0, smallest)
    return np.where(outline, smallest, 0), np.where(outline, largest, 0)


def _claim_outline(cells: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """Give each outline pixel to the nearest cell; outline pieces touching none become cells."""
    cells = cells.copy()
    if not cells.any():
        distance = np.full(cells.shape, np.inf)
    else:
        distance, (nearest_row, nearest_column) = ndi.distance_transform_edt(
            cells == 0, return_indices=True
        )
    near = outline & (distance <= _OUTLINE_REACH)
    if near.any():
        cells[near] = cells[nearest_row[near], nearest_column[near]]
        # Farther outline pixels (spurs, slivers) join the cell their line runs into.
        from skimage.segmentation import watershed

        cells = watershed(
            np.zeros(cells.shape, np.uint8), cells, mask=outline | (cells > 0), connectivity=2
        )
    lone = outline & (cells == 0)
    pieces, count = ndi.label(lone, structure=_EIGHT)
    arcs = _open_arcs(pieces, count)
    if arcs.size:
        rows, columns = np.nonzero(np.isin(pieces, arcs))
        warnings.warn(
            OpenOutlineWarning(
                f"{arcs.size} outline{'s are' if arcs.size > 1 else ' is'} not closed and "
                f"enclose{'' if arcs.size > 1 else 's'} no cell (the first at row {rows[0]}, "
                f"column {columns[0]}): left out",
                count=int(arcs.size),
                first=(int(rows[0]), int(columns[0])),
            ),
            stacklevel=3,
        )
        pieces[np.isin(pieces, arcs)] = 0
        lone = pieces > 0
    cells[lone] = pieces[lone] + cells.max()
    return cells


def _open_arcs(pieces: np.ndarray, count: int) -> np.ndarray:
    """The pieces of outline that enclose nothing and are lines, not dots: open outlines.

    A cell a few pixels wide, drawn as a dot, is solid (its middle pixels have their four
    neighbours on it) or small; a line drawn around no area, or around one it does not
    close, is neither.
    """
    if count == 0:
        return np.zeros(0, dtype=int)
    padded = np.pad(pieces, 1)
    solid = (
        (padded[:-2, 1:-1] == pieces)
        & (padded[2:, 1:-1] == pieces)
        & (padded[1:-1, :-2] == pieces)
        & (padded[1:-1, 2:] == pieces)
        & (pieces > 0)
    )
    sizes = np.bincount(pieces.ravel(), minlength=count + 1)
    solids = np.bincount(pieces[solid], minlength=count + 1)
    ids = np.arange(count + 1)
    return ids[(ids > 0) & (solids == 0) & (sizes > _ARC_PIXELS)]


def _merge_fragments(cells: np.ndarray) -> np.ndarray:
    """Join pieces too small to be cells to the cell they touch most.

    A cell's thin part (two pixels wide, so all outline) can pinch a few interior pixels
    off into a loop of their own; such a piece touches its cell, while a small cell on
    its own touches none.
    """
    areas = np.bincount(cells.ravel())
    present = np.flatnonzero(areas[1:]) + 1
    small = present[areas[present] < _FRAGMENT_PIXELS]
    if small.size == 0:
        return cells
    first, second = _neighbour_pairs_eight(cells)
    keep = (first != second) & (first > 0) & (second > 0)
    first, second = first[keep], second[keep]
    lookup = np.arange(areas.size)
    for fragment in small:
        touching = np.concatenate([second[first == fragment], first[second == fragment]])
        if touching.size:
            ids, counts = np.unique(touching, return_counts=True)
            lookup[fragment] = ids[np.argmax(counts)]
    # A fragment may point at another fragment: follow the chain to a cell.
    for _ in range(small.size):
        followed = lookup[lookup]
        if np.array_equal(followed, lookup):
            break
        lookup = followed
    return lookup[cells]


def _neighbour_pairs_eight(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values of every two 8-neighbouring pixels, as two flat arrays."""
    first, second = _neighbour_pairs(labels)
    return (
        np.concatenate([first, labels[:-1, :-1].ravel(), labels[:-1, 1:].ravel()]),
        np.concatenate([second, labels[1:, 1:].ravel(), labels[1:, :-1].ravel()]),
    )


def _sequential(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 1..N in raster order of each label's first pixel."""
    flat = labels.ravel()
    ids, first = np.unique(flat, return_index=True)
    order = ids[np.argsort(first)]
    order = order[order != 0]
    lookup = np.zeros(int(flat.max()) + 1 if flat.size else 1, dtype=np.int32)
    lookup[order] = np.arange(1, order.size + 1, dtype=np.int32)
    return lookup[labels]
