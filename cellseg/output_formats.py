"""The files `cellseg predict` can write for an image's cells: one table of formats.

Each `OutputFormat` has two writers: one for an image held whole (`Cells`), which writes
its files at once, and one for a slide found region by region, which receives the regions
as they come (`add`) and moves its files into place at the end (`commit`), holding a few
strips of labels at a time, never the slide. Adding a format is one entry of `FORMATS`.

Per image ``<stem>``:

    png       <stem>_labels.png (16-bit; a 32-bit TIFF past 65,535 cells), the red
              outline layer <stem>_outlines.png and <stem>_overlay.png; slides: the
              labels as <stem>_labels.tif (no pictures of that size)
    tiff      <stem>_labels.tif, tiled 32-bit labels that napari and Fiji open
    geojson   <stem>.geojson, one polygon per cell with its measurements, for QuPath
"""

import json
import os
import queue
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cellseg.atomic_write import ordinary_mode, write_atomically, write_text_atomically
from cellseg.image_io import write_image
from cellseg.slide_io import LabelStrips, write_label_tiff

#: Images larger than this (pixels) get no outline and overlay PNGs: too large to be useful.
LARGEST_PICTURE = 50_000_000


@dataclass(frozen=True)
class ImageResult:
    """What the writers of an image held whole are given.

    Attributes
    ----------
    stem : str
        The image's file name without its suffix.
    cells : cellseg.neural_network.model.Cells
    measured : list of CellMeasurement
    marks : ndarray of bool or None
        One positive flag per measured cell, when a DAB threshold was given.
    overlay : OverlayStyle
    pixel_size : float or None
        Micrometres per pixel, when known.
    """

    stem: str
    cells: object
    measured: list
    marks: object
    overlay: object
    pixel_size: float | None = None


@dataclass(frozen=True)
class OutputFormat:
    """One kind of result file.

    Attributes
    ----------
    name : str
        As ``--format`` spells it.
    help : str
        One line for ``--help``.
    files : tuple of str
        The names of the files it may write, with ``{stem}`` for the image's stem.
    write_image : callable
        ``write_image(folder, result)``: the files of an image held whole (an
        `ImageResult`).
    slide_writer : callable
        ``slide_writer(folder, stem, shape, strip_rows, pixel_size)``: an object whose
        ``add(region, marks)`` takes each region of a slide in order, ``commit()`` moves the
        files into place and ``discard()`` removes what was begun.
    """

    name: str
    help: str
    files: tuple[str, ...]
    write_image: Callable
    slide_writer: Callable


def _write_png(folder: Path, result: ImageResult) -> None:
    from cellseg.postprocessing.drawing import draw_outlines, outline_layer, style_colours

    stem, cells, style = result.stem, result.cells, result.overlay
    labels = cells.labels
    wide = labels.max() > np.iinfo(np.uint16).max
    files = {
        f"{stem}_labels{'.tif' if wide else '.png'}": labels.astype(
            np.uint32 if wide else np.uint16
        )
    }
    if labels.size <= LARGEST_PICTURE:
        files[f"{stem}_outlines.png"] = outline_layer(labels)
        files[f"{stem}_overlay.png"] = draw_outlines(
            cells.image,
            labels,
            colour=style.colour,
            width=style.width,
            cell_colours=style_colours(style, [cell.id for cell in result.measured], result.marks),
        )
    for name, content in files.items():
        write_image(folder / name, content, overwrite=True)


def _write_tiff(folder: Path, result: ImageResult) -> None:
    labels = result.cells.labels.astype(np.uint32)
    write_image(folder / f"{result.stem}_labels.tif", labels, overwrite=True)


def _write_geojson(folder: Path, result: ImageResult) -> None:
    from cellseg.postprocessing.geojson import feature_collection

    collection = feature_collection(
        result.cells.labels, result.measured, result.marks, pixel_size=result.pixel_size
    )
    path = folder / f"{result.stem}.geojson"
    write_text_atomically(path, json.dumps(collection), overwrite=True)


class LabelTiffSlide:
    """A slide's labels streamed to ``<stem>_labels.tif`` as its regions come.

    tifffile takes the tiles from an iterator, so it runs on a thread of its own that is
    fed, through a short queue, the tiles of each strip as soon as no later region can
    reach them.
    """

    _END = object()

    def __init__(self, folder: Path, stem: str, shape, strip_rows: int, pixel_size=None):
        self.path = folder / f"{stem}_labels.tif"
        self.strips = LabelStrips(*shape, strip_rows)
        self.row_index = None
        self.tiles = queue.Queue(maxsize=64)
        self.failure = None
        self.ended = self.discarded = False
        self.thread = threading.Thread(
            target=self._write, args=(shape,), name=f"label TIFF {stem}", daemon=True
        )
        self.thread.start()

    def _queued_tiles(self):
        while (tile := self.tiles.get()) is not self._END:
            yield tile
        self.ended = True

    def _write(self, shape) -> None:
        def write(temporary):
            write_label_tiff(temporary, shape, self._queued_tiles())
            if self.discarded:  # never move a slide's unfinished labels into place
                raise RuntimeError("discarded")

        try:
            write_atomically(self.path, write, overwrite=True)
        except BaseException as error:  # reported by commit, on the caller's thread
            self.failure = error
            while not self.ended and self.tiles.get() is not self._END:
                pass  # let the regions' side finish
            self.ended = True

    def add(self, region, marks) -> None:
        if region.row_index != self.row_index:
            self.row_index = region.row_index
            self._send(self.strips.tiles(before=region.row_index - 1))  # out of reach now
        self.strips.paint(region.labels, region.top, region.left)

    def _send(self, tiles) -> None:
        for tile in tiles:
            if self.failure is not None:
                return
            self.tiles.put(tile)

    def commit(self) -> None:
        self._send(self.strips.tiles())
        self.tiles.put(self._END)
        self.thread.join()
        if self.failure is not None:
            raise self.failure

    def discard(self) -> None:
        self.discarded = True
        if self.thread.is_alive():
            self.tiles.put(self._END)
            self.thread.join()


class GeoJsonSlide:
    """A slide's cells streamed as GeoJSON features to a temporary file, moved into place
    by `commit` (so a crash leaves no half-written collection)."""

    def __init__(self, folder: Path, stem: str, shape, strip_rows: int, pixel_size=None):
        self.path = folder / f"{stem}.geojson"
        self.pixel_size = pixel_size
        handle, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        self.temporary = Path(name)
        self.file = open(handle, "w")
        self.file.write('{"type": "FeatureCollection", "features": [')
        self.first = True

    def add(self, region, marks) -> None:
        from cellseg.postprocessing.geojson import cell_features

        offset = (region.top, region.left)
        features = cell_features(
            region.labels, region.cells, marks, offset=offset, pixel_size=self.pixel_size
        )
        for feature in features:
            self.file.write(("" if self.first else ",\n") + json.dumps(feature))
            self.first = False

    def commit(self) -> None:
        self.file.write("]}\n")
        self.file.close()
        os.chmod(self.temporary, ordinary_mode())
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        self.temporary.unlink(missing_ok=True)


FORMATS: dict[str, OutputFormat] = {
    output.name: output
    for output in (
        OutputFormat(
            "png",
            "labels, red outlines and overlay as PNG (the default; slides: a label TIFF)",
            (
                "{stem}_labels.png",
                "{stem}_labels.tif",
                "{stem}_outlines.png",
                "{stem}_overlay.png",
            ),
            _write_png,
            LabelTiffSlide,
        ),
        OutputFormat(
            "tiff",
            "a tiled 32-bit label TIFF that napari and Fiji open as labels",
            ("{stem}_labels.tif",),
            _write_tiff,
            LabelTiffSlide,
        ),
        OutputFormat(
            "geojson",
            "cell polygons with their measurements, for QuPath (File > Import objects)",
            ("{stem}.geojson",),
            _write_geojson,
            GeoJsonSlide,
        ),
    )
}
