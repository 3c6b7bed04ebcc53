"""Predict images too large to hold in memory (whole slides), region by region.

The slide is cut into square regions of `REGION` pixels. Each is read from the file with a
`HALO` of context around it (TIFFs are read lazily, only the tiles or strips a region
touches), its cells are found, and a cell belongs to the region that holds its centroid.
The halo is wider than any nucleus, so a region sees its cells whole: none is cut, none is
counted twice. Neither the slide, nor the network's output, nor the labels are ever held
whole: labels are painted into horizontal strips one region tall, and a strip goes to the
tiled label TIFF as soon as no later region can reach it (at most four strips are held).
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from math import isqrt
from pathlib import Path

import numpy as np

from cellseg.errors import file_error
from cellseg.neural_network.prediction import WHOLE_IMAGE_PIXELS

#: Context read around each region; wider than any cell.
HALO = 128
#: Tile side of the label TIFF.
TILE = 256
#: Side of a region, in pixels, a multiple of `TILE` (1792). With its halo a region is the
#: largest image the network takes in one piece (`WHOLE_IMAGE_PIXELS`), so its output is
#: never tiled and stitched: 10% faster than regions of 2048 pixels, for the same peak memory.
REGION = (isqrt(WHOLE_IMAGE_PIXELS) - 2 * HALO) // TILE * TILE
#: Images above this many pixels are predicted region by region.
REGION_MODE_PIXELS = 25_000_000


class ArrayRegions:
    """Windows of an image already in memory."""

    def __init__(self, image: np.ndarray):
        self.image = image
        self.shape = image.shape[:2]

    def read(self, top: int, left: int, bottom: int, right: int) -> np.ndarray:
        return self.image[top:bottom, left:right]

    def close(self) -> None:
        pass


class TiffRegions:
    """Windows of a (Big)TIFF, read lazily through tifffile's zarr store."""

    def __init__(self, path):
        import tifffile
        import zarr

        self.path = Path(path)
        try:
            with tifffile.TiffFile(self.path) as tiff:
                series = tiff.series[0]
                self.axes = series.axes
                shape = series.shape
                if tiff.pages[0].photometric == tifffile.PHOTOMETRIC.SEPARATED:
                    raise file_error(self.path, "CMYK TIFF is not supported; convert it to RGB")
            self.store = tifffile.imread(self.path, aszarr=True)
            array = zarr.open(self.store, mode="r")
            self.array = array["0"] if hasattr(array, "keys") else array  # pyramid: level 0
        except (tifffile.TiffFileError, ValueError, OSError, KeyError) as error:
            raise file_error(self.path, f"unreadable TIFF ({error})") from None
        if self.axes not in ("YX", "YXS", "SYX", "CYX"):
            raise file_error(self.path, f"TIFF has axes {self.axes}; give one 2-D image per file")
        self.shape = (shape[self.axes.index("Y")], shape[self.axes.index("X")])

    def read(self, top: int, left: int, bottom: int, right: int) -> np.ndarray:
        if self.axes in ("SYX", "CYX"):
            return np.moveaxis(np.asarray(self.array[:, top:bottom, left:right]), 0, -1)
        return np.asarray(self.array[top:bottom, left:right])

    def close(self) -> None:
        self.store.close()


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


def region_cells(
    model,
    config: dict,
    source,
    *,
    progress=None,
    scale: float | str = 1.0,
    known: ScaledRegion | None = None,
) -> Iterator[RegionCells]:
    """Find the cells of a large image region by region; ids are numbered across the slide.

    ``progress``, if given, is called once per region; ``scale`` is `segment`'s, ``"auto"``
    chosen once for the whole slide (`slide_scale`), so that every region is found at the
    same scale. ``known``, `slide_scale`'s answer, gives the cells of the region the scale
    was chosen on, so that region is not found twice.
    """
    from cellseg.neural_network.prediction import AUTO, segment
    from cellseg.postprocessing.measurements import measure_cells

    rows, columns = source.shape
    if scale == AUTO:
        known = slide_scale(model, config, source)
        scale = known.scale
    next_id = 1
    for row_index, top in enumerate(range(0, rows, REGION)):
        for left in range(0, columns, REGION):
            bottom, right = min(top + REGION, rows), min(left + REGION, columns)
            window = _window(top, left, source.shape)
            image = source.read(*window)
            if known is not None and (known.top, known.left) == window[:2]:
                labels = known.labels
            else:
                labels = segment(model, image, config, scale=scale)
            measured = measure_cells(image, labels)
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


def slide_scale(model, config: dict, source) -> ScaledRegion:
    """`segment`'s automatic scale for a whole slide, chosen on its central region.

    The region is the one of `region_cells` that holds the slide's centre, read with its
    halo, and its cells found at the chosen scale come back with it to be used again.
    """
    from cellseg.neural_network.prediction import AUTO, segment_at_scale

    rows, columns = source.shape
    top, left = rows // 2 // REGION * REGION, columns // 2 // REGION * REGION
    window = _window(top, left, source.shape)
    labels, scale = segment_at_scale(model, source.read(*window), config, AUTO)
    return ScaledRegion(scale, window[0], window[1], labels)


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


class LabelStrips:
    """Labels of the slide in horizontal strips one region tall, released as TIFF tiles."""

    def __init__(self, rows: int, columns: int):
        self.rows, self.columns = rows, columns
        self.strips: dict[int, np.ndarray] = {}
        self.released = 0  # strips before this one have been given out

    def paint(self, labels: np.ndarray, top: int, left: int) -> None:
        """Copy the non-zero pixels of a window of labels into the strips it covers."""
        for strip in range(top // REGION, (top + labels.shape[0] - 1) // REGION + 1):
            start = strip * REGION
            target = self._strip(strip)
            first, last = max(top, start), min(top + labels.shape[0], start + target.shape[0])
            window = labels[first - top : last - top]
            area = target[first - start : last - start, left : left + labels.shape[1]]
            np.copyto(area, window, where=window > 0)

    def tiles(self, *, before: int | None = None) -> Iterator[np.ndarray]:
        """Tiles of the strips numbered below ``before`` (all, by default), in TIFF order."""
        last = -(-self.rows // REGION) if before is None else before
        while self.released < last:
            strip = self.strips.pop(self.released, None)
            if strip is None:
                strip = np.zeros(self._strip_shape(self.released), dtype=np.uint32)
            for row in range(0, strip.shape[0], TILE):
                for column in range(0, self.columns, TILE):
                    tile = np.zeros((TILE, TILE), dtype=np.uint32)
                    part = strip[row : row + TILE, column : column + TILE]
                    tile[: part.shape[0], : part.shape[1]] = part
                    yield tile
            self.released += 1

    def _strip_shape(self, strip: int) -> tuple[int, int]:
        return (min(REGION, self.rows - strip * REGION), self.columns)

    def _strip(self, strip: int) -> np.ndarray:
        if strip not in self.strips:
            self.strips[strip] = np.zeros(self._strip_shape(strip), dtype=np.uint32)
        return self.strips[strip]


def write_label_tiff(path, shape, tiles: Iterator[np.ndarray]) -> None:
    """Write a tiled, compressed 32-bit BigTIFF of labels from tiles given in order."""
    import tifffile

    tifffile.imwrite(
        path,
        tiles,
        shape=shape,
        dtype=np.uint32,
        tile=(TILE, TILE),
        bigtiff=True,
        compression="zlib",
        photometric="minisblack",
    )
