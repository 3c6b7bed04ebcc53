"""The files a prediction leaves: per-image results and the folder's tables."""

import csv

import numpy as np

from cellseg.prediction_files import PredictionFiles


def _two_cells():
    image = np.full((20, 30, 3), 230, np.uint8)
    labels = np.zeros((20, 30), np.int32)
    labels[2:8, 2:8], labels[10:18, 12:25] = 1, 2
    image[labels > 0] = (90, 60, 140)
    return image, labels


def _counts(folder):
    with open(folder / "counts.csv", newline="") as file:
        return list(csv.DictReader(file))


def test_counts_say_how_much_each_image_was_enlarged(tmp_path):
    image, labels = _two_cells()
    results = PredictionFiles(tmp_path)
    results.add("a.png", image, labels, scale=1.27)
    results.add("b.png", image, labels)
    rows = results.finish(["a.png", "b.png"])
    assert [(row["image"], row["count"], row["scale"]) for row in rows] == [
        ("a.png", 2, 1.27),
        ("b.png", 2, 1.0),
    ]
    assert [row["scale"] for row in _counts(tmp_path)] == ["1.27", "1.0"]


def test_results_without_a_scale_record_still_count(tmp_path):
    """A folder predicted before the scale was recorded: its images keep their counts."""
    image, labels = _two_cells()
    PredictionFiles(tmp_path).add("old.png", image, labels, scale=2)
    (tmp_path / "old_scale.json").unlink()
    (row,) = PredictionFiles(tmp_path).finish(["old.png"])
    assert row["count"] == 2 and row["scale"] == ""
