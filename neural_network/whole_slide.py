"""Find the cells of images too large to hold in memory (whole slides), region by region.

The slide is cut into square regions of `REGION` of the network's pixels (the slide's
enlarged by its scale: 512 of a 20x slide's found at 2x). Each is read from its source
(`cellseg.slide_io`: only the tiles a window touches) with a `HALO` of context around it,
its cells are found, and a cell belongs to the region that holds its centroid, or lies
`SEAM_MARGIN` past its edges. The halo is wider than any nucleus, so a region sees its
cells whole: none is cut. Two regions' views of a nucleus on their seam differ a little,
and may put its centre on either side: within the margin both own it, and the region found
second leaves out the cells that overlap an earlier neighbour's (`without_earlier_cells`),
so none is counted twice or lost.

Only the tissue goes through the network: the slide's tissue is told from a picture of it
`TISSUE_DOWNSAMPLE` times smaller (`cellseg.preprocessing.tissue`), regions without any
are skipped, and the window read for the others is cut down to the tissue it holds (its
halo too), so a slide that is two thirds glass costs little more than a third of a full
one.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from math import ceil, floor

import numpy as np

from cellseg.neural_network.prediction import AUTO
from cellseg.slide_outputs import LABEL_TILE

#: Context read around each region, in the network's pixels: wider than any cell (16 um
#: at 0.25 um), and as much as the tiles of a large image share
#: (`cellseg.neural_network.prediction.TILE_OVERLAP`).
HALO = 64
#: Side of a region, in the network's pixels. With its halo a region goes through the
#: network in one piece, never tiled. Smaller pieces cost less a pixel on a CPU and hold
#: less memory, larger ones spend less on their halo: 1024 with a halo of 64 found a
#: 100-megapixel slide a tenth faster than 1792 with 128, in 0.6 of the memory, and cuts a
#: slide's tissue out more closely; at a 20x slide's scale of 2, regions of 512 of its
#: pixels found it a fifth faster than 1024 (`benchmarks/whole_slide.py`).
REGION = 4 * LABEL_TILE
#: A region owns the cells whose centroid lies in it or up to this far past its edges (in
#: the network's pixels): two regions' views of a nucleus on their seam may put its centre
#: on either side of it, and a nucleus neither owned was lost. One both own is kept once,
#: by the first region (`seam_duplicates`).
SEAM_MARGIN = 8
#: The tissue is found on the slide shrunk this many times (8 um pixels at 40x), or fewer
#: (a power of 2) for a slide too small to give a picture of `TISSUE_PICTURE` pixels a side.
TISSUE_DOWNSAMPLE = 32
TISSUE_PICTURE = 64


@dataclass(frozen=True)
class Tissue:
    """Where a slide holds tissue: a mask of it at low resolution, and the slide's shape."""

    mask: np.ndarray
    shape: tuple[int, int]

    @property
    def fraction(self) -> float:
        """The share of the slide that is tissue."""
        return float(self.mask.mean()) if self.mask.size else 0.0

    def box(self, top: int, left: int, bottom: int, right: int):
        """The smallest window within this one that holds all its tissue, in the slide's
        pixels (a mask pixel is tissue throughout); None without tissue."""
        row_step = self.shape[0] / self.mask.shape[0]
        column_step = self.shape[1] / self.mask.shape[1]
        first_row, first_column = floor(top / row_step), floor(left / column_step)
        part = self.mask[
            first_row : ceil(bottom / row_step), first_column : ceil(right / column_step)
        ]
        rows, columns = np.nonzero(part.any(axis=1))[0], np.nonzero(part.any(axis=0))[0]
        if not rows.size:
            return None
        return (
            max(top, floor((first_row + rows[0]) * row_step)),
            max(left, floor((first_column + columns[0]) * column_step)),
            min(bottom, ceil((first_row + rows[-1] + 1) * row_step)),
            min(right, ceil((first_column + columns[-1] + 1) * column_step)),
        )


def tissue_downsample(shape) -> int:
    """How many times smaller the picture the tissue is found on is than the slide.

    Examples
    --------
    >>> tissue_downsample((40_000, 60_000)), tissue_downsample((1500, 1800))
    (32, 16)
    >>> tissue_downsample((300, 280)), tissue_downsample((50, 50))
    (4, 1)
    """
    fits = max(1, min(shape) // TISSUE_PICTURE)
    return min(TISSUE_DOWNSAMPLE, 1 << (fits.bit_length() - 1))


def find_tissue(source) -> Tissue | None:
    """The tissue of a slide source (`cellseg.slide_io`), from its low-resolution picture;
    None for a slide whose tissue cannot be told from glass by its colour, a grey or a
    fluorescence one (`cellseg.preprocessing.colour.is_brightfield`): all of it is looked at.
    """
    from cellseg.preprocessing.colour import is_brightfield
    from cellseg.preprocessing.tissue import tissue_mask

    picture = source.low_resolution(tissue_downsample(source.shape))
    if picture.ndim != 3 or picture.shape[-1] < 3 or not is_brightfield(picture):
        return None
    return Tissue(tissue_mask(picture), tuple(source.shape))


@dataclass(frozen=True)
class Region:
    """One region: its number in the slide's order, the pixels it owns (the cells whose
    centroid they hold) and the window read for it (top, left, bottom, right)."""

    index: int
    top: int
    left: int
    bottom: int
    right: int
    window: tuple[int, int, int, int]


def region_sides(scale: float = 1.0, region: int | None = None, halo: int | None = None):
    """The side of a slide's regions and of their halo in the slide's own pixels, for
    the network's ``region`` and ``halo`` (by default `REGION` and `HALO`) at ``scale``.

    Examples
    --------
    >>> region_sides(1), region_sides(2), region_sides(0.5), region_sides(1.37)
    ((1024, 64), (512, 32), (2048, 128), (747, 47))
    >>> region_sides(2, region=768, halo=48)
    (384, 24)
    """
    region, halo = REGION if region is None else region, HALO if halo is None else halo
    return max(1, round(region / scale)), max(1, ceil(halo / scale))


def slide_regions(
    shape, tissue: Tissue | None = None, scale: float = 1.0, *, region=None, halo=None
) -> list[Region]:
    """The regions of a slide to go through the network at ``scale``, in order (row by
    row): all of them, or with a `Tissue`, those that hold tissue, their windows cut down
    to it. ``region`` and ``halo``: the network's, when not `REGION` and `HALO`
    (`region_sides`)."""
    rows, columns = shape
    side, halo = region_sides(scale, region, halo)
    regions = []
    for index, (top, left) in enumerate(
        (top, left) for top in range(0, rows, side) for left in range(0, columns, side)
    ):
        bottom, right = min(top + side, rows), min(left + side, columns)
        window = (max(top - halo, 0), max(left - halo, 0))
        window += (min(bottom + halo, rows), min(right + halo, columns))
        if tissue is not None:
            if tissue.box(top, left, bottom, right) is None:
                continue
            window = tissue.box(*window)
        regions.append(Region(index, top, left, bottom, right, window))
    return regions


def region_count(shape, scale: float = 1.0) -> int:
    """How many regions a slide is cut into at ``scale`` (with tissue or not)."""
    side = region_sides(scale)[0]
    return -(-shape[0] // side) * -(-shape[1] // side)


@dataclass(frozen=True)
class RegionCells:
    """The cells one region owns: their labels (ids 1..n of the region's own) in the window
    read (``region.window``), and their measurements, centroids in the slide's pixels."""

    region: Region
    labels: np.ndarray
    cells: list


def region_cells(
    model,
    source,
    regions: list[Region],
    *,
    scale: float = 1.0,
    skip=frozenset(),
    counterstain: float = 1.0,
) -> Iterator[RegionCells]:
    """Find the cells of a large image region by region, lazily.

    Parameters
    ----------
    model : cellseg.neural_network.model.TrainedModel
    source : a slide source (`cellseg.slide_io`)
        Anything with a ``shape`` (rows, columns) and ``read(top, left, bottom, right)``.
    regions : list of Region
        `slide_regions`' answer.
    scale : float
        The enlargement before the network, the same for every region.
    skip : set of int
        The numbers of regions already found (a killed slide's), left out.
    counterstain : float
        How much every region's haematoxylin is strengthened before the network, the same
        for the whole slide (`plan_slide`).
    """
    from cellseg.postprocessing.measurements import measure_cells

    margin = SEAM_MARGIN / scale
    for region in regions:
        if region.index in skip:
            continue
        image = source.read(*region.window)
        found = model.segment(image, scale=scale, counterstain=counterstain)
        labels, confidence = found.labels, found.confidence
        top, left = region.window[:2]
        lookup = np.zeros(int(labels.max()) + 1, dtype=np.uint32)
        owned = []
        for cell in measure_cells(image, labels, confidence):
            row, column = cell.centroid_row + top, cell.centroid_column + left
            if (
                region.top - margin <= row < region.bottom + margin
                and region.left - margin <= column < region.right + margin
            ):
                owned.append(
                    replace(cell, id=len(owned) + 1, centroid_row=row, centroid_column=column)
                )
                lookup[cell.id] = len(owned)
        yield RegionCells(region, lookup[labels], owned)


def seam_duplicates(window, labels: np.ndarray, earlier) -> set[int]:
    """The cells of a region (ids of ``labels``, its cells in its ``window``) that a region
    found before it owns too: overlapping one of its cells by half the smaller cell or
    more, their sizes taken where the two windows meet (which holds a nucleus on their
    seam whole, and is a tenth of a window to count). ``earlier``: the (window, labels) of
    regions found before.

    Examples
    --------
    >>> mine = np.array([[0, 1, 1, 2], [0, 1, 1, 2]])  # columns 10-13
    >>> theirs = np.array([[0, 3, 3], [0, 3, 3]])  # columns 9-11: 3 covers half of 1
    >>> seam_duplicates((0, 10, 2, 14), mine, [((0, 9, 2, 12), theirs)])
    {1}
    """
    top, left, bottom, right = window
    found = set()
    for (other_top, other_left, other_bottom, other_right), other in earlier:
        rows = slice(max(top, other_top), min(bottom, other_bottom))
        columns = slice(max(left, other_left), min(right, other_right))
        if rows.start >= rows.stop or columns.start >= columns.stop:
            continue
        mine = labels[
            rows.start - top : rows.stop - top, columns.start - left : columns.stop - left
        ]
        theirs = other[
            rows.start - other_top : rows.stop - other_top,
            columns.start - other_left : columns.stop - other_left,
        ]
        both = (mine > 0) & (theirs > 0)
        if not both.any():
            continue
        areas, other_areas = np.bincount(mine.ravel()), np.bincount(theirs.ravel())
        pairs, shared = np.unique(np.stack([mine[both], theirs[both]]), axis=1, return_counts=True)
        for (cell, twin), pixels in zip(pairs.T.tolist(), shared.tolist(), strict=True):
            if pixels >= 0.5 * min(areas[cell], other_areas[twin]):
                found.add(cell)
    return found


def without_cells(found: RegionCells, ids: set[int]) -> RegionCells:
    """``found`` without the cells ``ids``, the others numbered 1..n again in order."""
    if not ids:
        return found
    kept = [cell for cell in found.cells if cell.id not in ids]
    lookup = np.zeros(len(found.cells) + 1, dtype=np.uint32)
    lookup[[cell.id for cell in kept]] = np.arange(1, len(kept) + 1, dtype=np.uint32)
    cells = [replace(cell, id=index) for index, cell in enumerate(kept, start=1)]
    return RegionCells(found.region, lookup[found.labels], cells)


def earlier_neighbours(index: int, shape, scale: float = 1.0) -> list[int]:
    """The numbers of the regions found before region ``index`` of a slide of ``shape``
    whose windows meet its own: left of it, and the three above it.

    Examples
    --------
    >>> earlier_neighbours(4, (3000, 3000)), earlier_neighbours(3, (3000, 3000))
    ([3, 0, 1, 2], [0, 1])
    """
    columns = -(-shape[1] // region_sides(scale)[0])
    row, column = divmod(index, columns)
    near = ((row, column - 1), (row - 1, column - 1), (row - 1, column), (row - 1, column + 1))
    return [r * columns + c for r, c in near if r >= 0 and 0 <= c < columns]


def without_earlier_cells(found: RegionCells, shape, scale: float, earlier) -> RegionCells:
    """``found`` without the cells that the regions found before it own too
    (`seam_duplicates`): ``earlier(index)`` gives a neighbour's (window, labels), None for
    one not found (glass, or not yet)."""
    neighbours = [earlier(index) for index in earlier_neighbours(found.region.index, shape, scale)]
    present = [neighbour for neighbour in neighbours if neighbour is not None]
    return without_cells(found, seam_duplicates(found.region.window, found.labels, present))


def once_each(
    found: Iterator[RegionCells], shape, scale: float = 1.0, earlier=None
) -> Iterator[RegionCells]:
    """The regions' cells, a nucleus that two regions own kept by the first
    (`without_earlier_cells`): ``earlier(index)`` gives the window and labels of a region
    found before (a killed slide's, kept on disk); without it, those of the regions found
    here, held in memory."""
    held = {}
    for region in found:
        region = without_earlier_cells(region, shape, scale, earlier or held.get)
        if earlier is None:
            held[region.region.index] = (region.region.window, region.labels)
        yield region


def central_region(shape, regions: list[Region]) -> Region:
    """The region holding the slide's centre, or, when that one has no tissue (is not
    among ``regions``), the nearest that has."""
    rows, columns = shape

    def distance(region: Region):
        holds = (
            region.top <= rows // 2 < region.bottom and region.left <= columns // 2 < region.right
        )
        centre = (
            (region.top + region.bottom) / 2 - rows / 2,
            (region.left + region.right) / 2 - columns / 2,
        )
        return (not holds, np.hypot(*centre))

    return min(regions, key=distance)


def plan_slide(model, source, tissue_only: bool, scale):
    """What a slide's prediction starts from, all told from its `central_region` at full
    resolution (the low-resolution picture blurs nuclei away): its `Tissue` (None when not
    looked for), how much its haematoxylin is strengthened
    (`cellseg.preprocessing.colour.counterstain_factor`, 1 for none), the scale (``scale``,
    or for ``"auto"`` the one `TrainedModel.image_settings` chooses there; 1 for a slide
    without tissue), and the regions that go through the network at that scale."""
    tissue = find_tissue(source) if tissue_only else None
    regions = slide_regions(source.shape, tissue)
    counterstain, chosen = 1.0, 1.0 if scale == AUTO else float(scale)
    if regions and (scale == AUTO or model.config.haematoxylin):
        image = source.read(*central_region(source.shape, regions).window)
        counterstain, chosen = model.image_settings(image, scale)
    scale = chosen
    if scale != 1:
        regions = slide_regions(source.shape, tissue, scale)
    return tissue, regions, scale, counterstain


def whole_labels(shape, found: Iterator[RegionCells]) -> np.ndarray:
    """The regions' labels in one array of the slide's size, numbered 1..N region after
    region."""
    labels = np.zeros(shape, dtype=np.uint32)
    first = 0
    for region in found:
        top, left, bottom, right = region.region.window
        cells = region.labels + np.uint32(first)
        np.copyto(labels[top:bottom, left:right], cells, where=region.labels > 0)
        first += len(region.cells)
    return labels
