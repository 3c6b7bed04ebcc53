"""Read images too large to hold (whole slides) window by window; write label TIFFs tile by
tile.

`ArrayRegions` and `TiffRegions` give windows of an image, the first of an array already in
memory, the second of a (Big)TIFF read lazily through tifffile's zarr store (only the tiles
or strips a window touches). `LabelStrips` and `write_label_tiff` write a slide's labels as
a tiled 32-bit TIFF while regions of it are found, holding a few strips at a time.
"""

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cellseg.errors import file_error
from cellseg.image_limits import decoding
from cellseg.preprocessing.colour import significant_bits, to_8_bit

#: Tile side of the label TIFF.
LABEL_TILE = 256


class ArrayRegions:
    """Windows of an image already in memory; 16-bit data scaled to 8 bits by the whole
    image's bit depth (`cellseg.preprocessing.colour.to_8_bit`), so every window alike."""

    def __init__(self, image: np.ndarray):
        self.image = image
        self.shape = image.shape[:2]
        self.bits = significant_bits(image)

    def read(self, top: int, left: int, bottom: int, right: int) -> np.ndarray:
        return to_8_bit(self.image[top:bottom, left:right], self.bits)

    def close(self) -> None:
        pass


class TiffRegions:
    """Windows of a (Big)TIFF, read lazily through tifffile's zarr store; 16-bit data scaled
    to 8 bits by the depth the file declares (``BitsPerSample``)."""

    def __init__(self, path):
        import tifffile
        import zarr

        self.path = Path(path)
        with decoding(self.path, "TIFF"):
            with tifffile.TiffFile(self.path) as tiff:
                if not tiff.series:
                    raise file_error(self.path, "TIFF holds no image")
                series = tiff.series[0]
                self.axes = series.axes
                shape = series.shape
                page = tiff.pages[0]
                if page.photometric == tifffile.PHOTOMETRIC.SEPARATED:
                    raise file_error(self.path, "CMYK TIFF is not supported; convert it to RGB")
                self.bits = int(page.bitspersample)
            self.store = tifffile.imread(self.path, aszarr=True)
            array = zarr.open(self.store, mode="r")
            self.array = array["0"] if hasattr(array, "keys") else array  # pyramid: level 0
        if self.axes not in ("YX", "YXS", "SYX", "CYX"):
            self.close()
            raise file_error(self.path, f"TIFF has axes {self.axes}; give one 2-D image per file")
        self.shape = (shape[self.axes.index("Y")], shape[self.axes.index("X")])

    def read(self, top: int, left: int, bottom: int, right: int) -> np.ndarray:
        """The window's pixels; a damaged tile or strip is one line naming the file."""
        with decoding(self.path, "TIFF"):
            if self.axes in ("SYX", "CYX"):
                window = np.moveaxis(np.asarray(self.array[:, top:bottom, left:right]), 0, -1)
            else:
                window = np.asarray(self.array[top:bottom, left:right])
        return to_8_bit(window, self.bits)

    def close(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            store.close()


class LabelStrips:
    """Labels of the slide in horizontal strips of ``strip_rows`` (a multiple of
    `LABEL_TILE`: the regions' height), released as TIFF tiles once no window can reach
    them."""

    def __init__(self, rows: int, columns: int, strip_rows: int):
        if strip_rows % LABEL_TILE:
            raise ValueError(f"strips of {strip_rows} rows are no whole number of tiles")
        self.rows, self.columns, self.strip_rows = rows, columns, strip_rows
        self.strips: dict[int, np.ndarray] = {}
        self.released = 0  # strips before this one have been given out

    def paint(self, labels: np.ndarray, top: int, left: int) -> None:
        """Copy the non-zero pixels of a window of labels into the strips it covers."""
        first_strip, last_strip = (
            top // self.strip_rows,
            (top + labels.shape[0] - 1) // self.strip_rows,
        )
        for strip in range(first_strip, last_strip + 1):
            start = strip * self.strip_rows
            target = self._strip(strip)
            first, last = max(top, start), min(top + labels.shape[0], start + target.shape[0])
            window = labels[first - top : last - top]
            area = target[first - start : last - start, left : left + labels.shape[1]]
            np.copyto(area, window, where=window > 0)

    def tiles(self, *, before: int | None = None) -> Iterator[np.ndarray]:
        """Tiles of the strips numbered below ``before`` (all, by default), in TIFF order."""
        last = -(-self.rows // self.strip_rows) if before is None else before
        while self.released < last:
            strip = self.strips.pop(self.released, None)
            if strip is None:
                strip = np.zeros(self._strip_shape(self.released), dtype=np.uint32)
            for row in range(0, strip.shape[0], LABEL_TILE):
                for column in range(0, self.columns, LABEL_TILE):
                    tile = np.zeros((LABEL_TILE, LABEL_TILE), dtype=np.uint32)
                    part = strip[row : row + LABEL_TILE, column : column + LABEL_TILE]
                    tile[: part.shape[0], : part.shape[1]] = part
                    yield tile
            self.released += 1

    def _strip_shape(self, strip: int) -> tuple[int, int]:
        return (min(self.strip_rows, self.rows - strip * self.strip_rows), self.columns)

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
        tile=(LABEL_TILE, LABEL_TILE),
        bigtiff=True,
        compression="zlib",
        photometric="minisblack",
    )
