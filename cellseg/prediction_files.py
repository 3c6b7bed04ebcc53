"""The files a prediction leaves, per image and for the whole folder.

Per image ``<stem>``, depending on the formats asked for:

    <stem>_labels.png     png: 16-bit labels (a 32-bit TIFF past 65,535 cells)
    <stem>_outlines.png   png: red outlines on a transparent layer, the annotation format
    <stem>_overlay.png    png: the outlines drawn over the image
    <stem>_labels.tif     tiff: 32-bit tiled label TIFF, which napari and Fiji open as labels
    <stem>.geojson        geojson: one polygon per cell with its measurements, for QuPath
    <stem>_scale.json     always: the scale the image was enlarged by before the network
    <stem>_cells.csv      always, written last: one row per cell

An image is finished when its ``_cells.csv`` exists: re-running a prediction skips it, so
an interrupted run resumes, and several processes (cluster shards) can share a folder.
``counts.csv`` and ``cells.csv`` are then rebuilt from every finished image.
"""

import csv
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from cellseg.atomic_write import ordinary_mode, write_text_atomically
from cellseg.image_io import write_image
from cellseg.postprocessing.measurements import CELL_COLUMNS, measure_cells, positive
from cellseg.preprocessing.outlines import draw_outlines, outline_layer
from cellseg.tables import csv_text

COUNTS_FILE, CELLS_FILE = "counts.csv", "cells.csv"
FORMATS = ("png", "tiff", "geojson")
#: Images larger than this (pixels) get no outline and overlay PNGs: too large to be useful.
LARGEST_PICTURE = 50_000_000


class PredictionFiles:
    """Write the results of a prediction into ``output``, image by image.

    Parameters
    ----------
    output : path
        An existing folder.
    positive_threshold : float, optional
        Mean DAB optical density from which a cell counts as positive.
    overwrite : bool
        Predict images again even when their results are there.
    formats : sequence of str
        Any of `FORMATS`.
    """

    def __init__(self, output, *, positive_threshold=None, overwrite=False, formats=("png",)):
        self.output = Path(output)
        self.positive_threshold = positive_threshold
        self.overwrite = overwrite
        self.formats = tuple(formats)

    @property
    def count_columns(self) -> list[str]:
        columns = ["image", "count"]
        if self.positive_threshold is not None:
            columns += ["positive", "positive_percent"]
        return [*columns, "mean_area", "scale"]

    @property
    def cell_columns(self) -> list[str]:
        extra = ["positive"] if self.positive_threshold is not None else []
        return ["image", *CELL_COLUMNS, *extra]

    def cells_path(self, name: str) -> Path:
        return self.output / f"{Path(name).stem}_cells.csv"

    def finished(self, name: str) -> bool:
        """Whether the image's results are all there (and are to be kept)."""
        return not self.overwrite and self.cells_path(name).is_file()

    def scale_path(self, name: str) -> Path:
        return self.output / f"{Path(name).stem}_scale.json"

    def add(self, name: str, image: np.ndarray, labels: np.ndarray, *, scale=1.0) -> None:
        """Write one image's files, its cell table last; ``scale``: the enlargement used."""
        stem = Path(name).stem
        files = {}
        if "png" in self.formats:
            wide = labels.max() > np.iinfo(np.uint16).max
            files[f"{stem}_labels{'.tif' if wide else '.png'}"] = labels.astype(
                np.uint32 if wide else np.uint16
            )
            if labels.size <= LARGEST_PICTURE:
                files[f"{stem}_outlines.png"] = outline_layer(labels)
                files[f"{stem}_overlay.png"] = draw_outlines(image, labels)
        if "tiff" in self.formats:
            files[f"{stem}_labels.tif"] = labels.astype(np.uint32)
        for file_name, content in files.items():
            # Files of an image without its cell table are an interrupted run's: replaced.
            write_image(self.output / file_name, content, overwrite=True)
        measured = measure_cells(image, labels)
        marks = self._marks(measured)
        if "geojson" in self.formats:
            from cellseg.postprocessing.geojson import feature_collection

            collection = feature_collection(labels, measured, marks)
            write_text_atomically(
                self.output / f"{stem}.geojson", json.dumps(collection), overwrite=True
            )
        self._write_cells(name, measured, scale)

    def add_slide(self, name: str, shape: tuple[int, int], regions, *, scale=1.0) -> None:
        """Write the results of an image predicted region by region (`whole_slide`).

        Labels go to ``<stem>_labels.tif`` (tiled, 32-bit) as regions finish, GeoJSON
        features to ``<stem>.geojson``; nothing of the size of the slide is kept.
        """
        from cellseg.atomic_write import write_atomically
        from cellseg.neural_network.whole_slide import LabelStrips, write_label_tiff
        from cellseg.postprocessing.geojson import cell_features

        stem = Path(name).stem
        strips = LabelStrips(*shape)
        measured = []
        streamed = None
        if "geojson" in self.formats:
            streamed = _StreamedFeatures(self.output / f"{stem}.geojson")

        def tiles():
            row_index = None
            for region in regions:
                if region.row_index != row_index:
                    row_index = region.row_index
                    yield from strips.tiles(before=row_index - 1)  # no region reaches them now
                strips.paint(region.labels, region.top, region.left)
                measured.extend(region.cells)
                if streamed is not None:
                    marks = self._marks(region.cells)
                    offset = (region.top, region.left)
                    streamed.add(cell_features(region.labels, region.cells, marks, offset=offset))
            yield from strips.tiles()

        try:
            write_atomically(
                self.output / f"{stem}_labels.tif",
                lambda temporary: write_label_tiff(temporary, shape, tiles()),
                overwrite=True,
            )
            if streamed is not None:
                streamed.commit()
        finally:
            if streamed is not None:
                streamed.discard()
        self._write_cells(name, measured, scale)

    def _marks(self, measured):
        if self.positive_threshold is None:
            return None
        return positive(measured, self.positive_threshold)

    def _write_cells(self, name: str, measured, scale) -> None:
        record = {"image": name, "scale": round(float(scale), 4)}
        write_text_atomically(self.scale_path(name), json.dumps(record), overwrite=True)
        marks = self._marks(measured)
        rows = []
        for index, cell in enumerate(measured):
            row = {"image": name, **asdict(cell)}
            if marks is not None:
                row["positive"] = int(marks[index])
            rows.append(row)
        write_text_atomically(
            self.cells_path(name), csv_text(rows, self.cell_columns), overwrite=True
        )

    def finish(self, names: list[str]) -> list[dict]:
        """Write ``counts.csv`` and ``cells.csv`` for the finished images among ``names``.

        Returns the rows of ``counts.csv``.
        """
        counts, cells = [], []
        for name in names:
            path = self.cells_path(name)
            if not path.is_file():
                continue
            with open(path, newline="") as file:
                rows = list(csv.DictReader(file))
            if self.positive_threshold is not None:  # this run's threshold decides
                for row in rows:
                    row["positive"] = int(float(row["dab"]) >= self.positive_threshold)
            cells.extend(rows)
            counts.append(self._count_row(name, rows, self._scale(name)))
        if counts:
            write_text_atomically(
                self.output / COUNTS_FILE, csv_text(counts, self.count_columns), overwrite=True
            )
            write_text_atomically(
                self.output / CELLS_FILE, csv_text(cells, self.cell_columns), overwrite=True
            )
        return counts

    def _scale(self, name: str) -> float | str:
        """The scale recorded for an image; blank for results of before it was recorded."""
        try:
            return json.loads(self.scale_path(name).read_text())["scale"]
        except (OSError, ValueError, KeyError):
            return ""

    def _count_row(self, name: str, rows: list[dict], scale) -> dict:
        areas = [float(row["area"]) for row in rows]
        row = {"image": name, "count": len(rows)}
        if self.positive_threshold is not None:
            positives = sum(float(cell["dab"]) >= self.positive_threshold for cell in rows)
            row["positive"] = positives
            row["positive_percent"] = round(100.0 * positives / len(rows), 2) if rows else 0.0
        row["mean_area"] = round(float(np.mean(areas)), 2) if areas else 0.0
        row["scale"] = scale
        return row


class _StreamedFeatures:
    """A GeoJSON FeatureCollection written feature by feature to a temporary file, moved into
    place by `commit` (so a crash leaves no half-written collection)."""

    def __init__(self, path: Path):
        import tempfile

        self.path = path
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self.temporary = Path(name)
        self.file = open(handle, "w")
        self.file.write('{"type": "FeatureCollection", "features": [')
        self.first = True

    def add(self, features: list[dict]) -> None:
        for feature in features:
            self.file.write(("" if self.first else ",\n") + json.dumps(feature))
            self.first = False

    def commit(self) -> None:
        import os

        self.file.write("]}\n")
        self.file.close()
        os.chmod(self.temporary, ordinary_mode())
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        self.temporary.unlink(missing_ok=True)
