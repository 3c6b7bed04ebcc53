"""The files a prediction leaves, per image and for the whole folder.

Per image ``<stem>``, besides the files of the formats asked for (`cellseg.output_formats`):

    <stem>_prediction.json  first and last: the model, scale and formats it was predicted
                            with, and whether it is complete
    <stem>_cells.csv        one row per cell

An image is finished when its record says it is complete and was made with the same model
(name and weights), scale setting and formats as asked now: re-running a prediction skips
it, so an interrupted run resumes and several processes (cluster shards) can share a
folder, while another model, scale or format predicts it again. Files of the same names
that cellseg did not write are never replaced without ``--overwrite``. ``counts.csv`` and
``cells.csv`` are then rebuilt from every finished image.
"""

import csv
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from cellseg.atomic_write import write_text_atomically
from cellseg.errors import CellsegError, file_error
from cellseg.output_formats import FORMATS
from cellseg.postprocessing.drawing import OverlayStyle
from cellseg.postprocessing.measurements import CELL_COLUMNS, measure_cells, positive
from cellseg.tables import csv_text

COUNTS_FILE, CELLS_FILE = "counts.csv", "cells.csv"
#: Per-image record of an earlier cellseg (the scale alone), still read.
_LEGACY_RECORD = "{stem}_scale.json"


class PredictionFiles:
    """Write the results of a prediction into ``output``, image by image.

    Parameters
    ----------
    output : path
        An existing folder.
    positive_threshold : float, optional
        Mean DAB optical density from which a cell counts as positive.
    overwrite : bool
        Predict images again even when their results are there, and replace files that
        cellseg did not write.
    formats : sequence of str
        Names in `cellseg.output_formats.FORMATS`.
    settings : dict, optional
        What makes two predictions of an image the same (model and its weights' digest,
        scale setting); an image predicted with other settings is predicted again.
    overlay : OverlayStyle, optional
        How the cells are drawn over the image (``<stem>_overlay.png``).
    """

    def __init__(
        self,
        output,
        *,
        positive_threshold=None,
        overwrite=False,
        formats=("png",),
        settings=None,
        overlay: OverlayStyle | None = None,
    ):
        self.output = Path(output)
        self.overlay = overlay or OverlayStyle()
        self.positive_threshold = positive_threshold
        self.overwrite = overwrite
        self.formats = tuple(dict.fromkeys(formats))
        unknown = [name for name in self.formats if name not in FORMATS]
        if unknown:
            raise ValueError(f"unknown formats {unknown}; known: {', '.join(FORMATS)}")
        self.settings = {**(settings or {}), "formats": sorted(self.formats)}
        if set(self.formats) & {"png", "geojson"}:  # their pictures and classes show both
            self.settings["positive_threshold"] = positive_threshold
        if "png" in self.formats:
            self.settings["overlay"] = {
                key: list(value) if isinstance(value, tuple) else value
                for key, value in asdict(self.overlay).items()
            }
        self._check_tables()

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

    def record_path(self, name: str) -> Path:
        return self.output / f"{Path(name).stem}_prediction.json"

    def finished(self, name: str) -> bool:
        """Whether the image's results are all there, made with these settings (and are
        to be kept)."""
        if self.overwrite or not self.cells_path(name).is_file():
            return False
        record = self._record(name)
        return bool(record and record.get("complete") and record.get("settings") == self.settings)

    def add(self, name: str, result) -> None:
        """Write one image's files: its record first and last, its cell table last of the
        files. ``result`` is a `Cells` (an image held whole) or `SlideCells` (a slide, its
        regions found as they are written)."""
        stem = Path(name).stem
        if hasattr(result, "regions"):
            measured = self._add_slide(stem, name, result)
        else:
            measured = self._add_image(stem, name, result)
        self._write_cells(name, measured)
        self._write_record(name, result.scale, complete=True)

    def _add_image(self, stem: str, name: str, cells) -> list:
        self._claim(name)
        measured = measure_cells(cells.image, cells.labels)
        marks = self._marks(measured)
        for format_name in self.formats:
            output = FORMATS[format_name]
            output.write_image(self.output, stem, cells, measured, marks, self.overlay)
        return measured

    def _add_slide(self, stem: str, name: str, slide) -> list:
        self._claim(name)
        writers, kinds = [], set()
        try:
            for format_name in self.formats:
                kind = FORMATS[format_name].slide_writer
                if kind not in kinds:  # png and tiff share the label TIFF of a slide
                    kinds.add(kind)
                    writers.append(kind(self.output, stem, slide.shape, slide.region_rows))
            measured = []
            for region in slide.regions:
                measured.extend(region.cells)
                marks = self._marks(region.cells)
                for writer in writers:
                    writer.add(region, marks)
            for writer in writers:
                writer.commit()
        finally:
            for writer in writers:
                writer.discard()
            slide.close()
        return measured

    def _claim(self, name: str) -> None:
        """Refuse to replace an image's files that cellseg did not write (without
        ``--overwrite``), then record that this prediction has begun."""
        stem = Path(name).stem
        legacy = self.output / _LEGACY_RECORD.format(stem=stem)
        if not (self.overwrite or self.record_path(name).is_file() or legacy.is_file()):
            names = {"{stem}_cells.csv"}.union(*(FORMATS[kind].files for kind in FORMATS))
            for path in sorted(self.output / pattern.format(stem=stem) for pattern in names):
                if path.exists():
                    raise file_error(
                        path,
                        "exists and was not written by cellseg predict (use --overwrite to "
                        "replace it, or choose another --output)",
                    )
        self._write_record(name, None, complete=False)

    def _write_record(self, name: str, scale, *, complete: bool) -> None:
        record = {
            "image": name,
            "scale": None if scale is None else round(float(scale), 4),
            "settings": self.settings,
            "complete": complete,
        }
        write_text_atomically(
            self.record_path(name), json.dumps(record, indent=1) + "\n", overwrite=True
        )

    def _record(self, name: str) -> dict | None:
        try:
            record = json.loads(self.record_path(name).read_text())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def _marks(self, measured):
        if self.positive_threshold is None:
            return None
        return positive(measured, self.positive_threshold)

    def _write_cells(self, name: str, measured) -> None:
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

    def _check_tables(self) -> None:
        """Refuse a folder whose ``counts.csv`` or ``cells.csv`` cellseg did not write."""
        if self.overwrite:
            return
        made = any(self.output.glob("*_prediction.json")) or any(
            self.output.glob(_LEGACY_RECORD.format(stem="*"))
        )
        for table in (COUNTS_FILE, CELLS_FILE):
            if (self.output / table).exists() and not made:
                raise CellsegError(
                    f"{self.output / table}: exists and was not written by cellseg predict "
                    "(use --overwrite to replace it, or choose another --output)"
                )

    def finish(self, names: list[str]) -> list[dict]:
        """Write ``counts.csv`` and ``cells.csv`` for the finished images among ``names``.

        Returns the rows of ``counts.csv``.
        """
        counts, cells = [], []
        for name in names:
            path = self.cells_path(name)
            if not path.is_file() or not self._complete(name):
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

    def _complete(self, name: str) -> bool:
        """Whether an image's cell table is whole: its record says so, or an earlier
        cellseg, which wrote the cell table last and kept no such record, made it."""
        record = self._record(name)
        return bool(record.get("complete")) if record is not None else True

    def _scale(self, name: str) -> float | str:
        """The scale recorded for an image; blank for results of before it was recorded."""
        record = self._record(name)
        if record is None:
            try:
                legacy = self.output / _LEGACY_RECORD.format(stem=Path(name).stem)
                record = json.loads(legacy.read_text())
            except (OSError, ValueError):
                return ""
        scale = record.get("scale") if isinstance(record, dict) else None
        return "" if scale is None else scale

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
