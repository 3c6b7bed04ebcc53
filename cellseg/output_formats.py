"""The files `cellseg predict` can write for an image's cells: one table of formats.

Each `OutputFormat` has two writers: one for an image held whole (`Cells`), which writes
its files at once, and one for a slide, which reads its regions back from where they were
kept as they were found (`SlideResult`, `cellseg.slide_outputs.RegionStore`) and streams them
into its files, holding a band of labels or one region's cells at a time, never the slide.
Adding a format is one entry of `FORMATS`.

Per image ``<stem>``:

    png         <stem>_labels.png (16-bit; a 32-bit TIFF past 65,535 cells), the red
                outline layer <stem>_outlines.png and <stem>_overlay.png; slides (no
                pictures of that size): what tiff and geojson.gz write, the labels and
                the cells that napari and QuPath show over the slide
    tiff        <stem>_labels.tif, tiled 32-bit labels that napari and Fiji open: an
                OME-TIFF with the pixel size when known, pyramidal past 1024 pixels (a
                slide's is shown over the slide)
    geojson     <stem>.geojson, one polygon per cell with its measurements, for QuPath
    geojson.gz  the same, gzipped (QuPath reads it as it is): a few times smaller
"""

import gzip
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cellseg.atomic_write import write_atomically, write_bytes_atomically
from cellseg.image_io import write_image
from cellseg.slide_outputs import LABEL_TILE, write_label_pyramid

#: JSON without the spaces after commas and colons: a tenth smaller.
_COMPACT = (",", ":")
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
class SlideResult:
    """What the writers of a slide are given: its regions' cells, read back one region at
    a time, and its labels, one band of rows at a time.

    Attributes
    ----------
    stem : str
    shape : (rows, columns)
    pixel_size : float or None
        Micrometres per pixel, when known.
    cells : callable
        ``cells()`` iterates over the regions: (measurements, outlines, marks), the cells'
        ids numbered across the slide, one (points, 2) ring each (empty when none was
        kept), and one positive flag each (None without a DAB threshold).
    label_bands : callable
        ``label_bands()`` iterates over the slide's labels in bands of
        `cellseg.slide_outputs.LABEL_TILE` rows, top to bottom.
    """

    stem: str
    shape: tuple[int, int]
    pixel_size: float | None
    cells: Callable[[], Iterator]
    label_bands: Callable[[], Iterator[np.ndarray]]


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
    write_slide : tuple of callable
        Each ``write(folder, slide)`` writes files of a slide (a `SlideResult`); formats
        that write the same file share its writer, so that it is written once.
    outlines : bool
        Whether it needs the cells' outlines (a slide keeps them as its regions are found).
    classified : bool
        Whether its files show which cells are DAB-positive (colours, classes): a run with
        another threshold writes them again.
    """

    name: str
    help: str
    files: tuple[str, ...]
    write_image: Callable
    write_slide: tuple[Callable, ...]
    outlines: bool = False
    classified: bool = False


def _write_png(folder: Path, result: ImageResult) -> None:
    from cellseg.postprocessing.drawing import draw_outlines, outline_layer, style_colours

    stem, cells, style = result.stem, result.cells, result.overlay
    labels = cells.labels
    files = {}
    if labels.max() > np.iinfo(np.uint16).max:
        _write_tiff(folder, result)
    else:
        files[f"{stem}_labels.png"] = labels.astype(np.uint16)
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
    """An image's labels as a slide's are written (`_write_labels_tiff`), pixel size included."""
    labels = result.cells.labels.astype(np.uint32)

    def bands() -> Iterator[np.ndarray]:
        for row in range(0, labels.shape[0], LABEL_TILE):
            yield labels[row : row + LABEL_TILE]

    _write_labels_tiff(folder, result.stem, labels.shape, bands, result.pixel_size)


def _write_labels_tiff(folder: Path, stem: str, shape, bands: Callable, pixel_size) -> None:
    """``<stem>_labels.tif`` of an image or a slide, from ``bands()`` (its labels in bands of
    `LABEL_TILE` rows): `write_label_pyramid`'s tiled 32-bit OME-TIFF, with the pixel size
    in micrometres, when known, as OME ``PhysicalSizeX`` and as the TIFF's resolution (pixels
    per centimetre), which napari, QuPath and Fiji read."""

    def write(temporary: Path) -> None:
        name = f"{stem}_labels"
        write_label_pyramid(temporary, shape, bands(), pixel_size=pixel_size, name=name)

    write_atomically(folder / f"{stem}_labels.tif", write, overwrite=True)


def _write_geojson(folder: Path, result: ImageResult, *, zipped: bool = False) -> None:
    from cellseg.postprocessing.geojson import feature_collection

    collection = feature_collection(
        result.cells.labels, result.measured, result.marks, pixel_size=result.pixel_size
    )
    data = json.dumps(collection, separators=_COMPACT).encode("utf-8")
    name = f"{result.stem}.geojson{'.gz' if zipped else ''}"
    write_bytes_atomically(
        folder / name, gzip.compress(data, mtime=0) if zipped else data, overwrite=True
    )


def _write_label_slide(folder: Path, slide: SlideResult) -> None:
    _write_labels_tiff(folder, slide.stem, slide.shape, slide.label_bands, slide.pixel_size)


def _write_geojson_slide(folder: Path, slide: SlideResult, *, zipped: bool = False) -> None:
    """A slide's cells as GeoJSON features, one region at a time, into a temporary file
    moved into place at the end (so a crash leaves no half-written collection)."""
    from cellseg.postprocessing.geojson import cell_feature

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as raw:
            # The name gunzip restores is the result's, not the temporary file's.
            unpacked = f"{slide.stem}.geojson"
            packed = gzip.GzipFile(unpacked, "wb", fileobj=raw, mtime=0) if zipped else raw
            with packed, io.TextIOWrapper(packed, encoding="utf-8") as file:
                file.write('{"type":"FeatureCollection","features":[')
                first = True
                for cells, rings, marks in slide.cells():
                    for index, (cell, ring) in enumerate(zip(cells, rings, strict=True)):
                        if len(ring):
                            mark = None if marks is None else bool(marks[index])
                            feature = cell_feature(cell, ring, mark, pixel_size=slide.pixel_size)
                            text = json.dumps(feature, separators=_COMPACT)
                            file.write(("" if first else ",\n") + text)
                            first = False
                file.write("]}\n")

    name = f"{slide.stem}.geojson{'.gz' if zipped else ''}"
    write_atomically(folder / name, write, overwrite=True)


def _zipped(write: Callable) -> Callable:
    return lambda folder, result: write(folder, result, zipped=True)


_write_geojson_gz_slide = _zipped(_write_geojson_slide)


FORMATS: dict[str, OutputFormat] = {
    output.name: output
    for output in (
        OutputFormat(
            "png",
            "labels, red outlines and overlay as PNG (the default; slides, too large for "
            "pictures: what tiff and geojson.gz write)",
            (
                "{stem}_labels.png",
                "{stem}_labels.tif",
                "{stem}_outlines.png",
                "{stem}_overlay.png",
                "{stem}.geojson.gz",
            ),
            _write_png,
            (_write_label_slide, _write_geojson_gz_slide),
            outlines=True,
            classified=True,
        ),
        OutputFormat(
            "tiff",
            "a tiled 32-bit label OME-TIFF that napari and Fiji open as labels, with the "
            "pixel size when known (--pixel-size or the file's; slides: pyramidal, shown "
            "over the slide)",
            ("{stem}_labels.tif",),
            _write_tiff,
            (_write_label_slide,),
        ),
        OutputFormat(
            "geojson",
            "cell polygons with their measurements, for QuPath (File > Import objects)",
            ("{stem}.geojson",),
            _write_geojson,
            (_write_geojson_slide,),
            outlines=True,
            classified=True,
        ),
        OutputFormat(
            "geojson.gz",
            "the same, gzipped: a few times smaller, and QuPath reads it as it is",
            ("{stem}.geojson.gz",),
            _zipped(_write_geojson),
            (_write_geojson_gz_slide,),
            outlines=True,
            classified=True,
        ),
    )
}


def format_files(formats, stem: str) -> set[str]:
    """The names of the files that ``formats`` (names of `FORMATS`; others are passed over)
    may write for the image ``stem``.

    Examples
    --------
    >>> sorted(format_files(["tiff", "geojson", "svg"], "a"))
    ['a.geojson', 'a_labels.tif']
    """
    return {
        pattern.format(stem=stem)
        for name in formats
        if name in FORMATS
        for pattern in FORMATS[name].files
    }
