"""The files a prediction leaves, per image and for the whole folder.

Per image ``<stem>``, besides the files of the formats asked for (`cellseg.output_formats`):

    <stem>_prediction.json  first and last: the model, scale and formats it was predicted
                            with, and whether it is complete
    <stem>_cells.csv        one row per cell

An image is finished when its record says it is complete and was made from the same file
(its fingerprint), with the same model (name and weights), scale setting and formats as
asked now: re-running a prediction skips it, so an interrupted run resumes and several
processes (cluster shards) can share a folder, while another image of the same name, model,
scale or format predicts it again. Files of the same names that cellseg did not write, or
that were changed since it did, are never replaced without ``--overwrite``
(`cellseg.output_guard`). ``counts.csv`` and ``cells.csv`` are then rebuilt from every
finished image.
"""

import csv
import hashlib
import json
from dataclasses import asdict
from functools import partial
from pathlib import Path

import numpy as np

from cellseg.atomic_write import write_atomically, write_text_atomically
from cellseg.batch import image_stem
from cellseg.errors import CellsegError
from cellseg.image_io import write_image
from cellseg.output_formats import FORMATS, ImageResult, SlideResult, format_files
from cellseg.output_guard import refuse_changed, refuse_existing, settings_changes, stamps
from cellseg.postprocessing.drawing import OverlayStyle
from cellseg.postprocessing.measurements import (
    CELL_COLUMNS,
    CellMeasurement,
    measure_cells,
    written,
)
from cellseg.postprocessing.positivity import positive, positive_threshold_for
from cellseg.prediction_tables import LEGACY_RECORD, PredictionTables


class PredictionFiles(PredictionTables):
    """Write the results of a prediction into ``output``, image by image.

    Parameters
    ----------
    output : path
        An existing folder.
    positive_threshold : float or "auto", optional
        Mean DAB optical density from which a cell counts as positive; ``"auto"``, told
        from each image's cells (`auto_positive_threshold`; for a slide, its cell tables
        only). None: no positivity.
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
    pixel_size : float, optional
        Micrometres per pixel of every image (``--pixel-size``), instead of what each
        image's file records.
    count_spread : float, optional
        The model's relative count error on its validation images (its config's
        ``count_spread``), which widens each count's interval; None: not known.
    interval : bool
        False: no count's interval (``count_low``, ``count_high`` blank), for cells kept by
        another minimum confidence than the model's, at which its count error was measured.
    sources : dict, optional
        Each image's `cellseg.batch.file_fingerprint`, by name, kept in its record.
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
        pixel_size: float | None = None,
        count_spread: float | None = None,
        interval: bool = True,
        sources: dict[str, str | None] | None = None,
    ):
        self.output, self.sources = Path(output), sources or {}
        self.pixel_size, self.count_spread = pixel_size, count_spread
        self.interval = interval
        self.overlay = overlay or OverlayStyle()
        self.positive_threshold = positive_threshold
        self.overwrite = overwrite
        self.formats = tuple(dict.fromkeys(formats))
        unknown = [name for name in self.formats if name not in FORMATS]
        if unknown:
            raise ValueError(f"unknown formats {unknown}; known: {', '.join(FORMATS)}")
        self.settings = {
            **(settings or {}),
            "formats": sorted(self.formats),
            "pixel_size": pixel_size,
        }
        if any(FORMATS[format_name].classified for format_name in self.formats):
            self.settings["positive_threshold"] = positive_threshold
        if "png" in self.formats:
            self.settings["overlay"] = {
                key: list(value) if isinstance(value, tuple) else value
                for key, value in asdict(self.overlay).items()
            }
        self._check_tables()

    def cells_path(self, name: str) -> Path:
        return self.output / f"{image_stem(name)}_cells.csv"

    def record_path(self, name: str) -> Path:
        return self.output / f"{image_stem(name)}_prediction.json"

    def finished(self, name: str) -> bool:
        """Whether the image's results are all there and to be kept: made with these
        settings from its file as it is now (which an older record, without it, trusts)."""
        if self.overwrite or not self.cells_path(name).is_file():
            return False
        record = self._record(name) or {}
        return bool(record.get("complete")) and self._same(name, record)

    def _same(self, name: str, record: dict) -> bool:
        """Whether an image's ``record`` is of a prediction with these settings from its
        file as it is now (an older record, without the file's fingerprint, is trusted)."""
        made = (record.get("settings"), record.get("source", self.sources.get(name)))
        return made == (self.settings, self.sources.get(name))

    def add(self, name: str, result, *, pixel_size: float | None = None, progress=None) -> None:
        """Write one image's files: its record first and last, its cell table last of the
        files. ``result`` is a `Cells` (an image held whole) or `SlideCells` (a slide, its
        regions found as they are kept, `_add_slide`); ``pixel_size``, the micrometres per
        pixel its file records (``--pixel-size`` wins over it); ``progress(done, total,
        cells)`` is told of a slide's regions and cells as they are found."""
        stem = image_stem(name)
        pixel_size = self.pixel_size or pixel_size
        if hasattr(result, "found"):
            self._add_slide(stem, name, result, pixel_size, progress or (lambda *_: None))
        else:
            self._claim(name)
            cells = result
            measured = measure_cells(cells.image, cells.labels, cells.confidence)
            marks = self._marks(measured)
            image_result = ImageResult(stem, cells, measured, marks, self.overlay, pixel_size)
            for format_name in self.formats:
                FORMATS[format_name].write_image(self.output, image_result)
            self._write_cells(name, [(measured, marks)], pixel_size)
        self._write_record(
            name,
            result.scale,
            complete=True,
            pixel_size=pixel_size,
            counterstain=result.counterstain,
        )

    def _add_slide(self, stem: str, name: str, slide, pixel_size, progress) -> None:
        """Find a slide's regions, each kept on disk as it is found (`RegionStore`, in the
        hidden folder ``.<stem>.regions``), so that a killed slide resumes without finding
        its finished regions again, its tissue mask ``<stem>_tissue.png`` written first;
        then write its files from them, and remove the folder."""
        from cellseg.interruption import raise_if_interrupted
        from cellseg.postprocessing.geojson import region_rings
        from cellseg.slide_outputs import RegionStore

        self._claim(name)
        if slide.tissue is not None:  # to check while the slide is found, as predict says
            write_image(self.output / f"{stem}_tissue.png", slide.tissue.mask, overwrite=True)
        outlines = any(FORMATS[format_name].outlines for format_name in self.formats)
        windows = [[region.index, *region.window] for region in slide.regions]
        key = {**self.settings, "slide_scale": slide.scale, "outlines": outlines}
        key["source"] = self.sources.get(name)
        key["regions"] = hashlib.sha256(json.dumps([slide.shape, windows]).encode()).hexdigest()
        store = RegionStore(self.output / f".{stem}.regions", key)
        try:
            counts = {index: len(store.read(index, "cells")[0]) for index in store.done()}
            progress(len(counts), slide.region_count, sum(counts.values()))
            for found in slide.found(skip=set(counts), earlier=store.region_labels):
                region = found.region
                rows = [cell.row() for cell in found.cells]
                table = np.array(rows, dtype=float).reshape(-1, len(CELL_COLUMNS))
                rings = None
                if outlines:
                    rings = region_rings(found.labels, len(rows), offset=region.window[:2])
                store.add(region.index, region.window, found.labels, table, rings)
                counts[region.index] = len(rows)
                progress(len(counts), slide.region_count, sum(counts.values()))
                raise_if_interrupted()  # a Ctrl-C held back: this region is kept
            self._write_slide(stem, name, slide, store, counts, pixel_size)
        except FileNotFoundError as error:
            if not Path(error.filename or "/").is_relative_to(store.folder):
                raise
            raise CellsegError(  # its store, removed: the other one finished the slide
                f"{name}: its regions kept in {store.folder} went while it was found: is "
                f"another process predicting it into {self.output}? Run the same command "
                "again once that one is done"
            ) from None
        except CellsegError:
            store.remove()  # the file is at fault: finding it again would fail again
            raise
        finally:
            slide.close()
        store.remove()

    def _write_slide(self, stem: str, name: str, slide, store, counts, pixel_size) -> None:
        """A slide's files from its regions kept in ``store`` (``counts``: their cells)."""
        order = [region.index for region in slide.regions]
        firsts = np.cumsum([0] + [counts[index] for index in order])[:-1].tolist()
        offsets = dict(zip(order, firsts, strict=True))
        threshold = None
        if self.positive_threshold is not None:
            dab = [store.read(index, "cells")[0][:, CELL_COLUMNS.index("dab")] for index in order]
            dab = np.concatenate([np.zeros(0), *dab])
            threshold = positive_threshold_for(self.positive_threshold, dab)
        outlines = any(FORMATS[format_name].outlines for format_name in self.formats)

        def cells():
            for index in order:
                names = ["cells", "ring_ends", "ring_points"][: 1 + 2 * outlines]
                table, *outline = store.read(index, *names)
                measured = [CellMeasurement.from_row(row, offsets[index]) for row in table.tolist()]
                rings = [()] * len(table)
                if outlines and len(table):
                    rings = np.split(outline[1], outline[0][:-1])
                marks = None
                if self.positive_threshold is not None:
                    marks = positive(measured, np.inf if threshold is None else threshold)
                yield measured, rings, marks

        bands = partial(store.label_bands, slide.shape, offsets)
        result = SlideResult(stem, slide.shape, pixel_size, cells, bands)
        writers = dict.fromkeys(
            write for format_name in self.formats for write in FORMATS[format_name].write_slide
        )
        for writer in writers:  # each file once: png writes what tiff and geojson.gz do
            writer(self.output, result)
        self._write_cells(name, ((measured, marks) for measured, _, marks in cells()), pixel_size)

    def _claim(self, name: str) -> None:
        """Refuse, without ``--overwrite``, to replace an image's files that cellseg did not
        write, that were changed since it did (`cellseg.output_guard`), or that another
        prediction made (another model or settings, or an earlier file of the image's
        name); remove those an earlier prediction wrote in formats not asked for now, then
        record that this prediction has begun (or goes on)."""
        stem, record = image_stem(name), self._record(name) or {}
        legacy = self.output / LEGACY_RECORD.format(stem=Path(name).stem)
        if not (self.overwrite or self.record_path(name).is_file() or legacy.is_file()):
            refuse_existing(self.output, self._files(stem))
        elif not self.overwrite:
            refuse_changed(self.output, record.get("files") or {})  # a correction, first
            if record and not self._same(name, record):
                made = settings_changes(record.get("settings") or {}, self.settings)
                if record.get("source", self.sources.get(name)) != self.sources.get(name):
                    made = "from an earlier file of this name"
                raise CellsegError(
                    f"{name}: its results in {self.output} were made {made}; use --overwrite "
                    "to replace them, or choose another --output"
                )
        # An earlier prediction's files of formats not asked for now would show old cells.
        earlier = (record.get("settings") or {}).get("formats") or ()
        for stale in format_files(earlier, stem) - format_files(self.formats, stem):
            (self.output / stale).unlink(missing_ok=True)
        self._write_record(name, None, complete=False)

    def _write_record(
        self, name: str, scale, *, complete: bool, pixel_size=None, counterstain=None
    ) -> None:
        record = {
            "image": name,
            "scale": None if scale is None else round(float(scale), 4),
            "counterstain": None if counterstain is None else round(float(counterstain), 4),
            "pixel_size": pixel_size,
            "settings": self.settings,
            "source": self.sources.get(name),
            "complete": complete,
            "files": stamps(self.output, self._files(image_stem(name))) if complete else {},
        }
        write_text_atomically(
            self.record_path(name), json.dumps(record, indent=1) + "\n", overwrite=True
        )

    def _files(self, stem: str) -> set[str]:
        """Every file an image's prediction may write, its record aside."""
        return format_files(FORMATS, stem) | {f"{stem}_cells.csv", f"{stem}_tissue.png"}

    def _record(self, name: str) -> dict | None:
        try:
            record = json.loads(self.record_path(name).read_text())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def _marks(self, measured):
        """Which cells are DAB-positive, by this run's threshold; None without one."""
        if self.positive_threshold is None:
            return None
        threshold = positive_threshold_for(self.positive_threshold, [cell.dab for cell in measured])
        return positive(measured, np.inf if threshold is None else threshold)

    def _write_cells(self, name: str, batches, pixel_size) -> None:
        """``<stem>_cells.csv``, streamed from (measurements, marks) pairs."""

        def write(temporary: Path) -> None:
            with open(temporary, "w", newline="") as file:
                table = csv.DictWriter(
                    file, self.cell_columns, lineterminator="\n", extrasaction="ignore"
                )
                table.writeheader()
                for measured, marks in batches:
                    for index, cell in enumerate(measured):
                        row = {"image": name, **written(cell, pixel_size)}
                        if marks is not None:
                            row["positive"] = int(marks[index])
                        table.writerow(row)

        write_atomically(self.cells_path(name), write, overwrite=True)
