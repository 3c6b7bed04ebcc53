"""Keep a slide's cells on disk as its regions are found; write its labels as a pyramid.

`RegionStore` keeps each region's cells as they are found (`cellseg.slide_io` reads the
regions), so that a killed slide resumes where it stopped, and `write_label_pyramid` writes
the slide's labels as a tiled, pyramidal OME-TIFF from bands of rows, never holding the
slide.
"""

import glob
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

#: Tile side of the label TIFF, and the height of the bands of rows its labels come in.
LABEL_TILE = 256


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

    def region_labels(self, index: int) -> tuple[tuple[int, ...], np.ndarray] | None:
        """A region's window and its labels in it (its own ids); None for a region not
        found (yet, or without tissue)."""
        if not self.path(index).is_file():
            return None
        with np.load(self.path(index)) as arrays:
            window = tuple(int(value) for value in arrays["window"])
            bands = sorted((key for key in arrays.files if key.startswith("band")), key=_band)
            return window, np.concatenate([arrays[key] for key in bands])

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


def _band(key: str) -> int:
    return int(key.removeprefix("band"))


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
    prefix = f".pyramid.{name}."  # a killed run's (kill -9 leaves it) is removed here
    for stale in Path(path).parent.glob(f"{glob.escape(prefix)}*"):
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=Path(path).parent) as scratch:
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
