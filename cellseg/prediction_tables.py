"""The tables of a folder of predictions: ``counts.csv`` (one row per image) and
``cells.csv`` (one row per cell), rebuilt from every finished image's cell table
(`PredictionTables.finish`), for `cellseg.prediction_files.PredictionFiles`."""

import csv
import json
from pathlib import Path

from cellseg.atomic_write import write_text_atomically
from cellseg.output_guard import refuse_existing
from cellseg.postprocessing.counts import image_counts
from cellseg.postprocessing.measurements import CELL_COLUMNS, MICRON_COLUMNS
from cellseg.postprocessing.positivity import positive_threshold_for
from cellseg.tables import csv_text

COUNTS_FILE, CELLS_FILE = "counts.csv", "cells.csv"
#: Per-image record of an earlier cellseg (the scale alone), still read.
LEGACY_RECORD = "{stem}_scale.json"


class PredictionTables:
    """The folder's tables, of a `PredictionFiles`' images: it gives ``output``,
    ``positive_threshold``, ``count_spread``, ``interval``, ``overwrite``, ``sources``,
    ``cells_path``, ``_record`` and ``_same``."""

    #: The images of the folder predicted with other settings, which `finish` left out.
    left_out: tuple = ()

    @property
    def count_columns(self) -> list[str]:
        """``counts.csv``: ``count`` cells found, ``expected`` real nuclei among them (the
        sum of their confidences), and the 95% interval of the nuclei the image holds,
        ``count_low`` to ``count_high`` (`cellseg.postprocessing.confidence.count_interval`,
        widened by the model's ``count_spread``); ``scale``, the enlargement used, and
        ``counterstain``, the factor a pale haematoxylin was strengthened by before the
        network (1: not at all; `cellseg.preprocessing.colour.counterstain_factor`)."""
        columns = ["image", "count", "expected", "count_low", "count_high"]
        if self.positive_threshold is not None:
            columns += ["positive", "positive_percent", "positive_threshold"]
        return [*columns, "mean_area", "mean_area_um2", "scale", "counterstain", "pixel_size"]

    @property
    def cell_columns(self) -> list[str]:
        """``cells.csv``: `CELL_COLUMNS`, the area in µm² and perimeter in µm when the
        pixel size is known (blank otherwise), and ``positive`` with a threshold."""
        extra = ["positive"] if self.positive_threshold is not None else []
        return ["image", *CELL_COLUMNS, *MICRON_COLUMNS, *extra]

    def _check_tables(self) -> None:
        """Refuse a folder whose ``counts.csv`` or ``cells.csv`` cellseg did not write."""
        if self.overwrite:
            return
        made = any(self.output.glob("*_prediction.json")) or any(
            self.output.glob(LEGACY_RECORD.format(stem="*"))
        )
        if not made:
            refuse_existing(self.output, [COUNTS_FILE, CELLS_FILE])

    def finish(self, names: list[str]) -> list[dict]:
        """Write ``counts.csv`` and ``cells.csv`` for the finished images among ``names``,
        then the others the folder holds, predicted with the same settings (by another
        command: a slide predicted after another kept its rows); those of other settings
        (another model, scale...) are left out of both tables, and named in
        ``self.left_out``.

        Returns the rows of ``counts.csv``.
        """
        same, self.left_out, listed = [], [], set(names)
        for path in sorted(self.output.glob("*_prediction.json")):
            try:
                record = json.loads(path.read_text())
                name = str(record["image"])
            except (OSError, ValueError, TypeError, KeyError):
                continue
            if name not in listed and record.get("complete"):
                kept = record.get("settings") == self.settings
                (same if kept else self.left_out).append(name)
        counts, cells = [], []
        for name in [*names, *same]:
            path = self.cells_path(name)
            if not path.is_file() or not self._complete(name):
                continue
            record = self._record(name)
            if record is not None and not self._kept(name, record):
                self.left_out.append(name)  # refused: another prediction's results
                continue
            with open(path, newline="") as file:
                rows = list(csv.DictReader(file))
            threshold = None
            if self.positive_threshold is not None:  # this run's threshold decides
                dab = [float(row["dab"]) for row in rows]
                threshold = positive_threshold_for(self.positive_threshold, dab)
                for row in rows:
                    row["positive"] = int(threshold is not None and float(row["dab"]) >= threshold)
            cells.extend(rows)
            counts.append(self._count_row(name, rows, self._scale(name), record or {}, threshold))
        tables = ((COUNTS_FILE, counts, self.count_columns), (CELLS_FILE, cells, self.cell_columns))
        for table, rows, columns in tables if counts else ():
            write_text_atomically(self.output / table, csv_text(rows, columns), overwrite=True)
        return counts

    def _kept(self, name: str, record: dict) -> bool:
        """Whether an image's results belong in these tables: made with these settings,
        from its file as it is now when this process looked at it (not when another
        process predicted it: a shard's image)."""
        if name in self.sources:
            return self._same(name, record)
        return record.get("settings") == self.settings

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
                legacy = self.output / LEGACY_RECORD.format(stem=Path(name).stem)
                record = json.loads(legacy.read_text())
            except (OSError, ValueError):
                return ""
        scale = record.get("scale") if isinstance(record, dict) else None
        return "" if scale is None else scale

    def _count_row(self, name, rows, scale, record, threshold=None) -> dict:
        """An image's row of ``counts.csv`` from its cell table's ``rows`` and its
        ``record`` (its pixel size and counterstain factor, blank where not recorded)."""
        sure = [float(cell["confidence"]) for cell in rows if cell.get("confidence")]
        asked = self.positive_threshold is not None  # threshold None: "auto" found one group
        counts = image_counts(
            [float(cell["area"]) for cell in rows],
            sure if len(sure) == len(rows) else None,
            [int(cell["positive"]) for cell in rows] if asked else None,
            count_spread=self.count_spread,
            interval=self.interval,
            pixel_size=record.get("pixel_size"),
        )
        row = {"image": name, **counts, "scale": scale}
        if asked:
            row["positive_threshold"] = threshold
        row.update(counterstain=record.get("counterstain"), pixel_size=record.get("pixel_size"))
        return row
