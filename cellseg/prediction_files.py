"""The files a prediction leaves: per image labels, outline layer and overlay; per folder
the counts and the cell table.

    <stem>_labels.png     16-bit labels (32-bit TIFF past 65,535 cells)
    <stem>_outlines.png   red outlines on a transparent layer: the users' annotation format
    <stem>_overlay.png    the outlines drawn over the image
    counts.csv            one row per image: count (positive, positive_percent), mean_area
    cells.csv             one row per cell: position, size, shape, stain densities
"""

from dataclasses import asdict
from pathlib import Path

import numpy as np

from cellseg.atomic_write import write_text_atomically
from cellseg.errors import file_error
from cellseg.image_io import write_image
from cellseg.postprocessing.measurements import (
    CELL_COLUMNS,
    count_summary,
    measure_cells,
    positive,
)
from cellseg.preprocessing.outlines import draw_outlines, outline_layer
from cellseg.tables import csv_text

COUNTS_FILE, CELLS_FILE = "counts.csv", "cells.csv"


class PredictionFiles:
    """Write the results of a prediction into ``output``, image by image.

    Parameters
    ----------
    output : path
        An existing folder.
    positive_threshold : float, optional
        Mean DAB optical density from which a cell counts as positive.
    overwrite : bool
        Replace files that exist; without it, finding ``counts.csv`` or ``cells.csv``
        already there is an error raised here, before any work.
    """

    def __init__(self, output, *, positive_threshold=None, overwrite=False):
        self.output = Path(output)
        self.positive_threshold = positive_threshold
        self.overwrite = overwrite
        self.counts: list[dict] = []
        self.cells: list[dict] = []
        for name in (COUNTS_FILE, CELLS_FILE):
            if (self.output / name).exists() and not overwrite:
                raise file_error(
                    self.output / name, "already exists (use --overwrite to replace it)"
                )

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

    def add(self, name: str, image: np.ndarray, labels: np.ndarray) -> dict:
        """Write one image's files and remember its rows; returns its counts row."""
        stem = Path(name).stem
        wide = labels.max() > np.iinfo(np.uint16).max
        files = {
            f"{stem}_labels{'.tif' if wide else '.png'}": labels.astype(
                np.uint32 if wide else np.uint16
            ),
            f"{stem}_outlines.png": outline_layer(labels),
            f"{stem}_overlay.png": draw_outlines(image, labels),
        }
        for file_name, content in files.items():
            write_image(self.output / file_name, content, overwrite=self.overwrite)
        measured = measure_cells(image, labels)
        threshold = self.positive_threshold
        marks = positive(measured, threshold) if threshold is not None else None
        for index, cell in enumerate(measured):
            row = {"image": name, **asdict(cell)}
            if marks is not None:
                row["positive"] = int(marks[index])
            self.cells.append(row)
        areas = [cell.area for cell in measured]
        counts = {
            "image": name,
            **count_summary(measured, positive_threshold=threshold),
            "mean_area": float(np.mean(areas)) if areas else 0.0,
        }
        self.counts.append(counts)
        return counts

    def finish(self) -> None:
        """Write ``counts.csv`` and ``cells.csv`` for every image added."""
        if not self.counts:
            return
        write_text_atomically(
            self.output / COUNTS_FILE,
            csv_text(self.counts, self.count_columns),
            overwrite=self.overwrite,
        )
        write_text_atomically(
            self.output / CELLS_FILE,
            csv_text(self.cells, self.cell_columns),
            overwrite=self.overwrite,
        )
