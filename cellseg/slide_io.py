"""Read whole slides window by window; keep their regions' cells on disk; write label
pyramids tile by tile.

A slide source gives windows of a slide as uint8 (``read(top, left, bottom, right)``: RGB,
or grey for a grey slide), its ``shape`` (rows, columns), a picture of it many times
smaller (``low_resolution``, for the tissue mask) and ``close()``. `open_slide` chooses
one by the file's suffix, then its content: `TiffRegions` reads TIFF, BigTIFF and OME-TIFF
through tifffile's zarr store (only the tiles or strips a window touches);
`OpenSlideRegions` reads the scanners' formats through OpenSlide (`SLIDE_SUFFIXES`, and
TIFFs that tifffile cannot read); `ArrayRegions` an image already in memory. `RegionStore`
keeps each region's cells as they are found, so that a killed slide resumes where it
stopped, and `write_label_pyramid` writes the slide's labels as a tiled, pyramidal
OME-TIFF from bands of rows, never holding the slide.
"""

import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from cellseg.errors import CellsegError, file_error
from cellseg.image_io import SLIDE_SUFFIXES, is_tiff
from cellseg.image_limits import decoding
from cellseg.preprocessing.colour import significant_bits, to_8_bit

#: Tile side of the label TIFF, and the height of the bands of rows its labels come in.
LABEL_TILE = 256
#: Windows read at once when a level is shrunk to a low-resolution picture.
_BLOCK = 2048


class ArrayRegions:
    """Windows of an image already in memory; 16-bit data scaled to 8 bits by the whole
    image's bit depth (`cellseg.preprocessing.colour.to_8_bit`), so every window alike."""

    def __init__(self, image: np.ndarray):
        self.image = image
        self.shape = image.shape[:2]
        self.bits = significant_bits(image)

    def read(self, top: int, left: int, bottom: int, right: int) -> np.ndarray:
        return to_8_bit(self.image[top:bottom, left:right], self.bits)

    def low_resolution(self, downsample: int) -> np.ndarray:
        """The image shrunk ``downsample`` times (block means)."""
        return _shrunk(self.read, self.shape, downsample)

    def close(self) -> None:
        pass


class TiffRegions:
    """Windows of a (Big)TIFF or OME-TIFF, read lazily through tifffile's zarr store; 16-bit
    data scaled to 8 bits by the depth the file declares (``BitsPerSample``)."""

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
                self.level_shapes = [_rows_columns(level) for level in series.levels]
                page = tiff.pages[0]
                if page.photometric == tifffile.PHOTOMETRIC.SEPARATED:
                    raise file_error(self.path, "CMYK TIFF is not supported; convert it to RGB")
                self.bits = int(page.bitspersample)
            self.store = tifffile.imread(self.path, aszarr=True)
            array = zarr.open(self.store, mode="r")
            grouped = hasattr(array, "keys")  # a pyramid: one array per level
            self.levels = (
                [array[str(k)] for k in range(len(self.level_shapes))] if grouped else [array]
            )
        if self.axes not in ("YX", "YXS", "SYX", "CYX"):
            self.close()
            raise file_error(self.path, f"TIFF has axes {self.axes}; give one 2-D image per file")
        self.shape = self.level_shapes[0]

    def read(self, top: int, left: int, bottom: int, right: int, *, level: int = 0) -> np.ndarray:
        """The window's pixels; a damaged tile or strip is one line naming the file."""
        with decoding(self.path, "TIFF"):
            if self.axes in ("SYX", "CYX"):
                window = self.levels[level][:, top:bottom, left:right]
                window = np.moveaxis(np.asarray(window), 0, -1)
            else:
                window = np.asarray(self.levels[level][top:bottom, left:right])
        return to_8_bit(window, self.bits)

    def low_resolution(self, downsample: int) -> np.ndarray:
        """The slide shrunk about ``downsample`` times, from its smallest level that is
        at least that sharp."""
        factors = [self.shape[1] / shape[1] for shape in self.level_shapes]
        level = max(k for k, factor in enumerate(factors) if factor <= downsample * 1.01)
        rest = max(1, round(downsample / factors[level]))
        return _shrunk(
            lambda *window: self.read(*window, level=level), self.level_shapes[level], rest
        )

    def close(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            store.close()


class OpenSlideRegions:
    """Windows of a slide in a scanner's format (Aperio SVS, Hamamatsu NDPI, MIRAX, DICOM,
    Leica, Philips, Ventana...), read through OpenSlide; what the scanner left empty is
    its background colour (white)."""

    def __init__(self, path):
        import openslide

        self.path = Path(path)
        self.errors = (openslide.OpenSlideError, OSError, ValueError)
        try:
            self.slide = openslide.OpenSlide(self.path)
        except self.errors as error:
            kind = "not a slide OpenSlide can read" if not is_tiff(self.path) else "unreadable"
            raise file_error(self.path, f"{kind} ({_first_line(error)})") from None
        columns, rows = self.slide.dimensions
        self.shape = (rows, columns)
        colour = self.slide.properties.get(openslide.PROPERTY_NAME_BACKGROUND_COLOR) or "FFFFFF"
        self.background = np.array([int(colour[i : i + 2], 16) for i in (0, 2, 4)], np.uint8)

    def read(self, top: int, left: int, bottom: int, right: int, *, level: int = 0) -> np.ndarray:
        """The window's pixels (in the level's own rows and columns)."""
        scale = self.slide.level_downsamples[level]
        try:
            region = self.slide.read_region(
                (round(left * scale), round(top * scale)), level, (right - left, bottom - top)
            )
        except self.errors as error:
            raise file_error(self.path, f"cannot read a region ({_first_line(error)})") from None
        pixels = np.asarray(region)
        rgb = np.ascontiguousarray(pixels[..., :3])
        rgb[pixels[..., 3] == 0] = self.background
        return rgb

    def low_resolution(self, downsample: int) -> np.ndarray:
        """The slide shrunk about ``downsample`` times, from OpenSlide's best level."""
        level = self.slide.get_best_level_for_downsample(downsample)
        columns, rows = self.slide.level_dimensions[level]
        rest = max(1, round(downsample / self.slide.level_downsamples[level]))
        return _shrunk(lambda *window: self.read(*window, level=level), (rows, columns), rest)

    def close(self) -> None:
        self.slide.close()


def open_slide(path):
    """The slide source for a file: `OpenSlideRegions` for the scanners' formats
    (`SLIDE_SUFFIXES`) and for TIFFs that tifffile cannot read but OpenSlide can;
    `TiffRegions` for other TIFFs; `ArrayRegions` for PNG and JPEG.

    Raises
    ------
    CellsegError
        One line naming the file, for a file neither library reads.
    """
    from cellseg.image_io import read_image

    path = Path(path)
    if not path.is_file():
        raise file_error(path, "no such file" if not path.exists() else "is not a file")
    if path.suffix.lower() in SLIDE_SUFFIXES:
        return OpenSlideRegions(path)
    if not is_tiff(path):
        return ArrayRegions(read_image(path))
    try:
        return TiffRegions(path)
    except CellsegError:
        import openslide

        if openslide.OpenSlide.detect_format(path) is None:
            raise
        return OpenSlideRegions(path)


def _rows_columns(series) -> tuple[int, int]:
    return series.shape[series.axes.index("Y")], series.shape[series.axes.index("X")]


def _shrunk(read, shape, factor: int) -> np.ndarray:
    """A level shrunk ``factor`` times by block means, read a block at a time; its channels
    as read (RGB, grey, grey and alpha...)."""
    rows, columns = shape
    result = None
    step = max(1, _BLOCK // factor) * factor
    for top in range(0, rows, step):
        for left in range(0, columns, step):
            block = read(top, left, min(top + step, rows), min(left + step, columns))
            block = block.reshape(*block.shape[:2], -1)
            high, wide = -(-block.shape[0] // factor), -(-block.shape[1] // factor)
            padding = ((0, high * factor - block.shape[0]), (0, wide * factor - block.shape[1]))
            block = np.pad(block, (*padding, (0, 0)), mode="edge")
            means = block.reshape(high, factor, wide, factor, -1).mean(axis=(1, 3))
            if result is None:
                result = np.zeros((-(-rows // factor), -(-columns // factor), means.shape[-1]))
            result[top // factor : top // factor + high, left // factor : left // factor + wide] = (
                means
            )
    picture = np.rint(result).astype(np.uint8)
    return picture[..., 0] if picture.shape[-1] == 1 else picture


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class RegionStore:
    """The regions of one slide found so far, one file each in a hidden folder beside the
    results (``.<stem>.regions/``), with what they were found with (``key``).

    A region's file holds the cells it owns (`CELL_COLUMNS`, ids 1..n of its own), their
    labels in the window read, cut in the bands of `LABEL_TILE` rows of the slide that the
    label TIFF is written in, and the cells' outlines when asked for. A store made with
    another key is emptied; `remove` deletes it once the slide's results are written.
    """

    def __init__(self, folder, key: dict):
        self.folder = Path(folder)
        key_file = self.folder / "key.json"
        text = json.dumps(key, sort_keys=True)
        if self.folder.is_dir() and (not key_file.is_file() or key_file.read_text() != text):
            shutil.rmtree(self.folder)
        self.folder.mkdir(exist_ok=True)
        if not key_file.is_file():
            key_file.write_text(text)

    def path(self, index: int) -> Path:
        return self.folder / f"region_{index:07d}.npz"

    def done(self) -> set[int]:
        """The regions whose file is there."""
        return {int(path.stem[7:]) for path in self.folder.glob("region_*.npz")}

    def add(self, index: int, window, labels: np.ndarray, cells: np.ndarray, rings=None) -> None:
        """Keep one region: its window (top, left, bottom, right), labels (its own ids) and
        cells (rows of `CELL_COLUMNS`); ``rings``, a list of (points, 2) arrays per cell."""
        top = window[0]
        dtype = np.uint16 if labels.max(initial=0) <= np.iinfo(np.uint16).max else np.uint32
        arrays = {"window": np.asarray(window, np.int64), "cells": cells}
        for band in range(top // LABEL_TILE, -(-window[2] // LABEL_TILE)):
            first, last = max(band * LABEL_TILE, top), min((band + 1) * LABEL_TILE, window[2])
            arrays[f"band{band}"] = labels[first - top : last - top].astype(dtype)
        if rings is not None:
            arrays["ring_ends"] = np.cumsum([len(ring) for ring in rings], dtype=np.int64)
            arrays["ring_points"] = np.concatenate([np.zeros((0, 2)), *rings]).astype(np.float32)
        handle, name = tempfile.mkstemp(prefix=".region.", suffix=".tmp", dir=self.folder)
        with os.fdopen(handle, "wb") as file:
            archive = zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
            for key, array in arrays.items():
                with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(array))
            archive.close()
        os.replace(name, self.path(index))

    def read(self, index: int, *names: str) -> list[np.ndarray]:
        """Some arrays of a region's file."""
        with np.load(self.path(index)) as arrays:
            return [arrays[name] for name in names]

    def label_bands(self, shape, offsets: dict[int, int]) -> Iterator[np.ndarray]:
        """The slide's labels in bands of `LABEL_TILE` rows, top to bottom, each cell
        numbered its region's offset plus its own id."""
        windows = {index: self.read(index, "window")[0] for index in offsets}
        rows, columns = shape
        for band in range(-(-rows // LABEL_TILE)):
            top = band * LABEL_TILE
            labels = np.zeros((min(LABEL_TILE, rows - top), columns), np.uint32)
            for index, (first, left, last, right) in windows.items():
                if first < top + LABEL_TILE and last > top:
                    (part,) = self.read(index, f"band{band}")
                    start = max(first - top, 0)
                    area = labels[start : start + part.shape[0], left:right]
                    np.copyto(area, part + np.uint32(offsets[index]), where=part > 0)
            yield labels

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def write_label_pyramid(
    path, shape, bands: Iterable[np.ndarray], *, pixel_size=None, name: str = "labels"
) -> None:
    """Write a slide's labels as a tiled, zlib-compressed 32-bit OME-TIFF pyramid.

    ``bands`` are the labels in bands of `LABEL_TILE` rows, top to bottom; each band is
    written as it comes, and kept halved (compressed, in a temporary file beside ``path``)
    for the next level, so that no level is ever held whole. Levels halve (nearest
    neighbour, as labels must) down to 1024 pixels or less, stored as SubIFDs; with the
    pixel size in micrometres, napari, QuPath and Fiji show them over the slide. The OME
    image is called ``name``, and its UUID follows from it: the same labels, the same file.
    """
    import uuid

    import tifffile

    shapes = [tuple(shape)]
    while max(shapes[-1]) > 4 * LABEL_TILE:
        shapes.append(tuple(-(-side // 2) for side in shapes[-1]))
    options = {
        "dtype": np.uint32,
        "tile": (LABEL_TILE, LABEL_TILE),
        "compression": "zlib",
        "photometric": "minisblack",
    }
    identity = uuid.uuid5(uuid.NAMESPACE_URL, f"cellseg:{name}:{shape}:{pixel_size}")
    metadata = {"axes": "YX", "Name": name, "UUID": f"urn:uuid:{identity}"}
    if pixel_size:
        metadata.update(PhysicalSizeX=pixel_size, PhysicalSizeY=pixel_size)
        metadata.update(PhysicalSizeXUnit="µm", PhysicalSizeYUnit="µm")
    with tempfile.TemporaryDirectory(prefix=".pyramid.", dir=Path(path).parent) as scratch:
        halves = [_Bands(Path(scratch) / f"level{k}") for k in range(1, len(shapes))]

        def tiles(level: int, source) -> Iterator[np.ndarray]:
            for band in source:
                if level < len(halves):
                    halves[level].append(band[::2, ::2])
                yield from _band_tiles(band, shapes[level][1])

        with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tiff:
            for level, level_shape in enumerate(shapes):
                source = bands if level == 0 else halves[level - 1].bands()
                resolution = None
                if pixel_size:
                    resolution = (1e4 / pixel_size / 2**level,) * 2
                tiff.write(
                    tiles(level, source),
                    shape=level_shape,
                    subifds=len(shapes) - 1 if level == 0 else None,
                    subfiletype=1 if level else 0,
                    metadata=metadata if level == 0 else None,
                    resolution=resolution,
                    resolutionunit="CENTIMETER" if pixel_size else None,
                    **options,
                )
            for half in halves:
                half.close()


def _band_tiles(band: np.ndarray, columns: int) -> Iterator[bytes]:
    """A band's tiles, left to right (the last padded with zeros), zlib-compressed as the
    TIFF stores them; a tile of glass (most of a slide's) is compressed once for all."""
    for column in range(0, columns, LABEL_TILE):
        part = band[:, column : column + LABEL_TILE]
        if not part.any():
            yield _EMPTY_TILE
            continue
        tile = np.zeros((LABEL_TILE, LABEL_TILE), np.uint32)
        tile[: part.shape[0], : part.shape[1]] = part
        yield zlib.compress(tile, _TILE_LEVEL)


_TILE_LEVEL = 6  #: zlib's level for the label TIFF's tiles, as tifffile's ``zlib``
_EMPTY_TILE = zlib.compress(bytes(4 * LABEL_TILE * LABEL_TILE), _TILE_LEVEL)


class _Bands:
    """Bands of a level appended as they come, compressed in a file (a band of glass, with
    no cell, not stored at all), read back in bands of `LABEL_TILE` rows."""

    def __init__(self, path: Path):
        self.file = open(path, "w+b")
        self.pieces: list[tuple[int, int, tuple]] = []

    def append(self, band: np.ndarray) -> None:
        band = np.ascontiguousarray(band)
        data = zlib.compress(band, 1) if band.any() else b""
        self.pieces.append((self.file.tell(), len(data), band.shape))
        self.file.write(data)

    def bands(self) -> Iterator[np.ndarray]:
        held = []
        for offset, size, shape in self.pieces:
            if size:
                self.file.seek(offset)
                piece = np.frombuffer(zlib.decompress(self.file.read(size)), np.uint32)
                held.append(piece.reshape(shape))
            else:
                held.append(np.zeros(shape, np.uint32))
            if sum(part.shape[0] for part in held) >= LABEL_TILE:
                band = np.concatenate(held)
                yield band[:LABEL_TILE]
                held = [band[LABEL_TILE:]] if band.shape[0] > LABEL_TILE else []
        if held:
            yield np.concatenate(held)

    def close(self) -> None:
        self.file.close()
