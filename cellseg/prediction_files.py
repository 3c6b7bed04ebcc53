"""The files a prediction leaves, per image and for the whole folder.

Per image ``<stem>``, depending on the formats asked for:

    <stem>_labels.png     png: 16-bit labels (a 32-bit TIFF past 65,535 cells)
    <stem>_outlines.png   png: red outlines on a transparent layer, the annotation format
    <stem>_overlay.png    png: the outlines drawn over the image
    <stem>_labels.tif     tiff: 32-bit tiled label TIFF, which napari and Fiji open as labels
    <stem>.geojson        geojson: one polygon per cell with its measurements, for QuPath
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

from cellseg.atomic_write import write_text_atomically
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
        return [*columns, "mean_area"]

    @property
    def cell_columns(self) -> list[str]:
        extra = ["positive"] if self.positive_threshold is not None else []
        return ["image", *CELL_COLUMNS, *extra]

    def cells_path(self, name: str) -> Path:
        return self.output / f"{Path(name).stem}_cells.csv"

    def finished(self, name: str) -> bool:
        """Whether the image's results are all there (and are to be kept)."""
        return not self.overwrite and self.cells_path(name).is_file()

    def add(self, name: str, image: np.ndarray, labels: np.ndarray, measured=None) -> None:
        """Write one image's files, its cell table last.

        ``measured`` may hold the cells' measurements already (whole-slide prediction
        measures region by region); otherwise they are measured here.
        """
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
        if measured is None:
            measured = measure_cells(image, labels)
        marks = (
            positive(measured, self.positive_threshold)
            if self.positive_threshold is not None
            else None
        )
        if "geojson" in self.formats:
            from cellseg.postprocessing.geojson import feature_collection

            collection = feature_collection(labels, measured, marks)
            write_text_atomically(
                self.output / f"{stem}.geojson", json.dumps(collection), overwrite=True
            )
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
            counts.append(self._count_row(name, rows))
        if counts:
            write_text_atomically(
                self.output / COUNTS_FILE, csv_text(counts, self.count_columns), overwrite=True
            )
            write_text_atomically(
                self.output / CELLS_FILE, csv_text(cells, self.cell_columns), overwrite=True
            )
        return counts

    def _count_row(self, name: str, rows: list[dict]) -> dict:
        areas = [float(row["area"]) for row in rows]
        row = {"image": name, "count": len(rows)}
        if self.positive_threshold is not None:
            positives = sum(float(cell["dab"]) >= self.positive_threshold for cell in rows)
            row["positive"] = positives
            row["positive_percent"] = round(100.0 * positives / len(rows), 2) if rows else 0.0
        row["mean_area"] = round(float(np.mean(areas)), 2) if areas else 0.0
        return row
