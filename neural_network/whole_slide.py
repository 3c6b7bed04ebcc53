"""Find the cells of images too large to hold in memory (whole slides), region by region.

The slide is cut into square regions of `REGION` pixels. Each is read from its source
(`cellseg.slide_io`: TIFFs are read lazily, only the tiles or strips a region touches)
with a `HALO` of context around it, its cells are found, and a cell belongs to the region
that holds its centroid. The halo is wider than any nucleus, so a region sees its cells
whole: none is cut, none is counted twice. Regions come row by row, so the writers of the
results (`cellseg.prediction_files`) hold a few strips of labels at a time, never the slide.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from math import isqrt

import numpy as np

from cellseg.neural_network.prediction import AUTO, WHOLE_IMAGE_PIXELS
from cellseg.slide_io import LABEL_TILE

#: Context read around each region; wider than any cell.
HALO = 128
#: Side of a region, in pixels, a multiple of the label TIFF's tiles (1792). With its halo
#: a region is the largest image the network takes in one piece (`WHOLE_IMAGE_PIXELS`), so
#: its output is never tiled and stitched.
REGION = (isqrt(WHOLE_IMAGE_PIXELS) - 2 * HALO) // LABEL_TILE * LABEL_TILE


@dataclass(frozen=True)
class RegionCells:
    """The cells one region owns: their labels (global ids) in the window read, and where."""

    row_index: int
    top: int
    left: int
    labels: np.ndarray
    image: np.ndarray
    cells: list


@dataclass(frozen=True)
class ScaledRegion:
    """The scale `slide_scale` chose, and the cells of the region window it chose it on."""

    scale: float
    top: int
    left: int
    labels: np.ndarray
    confidence: np.ndarray | None = None


def region_cells(
    model,
    source,
    *,
    progress=None,
    scale: float = 1.0,
    known: ScaledRegion | None = None,
) -> Iterator[RegionCells]:
    """Find the cells of a large image region by region; ids are numbered across the slide.

    Parameters
    ----------
    model : cellseg.neural_network.model.TrainedModel
    source : ArrayRegions or TiffRegions
        Anything with a ``shape`` (rows, columns) and ``read(top, left, bottom, right)``.
    progress : callable, optional
        Called once per region.
    scale : float
        The enlargement before the network, the same for every region.
    known : ScaledRegion, optional
        `slide_scale`'s answer: the cells of the region the scale was chosen on, so that
        region is not found twice.
    """
    from cellseg.postprocessing.measurements import measure_cells

    rows, columns = source.shape
    next_id = 1
    for row_index, top in enumerate(range(0, rows, REGION)):
        for left in range(0, columns, REGION):
            bottom, right = min(top + REGION, rows), min(left + REGION, columns)
            window = _window(top, left, source.shape)
            image = source.read(*window)
            if known is not None and (known.top, known.left) == window[:2]:
                labels, confidence = known.labels, known.confidence
            else:
                found = model.segment(image, scale=scale)
                labels, confidence = found.labels, found.confidence
            measured = measure_cells(image, labels, confidence)
            lookup = np.zeros(int(labels.max()) + 1, dtype=np.uint32)
            owned = []
            for cell in measured:
                row = cell.centroid_row + window[0]
                column = cell.centroid_column + window[1]
                if top <= row < bottom and left <= column < right:
                    lookup[cell.id] = next_id
                    owned.append(
                        replace(cell, id=next_id, centroid_row=row, centroid_column=column)
                    )
                    next_id += 1
            yield RegionCells(row_index, window[0], window[1], lookup[labels], image, owned)
            if progress is not None:
                progress()


def slide_scale(model, source) -> ScaledRegion:
    """The automatic scale for a whole slide (`TrainedModel.segment`'s ``"auto"``), chosen
    on its central region.

    The region is the one of `region_cells` that holds the slide's centre, read with its
    halo, and its cells found at the chosen scale come back with it to be used again.
    """
    rows, columns = source.shape
    top, left = rows // 2 // REGION * REGION, columns // 2 // REGION * REGION
    window = _window(top, left, source.shape)
    found = model.segment(source.read(*window), scale=AUTO)
    return ScaledRegion(found.scale, window[0], window[1], found.labels, found.confidence)


def _window(top: int, left: int, shape) -> tuple[int, int, int, int]:
    """Top, left, bottom and right of the window read for the region at ``top``, ``left``:
    the region and its halo, within the slide."""
    rows, columns = shape
    return (
        max(top - HALO, 0),
        max(left - HALO, 0),
        min(top + REGION + HALO, rows),
        min(left + REGION + HALO, columns),
    )


def region_count(shape) -> int:
    """How many regions `region_cells` goes through."""
    return -(-shape[0] // REGION) * -(-shape[1] // REGION)
