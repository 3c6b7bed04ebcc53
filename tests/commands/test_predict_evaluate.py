"""``cellseg predict``, ``evaluate`` and ``leaderboard`` with a small trained model."""

import re

import numpy as np
from skimage.segmentation import find_boundaries
from tables import read_csv

from cellseg.image_io import read_image
from cellseg.neural_network.model_folder import ModelFolder
from cellseg.postprocessing.confidence import count_interval
from cellseg.postprocessing.drawing import NEGATIVE_COLOUR, POSITIVE_COLOUR
from cellseg.preprocessing.outlines import outline_mask


def test_predict_writes_labels_outlines_overlay_and_tables(
    cellseg, models, training_data, tmp_path
):
    images = training_data / "images"
    result = cellseg(
        "predict",
        models / "first",
        images,
        "--output",
        tmp_path / "out",
        "--positive-threshold",
        "0.2",
    )
    assert result.code == 0, result.err
    names = sorted(path.name for path in images.iterdir())
    for name in names:
        stem = name.removesuffix(".png")
        labels = read_image(tmp_path / "out" / f"{stem}_labels.png")
        layer = read_image(tmp_path / "out" / f"{stem}_outlines.png")
        overlay = read_image(tmp_path / "out" / f"{stem}_overlay.png")
        assert labels.dtype == np.uint16 and labels.shape == (96, 96)
        assert layer.shape == (96, 96, 4) and overlay.shape == (96, 96, 3)
        # The outline layer is the users' annotation format: red on each cell's boundary.
        boundaries = find_boundaries(labels, mode="inner") & (labels > 0)
        assert np.array_equal(outline_mask(layer), boundaries)
        # Over the image, with a DAB threshold: positive and negative cells, QuPath's colours.
        drawn = overlay[boundaries]
        assert (
            np.all(drawn == POSITIVE_COLOUR, axis=1) | np.all(drawn == NEGATIVE_COLOUR, axis=1)
        ).all()
    counts = read_csv(tmp_path / "out" / "counts.csv")
    assert [row["image"] for row in counts] == names
    assert all(
        (tmp_path / "out" / f"{name.removesuffix('.png')}_cells.csv").is_file() for name in names
    )
    assert list(counts[0]) == [
        "image", "count", "expected", "count_low", "count_high", "positive", "positive_percent",
        "positive_threshold", "mean_area", "mean_area_um2", "scale", "counterstain",
        "pixel_size",
    ]  # fmt: skip
    cells = read_csv(tmp_path / "out" / "cells.csv")
    spread = ModelFolder(models / "first").read_config().count_spread
    assert spread is None  # one validation image: the cells' doubt alone (tuning.py)
    for row in counts:  # every cell found has a confidence: the count has its interval
        if int(row["count"]):
            sure = [float(cell["confidence"]) for cell in cells if cell["image"] == row["image"]]
            expected, low, high = count_interval(np.array(sure), spread)
            assert float(row["expected"]) == expected <= int(row["count"])
            assert int(row["count_low"]) == low <= int(row["count"]) <= high
            assert int(row["count_high"]) == high
    assert sum(int(row["count"]) for row in counts) == len(cells)
    if cells:
        assert list(cells[0])[:3] == ["image", "id", "centroid_row"]
        assert {"haematoxylin", "dab", "eccentricity", "positive", "confidence"} <= set(cells[0])
        assert all(0 <= float(row["confidence"]) <= 1 for row in cells)


def test_a_second_run_resumes_and_overwrite_predicts_again(
    cellseg, models, training_data, tmp_path
):
    images = training_data / "images"
    first = cellseg("predict", models / "first", images, "--output", tmp_path / "out")
    assert first.code == 0
    table = tmp_path / "out" / "synthetic_000_cells.csv"
    (tmp_path / "out" / "synthetic_001_cells.csv").unlink()  # as if killed on that image
    stamp = table.stat().st_mtime_ns
    again = cellseg("predict", models / "first", images, "--output", tmp_path / "out")
    assert again.code == 0 and "3 images already predicted" in again.out
    assert table.stat().st_mtime_ns == stamp
    assert (tmp_path / "out" / "synthetic_001_cells.csv").is_file()
    assert len(read_csv(tmp_path / "out" / "counts.csv")) == 4
    redo = cellseg("predict", models / "first", images, "--output", tmp_path / "out", "--overwrite")
    assert redo.code == 0 and table.stat().st_mtime_ns != stamp


def test_shards_share_a_folder_between_them(cellseg, models, training_data, tmp_path):
    images = training_data / "images"
    for part in ("1/3", "2/3", "3/3"):
        result = cellseg(
            "predict", models / "first", images, "--output", tmp_path / "out", "--shard", part
        )
        assert result.code == 0, result.err
    counts = read_csv(tmp_path / "out" / "counts.csv")
    assert sorted(row["image"] for row in counts) == sorted(p.name for p in images.iterdir())
    bad = cellseg("predict", models / "first", images, "--output", tmp_path / "x", "--shard", "4/3")
    assert bad.code == 2


def test_geojson_polygons_and_label_tiff_match_the_labels(cellseg, models, training_data, tmp_path):
    import json

    from skimage.draw import polygon

    image = training_data / "images" / "synthetic_002.png"
    result = cellseg(
        "predict",
        models / "second",
        image,
        "--output",
        tmp_path / "out",
        "--format",
        "tiff",
        "geojson",
        "--positive-threshold",
        "0.2",
    )
    assert result.code == 0, result.err
    labels = read_image(tmp_path / "out" / "synthetic_002_labels.tif")
    assert labels.dtype == np.uint32
    assert not (tmp_path / "out" / "synthetic_002_labels.png").exists()
    collection = json.loads((tmp_path / "out" / "synthetic_002.geojson").read_text())
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == labels.max()
    for feature in collection["features"]:
        properties = feature["properties"]
        assert properties["objectType"] == "detection"
        assert properties["classification"]["name"] in ("Positive", "Negative")
        cell = properties["measurements"]["Label"]
        ring = np.array(feature["geometry"]["coordinates"][0])
        # Back to pixels (centres are corners + 0.5): the polygon covers the cell.
        rows, columns = polygon(ring[:, 1] - 0.5, ring[:, 0] - 0.5, labels.shape)
        drawn = np.zeros(labels.shape, bool)
        drawn[rows, columns] = True
        truth = labels == cell
        overlap = (drawn & truth).sum() / (drawn | truth).sum()
        assert overlap > 0.7 or truth.sum() < 30, (cell, overlap)


def test_predict_by_model_name_and_bad_model(cellseg, models, training_data, tmp_path, monkeypatch):
    image = training_data / "images" / "synthetic_001.png"
    monkeypatch.chdir(models.parent)
    named = cellseg("predict", "nowhere", image, "--output", tmp_path / "a")
    assert named.code == 1 and "nowhere: no model of that name" in named.err
    broken = models.parent / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"target": "3class"}')
    (broken / "best.keras").write_bytes(b"not a zip")
    result = cellseg("predict", broken, image, "--output", tmp_path / "b")
    assert result.code == 1 and "best.keras: cannot load the network" in result.err
    assert "Traceback" not in result.err


def test_evaluate_prints_and_writes_every_score(cellseg, models, training_data, tmp_path):
    output = tmp_path / "scores.csv"
    result = cellseg(
        "evaluate",
        models / "first",
        "--images",
        training_data / "images",
        "--annotations",
        training_data / "outlines",
        "--output",
        output,
    )
    assert result.code == 0, result.err
    header = result.out.splitlines()[0].split()
    assert header[:3] == ["image", "aji", "f1"] and "panoptic_quality" in header
    rows = read_csv(output)
    assert [row["image"] for row in rows][-1] == "mean" and len(rows) == 5
    for row in rows:
        assert 0 <= float(row["aji"]) <= 1 and 0 <= float(row["dice"]) <= 1


def test_evaluate_against_label_images(cellseg, models, training_data, tmp_path):
    result = cellseg(
        "evaluate",
        models / "first",
        "--images",
        training_data / "images",
        "--annotations",
        training_data / "labels",
        "--output",
        tmp_path / "s.csv",
    )
    assert result.code == 0, result.err


def test_evaluate_against_a_folder_of_predictions_scores_their_outlines(
    cellseg, training_data, tmp_path
):
    """A folder of ``predict`` results, its outline layers corrected by hand, is
    annotations to score against as it is to train on: a model scored against its own
    predictions agrees with them (the predicted labels and GeoJSON beside them are no
    annotations)."""
    images, predicted = training_data / "images", tmp_path / "predicted"
    settings = ("--scale", "1")
    command = ("predict", "default", images, "--output", predicted, *settings)
    assert cellseg(*command, "--format", "png", "tiff", "geojson").code == 0
    output = tmp_path / "s.csv"
    result = cellseg(
        "evaluate", "default", "--images", images, "--annotations", predicted,
        "--output", output, *settings,
    )  # fmt: skip
    assert result.code == 0, result.err
    rows = {row["image"]: row for row in read_csv(output)}
    assert set(rows) == {path.name for path in images.iterdir()} | {"mean"}
    assert float(rows["mean"]["f1"]) > 0.9, rows["mean"]


def test_leaderboard_ranks_finished_models(cellseg, models):
    result = cellseg("leaderboard", "--models-dir", models)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["rank", "name", "status"]
    rows = [line for line in lines[1:-1] if "(shipped)" not in line]  # default, beside them
    assert sorted(line.split()[1] for line in rows) == ["first", "second"]
    header = lines[0].split()
    scores = [float(line.split()[header.index("aji")]) for line in rows]
    assert scores == sorted(scores, reverse=True)
    # How many images the scores are of: one held out of the 4 each was trained on.
    assert {line.split()[header.index("val_images")] for line in rows} == {"1"}
    [shipped] = [line for line in lines[1:-1] if "(shipped)" in line]
    assert shipped.split()[header.index("val_images") + 1] == "4"  # "default (shipped)"


def test_leaderboard_of_a_models_folder_that_is_not_there_is_one_line(cellseg, tmp_path):
    """A typed --models-dir that does not exist is a typo, not an empty list."""
    result = cellseg("leaderboard", "--models-dir", tmp_path / "mdoels")
    assert result.code == 1 and result.out == ""
    assert result.err.strip() == (
        f"cellseg leaderboard: error: {tmp_path / 'mdoels'}: no such folder (--models-dir)"
    )


def test_report_is_one_offline_file_with_curves_scores_and_overlays(
    cellseg, models, training_data, tmp_path
):
    report = tmp_path / "report.html"
    result = cellseg(
        "report",
        models / "first",
        "--output",
        report,
        "--images",
        training_data / "images",
        "--annotations",
        training_data / "outlines",
    )
    assert result.code == 0, result.err
    text = report.read_text()
    for heading in (
        "Training",
        "Validation scores",
        "Validation images",
        "Evaluation",
        "Worst evaluation images",
        "Configuration",
    ):
        assert f"<h2>{heading}</h2>" in text
    assert text.count("<svg") == 3  # loss and score curves, the confidence's reliability
    assert "<h2>Confidence</h2>" in text and "expected calibration error" in text
    assert text.count("red</span>: the cells the model found") == 2  # each set of overlays
    # Both score tables give their scores in one order.
    headers = re.findall(r"<thead><tr>(.*?)</tr></thead>", text)
    assert len(headers) == 2 and headers[0] in headers[1]
    assert text.count('src="data:image/png;base64,') >= 4
    assert "synthetic_003.png" in text and ">mean<" in text
    # Nothing to fetch: no script, no link or image from elsewhere.
    assert "<script" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    again = cellseg("report", models / "first", "--output", report)  # other sections
    assert again.code == 1 and "already exists with other content" in again.err
