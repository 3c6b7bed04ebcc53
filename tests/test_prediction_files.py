"""The files a prediction leaves: per-image results, their records and the folder's tables."""

import csv
import json
import re

import numpy as np
import pytest

from cellseg.errors import CellsegError
from cellseg.image_io import read_image, write_image
from cellseg.neural_network.model import Cells
from cellseg.prediction_files import PredictionFiles


def _two_cells(scale=1.0):
    image = np.full((20, 30, 3), 230, np.uint8)
    labels = np.zeros((20, 30), np.int32)
    labels[2:8, 2:8], labels[10:18, 12:25] = 1, 2
    image[labels > 0] = (90, 60, 140)
    return Cells(image, labels, scale)


def _counts(folder):
    with open(folder / "counts.csv", newline="") as file:
        return list(csv.DictReader(file))


def test_counts_say_how_much_each_image_was_enlarged(tmp_path):
    results = PredictionFiles(tmp_path)
    results.add("a.png", _two_cells(1.27))
    results.add("b.png", _two_cells())
    rows = results.finish(["a.png", "b.png"])
    assert [(row["image"], row["count"], row["scale"]) for row in rows] == [
        ("a.png", 2, 1.27),
        ("b.png", 2, 1.0),
    ]
    assert [row["scale"] for row in _counts(tmp_path)] == ["1.27", "1.0"]


def test_an_image_without_cells_counts_none_surely_and_has_no_mean_area(tmp_path):
    """A blank field: 0 cells, 0 expected, an interval of 0-0; no mean area (not 0)."""
    results = PredictionFiles(tmp_path, pixel_size=0.25)
    blank = np.full((20, 30, 3), 230, np.uint8)
    results.add("glass.png", Cells(blank, np.zeros((20, 30), np.int32), 1.0, np.zeros(0)))
    results.finish(["glass.png"])
    row = _counts(tmp_path)[0]
    assert [row[key] for key in ("count", "expected", "count_low", "count_high")] == [
        "0", "0.0", "0", "0",
    ]  # fmt: skip
    assert row["mean_area"] == row["mean_area_um2"] == ""


def test_the_tables_hold_every_image_of_the_folder_predicted_alike(tmp_path):
    """A slide predicted into a folder after another replaced the tables with its own row:
    the first slide's cells were in neither, though its files were there. Images of other
    settings stay out of the tables (another model's counts would mix in), and are named."""
    for name in ("a.png", "b.png"):  # two commands, one image each
        results = PredictionFiles(tmp_path, settings={"model": "default"})
        results.add(name, _two_cells())
        results.finish([name])
    assert [row["image"] for row in _counts(tmp_path)] == ["b.png", "a.png"]
    assert results.left_out == []
    other = PredictionFiles(tmp_path, settings={"model": "lab"})
    other.add("c.png", _two_cells())
    assert [row["image"] for row in other.finish(["c.png"])] == ["c.png"]
    assert other.left_out == ["a.png", "b.png"]
    with open(tmp_path / "cells.csv", newline="") as file:
        assert {row["image"] for row in csv.DictReader(file)} == {"c.png"}


def test_results_of_an_earlier_version_still_count(tmp_path):
    """A folder predicted by an earlier cellseg (a scale record, or none at all): its
    images keep their counts, and are predicted again over their own files."""
    PredictionFiles(tmp_path).add("old.png", _two_cells(2.0))
    PredictionFiles(tmp_path).add("older.png", _two_cells())
    (tmp_path / "old_prediction.json").unlink()
    (tmp_path / "old_scale.json").write_text(json.dumps({"image": "old.png", "scale": 2.0}))
    (tmp_path / "older_prediction.json").unlink()
    results = PredictionFiles(tmp_path)
    rows = results.finish(["old.png", "older.png"])
    assert [(row["count"], row["scale"]) for row in rows] == [(2, 2.0), (2, "")]
    assert not results.finished("old.png")  # made with settings unknown
    results.add("old.png", _two_cells())  # its files were cellseg's: replaced


def test_an_image_is_finished_only_with_the_same_model_settings_and_formats(tmp_path):
    first = {"model": "a", "model_sha256": "1" * 64, "scale": "auto"}
    results = PredictionFiles(tmp_path, settings=first)
    results.add("a.png", _two_cells())
    assert results.finished("a.png")
    assert not PredictionFiles(tmp_path, settings={**first, "model": "b"}).finished("a.png")
    assert not PredictionFiles(tmp_path, settings={**first, "scale": 2.0}).finished("a.png")
    formats = PredictionFiles(tmp_path, settings=first, formats=("png", "geojson"))
    assert not formats.finished("a.png")
    assert PredictionFiles(tmp_path, settings=first, formats=("png",)).finished("a.png")


def test_another_file_of_the_same_name_is_not_finished(tmp_path):
    """An image replaced by another of the same name (a section scanned again, another
    folder's image) is predicted again: its record keeps the file's fingerprint."""
    made = PredictionFiles(tmp_path, sources={"a.png": "100:ab"})
    made.add("a.png", _two_cells())
    assert made.finished("a.png")
    assert not PredictionFiles(tmp_path, sources={"a.png": "100:cd"}).finished("a.png")
    assert not PredictionFiles(tmp_path).finished("a.png")  # told of no file
    # Results of a cellseg that kept no fingerprint are not predicted again.
    record = json.loads((tmp_path / "a_prediction.json").read_text())
    del record["source"]
    (tmp_path / "a_prediction.json").write_text(json.dumps(record))
    assert PredictionFiles(tmp_path, sources={"a.png": "100:cd"}).finished("a.png")


def test_predicting_again_in_other_formats_leaves_no_file_of_the_old_cells(tmp_path):
    """An image predicted again with --format tiff after png (--overwrite): its old PNGs,
    which would show the earlier cells beside the new labels, go; files of other images
    stay."""
    PredictionFiles(tmp_path, formats=("png", "geojson")).add("a.png", _two_cells())
    PredictionFiles(tmp_path, formats=("png",)).add("b.png", _two_cells())
    before = sorted(path.name for path in tmp_path.iterdir())
    again = PredictionFiles(
        tmp_path, formats=("tiff", "geojson"), settings={"scale": 2}, overwrite=True
    )
    again.add("a.png", _two_cells(2.0))
    after = sorted(path.name for path in tmp_path.iterdir())
    gone = {"a_labels.png", "a_outlines.png", "a_overlay.png"}
    assert gone <= set(before) and not gone & set(after)
    assert set(after) == set(before) - gone | {"a_labels.tif"}


def test_a_file_corrected_by_hand_is_not_replaced_by_another_prediction(tmp_path):
    """The fine-tuning loop: outlines corrected in place, then another model predicts into
    the same folder. Refused, naming the corrected file, before anything is written
    (formats no longer asked for included); with --overwrite, replaced whatever was done
    to them."""
    PredictionFiles(tmp_path, settings={"model": "default"}).add("a.png", _two_cells())
    layer = tmp_path / "a_outlines.png"
    corrected = read_image(layer)
    corrected[0, 0] = (255, 0, 0, 255)  # an outline drawn by hand
    write_image(layer, corrected, overwrite=True)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    for formats in (("png",), ("tiff",)):
        lab = PredictionFiles(tmp_path, settings={"model": "lab"}, formats=formats)
        with pytest.raises(CellsegError, match=r"a_outlines\.png: was changed since cellseg"):
            lab.add("a.png", _two_cells())
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
    PredictionFiles(tmp_path, settings={"model": "lab"}, overwrite=True).add("a.png", _two_cells())
    assert not np.array_equal(read_image(layer), corrected)


def test_another_predictions_results_are_not_replaced_without_overwrite(tmp_path):
    """An image's results made with another model or settings are an output like any
    other: refused in a line saying what differed, nothing written, and left out of this
    run's tables (which keep the earlier ones as they were); replaced with --overwrite."""
    PredictionFiles(tmp_path, settings={"model": "lab", "scale": 1.0}).add("a.png", _two_cells())
    first = PredictionFiles(tmp_path, settings={"model": "lab", "scale": 1.0})
    first.finish(["a.png"])
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    other = PredictionFiles(tmp_path, settings={"model": "lab-2", "scale": 1.0})
    assert not other.finished("a.png")
    with pytest.raises(
        CellsegError,
        match=r"^a\.png: its results in .* were made with model lab \(now lab-2\); use --overwrite",
    ):
        other.add("a.png", _two_cells(2.0))
    assert other.finish(["a.png"]) == [] and other.left_out == ["a.png"]
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
    again = PredictionFiles(tmp_path, settings={"model": "lab-2", "scale": 1.0}, overwrite=True)
    again.add("a.png", _two_cells(2.0))
    assert [row["image"] for row in again.finish(["a.png"])] == ["a.png"]
    assert json.loads((tmp_path / "a_prediction.json").read_text())["settings"]["model"] == "lab-2"


def test_an_interrupted_image_is_not_finished_and_not_counted(tmp_path):
    results = PredictionFiles(tmp_path)
    results.add("a.png", _two_cells())
    record = json.loads((tmp_path / "a_prediction.json").read_text())
    record["complete"] = False  # killed after its cell table, before its record
    (tmp_path / "a_prediction.json").write_text(json.dumps(record))
    assert not results.finished("a.png")
    assert results.finish(["a.png"]) == []


def test_files_cellseg_did_not_write_are_never_replaced(tmp_path):
    write_image(tmp_path / "a_overlay.png", np.zeros((5, 5), np.uint8))  # the user's
    results = PredictionFiles(tmp_path)
    with pytest.raises(CellsegError, match=r"a_overlay\.png: exists and was not written"):
        results.add("a.png", _two_cells())
    assert not (tmp_path / "a_labels.png").exists()
    PredictionFiles(tmp_path, overwrite=True).add("a.png", _two_cells())
    assert (tmp_path / "a_labels.png").is_file()


@pytest.mark.parametrize("table", ["counts.csv", "cells.csv"])
def test_tables_cellseg_did_not_write_are_never_replaced(tmp_path, table):
    (tmp_path / table).write_text("the lab's own table\n")
    with pytest.raises(CellsegError, match=f"{re.escape(table)}: exists and was not written"):
        PredictionFiles(tmp_path)
    assert (tmp_path / table).read_text() == "the lab's own table\n"
    PredictionFiles(tmp_path, overwrite=True).add("a.png", _two_cells())


def test_geojson_measurements_are_the_cell_tables_to_the_digit(tmp_path):
    """The GeoJSON's measurements are cells.csv's, under QuPath's names, centroids half a
    pixel on (QuPath's corner convention); both written to their DECIMALS, and positivity
    decided on the DAB density as written (a threshold on the file decides alike)."""
    from cellseg.postprocessing.geojson import QUPATH_NAMES
    from cellseg.postprocessing.measurements import DECIMALS
    from cellseg.preprocessing.synthetic import synthetic_tissue

    image, labels = synthetic_tissue((120, 160), seed=3, positive_fraction=0.3)
    confidence = np.random.default_rng(3).random(int(labels.max()))
    results = PredictionFiles(tmp_path, positive_threshold=0.2, formats=("geojson",))
    results.add("a.png", Cells(image, labels, 1.0, confidence), pixel_size=0.2527)
    with open(tmp_path / "a_cells.csv", newline="") as file:
        rows = {int(row["id"]): row for row in csv.DictReader(file)}
    features = json.loads((tmp_path / "a.geojson").read_text())["features"]
    assert len(features) == len(rows) == labels.max() > 10
    for feature in features:
        assert set(feature["properties"]) == {"objectType", "measurements", "classification"}
        measured = feature["properties"]["measurements"]
        row = rows[measured["Label"]]
        assert int(row["positive"]) == (float(row["dab"]) >= 0.2)
        assert list(measured) == list(QUPATH_NAMES.values())
        for column, name in QUPATH_NAMES.items():
            shift = 0.5 if column.startswith("centroid") else 0
            assert measured[name] == pytest.approx(float(row[column]) + shift, abs=1e-12)

    def most_decimals(column):
        return max(len(row[column].partition(".")[2]) for row in rows.values())

    assert all(most_decimals(column) == decimals for column, decimals in DECIMALS.items())


def test_a_file_whose_time_alone_changed_is_not_taken_for_a_correction(tmp_path):
    """A folder copied without keeping times (``cp -r``): its files' times changed, their
    content did not, so another prediction (with --overwrite not needed for a correction)
    goes on; an edit of the same size is still refused."""
    import os

    PredictionFiles(tmp_path, settings={"model": "lab"}).add("a.png", _two_cells())
    for path in tmp_path.iterdir():
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    PredictionFiles(tmp_path, settings={"model": "lab"}, formats=("png",)).add(
        "a.png", _two_cells()
    )
    table = tmp_path / "a_cells.csv"
    text = table.read_text()
    table.write_text(text.replace("2", "3", 1))  # the same size, another content
    assert len(table.read_text()) == len(text)
    with pytest.raises(CellsegError, match=r"a_cells\.csv: was changed since cellseg"):
        PredictionFiles(tmp_path, settings={"model": "lab"}).add("a.png", _two_cells())
