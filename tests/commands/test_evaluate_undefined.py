"""``cellseg evaluate`` on images without cells, and the scale it predicts each image at."""

import shutil

import numpy as np
import pytest
from tables import read_csv

from cellseg.image_io import read_image, write_image
from cellseg.metrics import SCORE_NAMES


@pytest.fixture
def one_without_cells(training_data, tmp_path):
    """The training images, their label images, and the name of the one whose label image is
    made empty (no cell drawn, though the image has some)."""
    images, labels = tmp_path / "images", tmp_path / "labels"
    shutil.copytree(training_data / "images", images)
    shutil.copytree(training_data / "labels", labels)
    emptied = sorted(labels.iterdir())[0]
    write_image(emptied, np.zeros_like(read_image(emptied)), overwrite=True)
    return images, labels, emptied.name


def evaluate(cellseg, model, images, annotations, output, *options):
    result = cellseg(
        "evaluate", model, "--images", images, "--annotations", annotations,
        "--output", output, *options,
    )  # fmt: skip
    assert result.code == 0, result.err
    return result, {row["image"]: row for row in read_csv(output)}


def test_an_image_without_cells_drawn_leaves_recall_and_count_error_undefined(
    cellseg, models, one_without_cells, tmp_path
):
    """Recall and the relative count error divide by the true count: on an image without
    cells drawn they are blank and left out of the means, which say how many images they
    are of; the cells found there still count against precision, F1 and AJI."""
    images, labels, empty = one_without_cells
    result, rows = evaluate(cellseg, models / "first", images, labels, tmp_path / "e.csv")
    row = rows[empty]
    assert row["true_count"] == "0"
    assert row["recall"] == "" and row["count_error"] == ""
    others = [rows[name] for name in rows if name not in (empty, "mean", "images in the mean")]
    assert len(others) == 3
    for score in ("recall", "count_error"):
        expected = np.mean([float(other[score]) for other in others])
        assert float(rows["mean"][score]) == pytest.approx(expected, abs=1e-4)
        assert rows["images in the mean"][score] == "3"
    if int(row["predicted_count"]):  # cells found where none are drawn: all of them wrong
        assert float(row["precision"]) == float(row["f1"]) == float(row["aji"]) == 0
        assert rows["images in the mean"]["precision"] == "4"
    assert rows["images in the mean"]["true_count"] == "4"
    [line] = [line for line in result.out.splitlines() if "means of fewer" in line]
    assert "recall and count_error over 3" in line and empty in line


def test_every_mean_is_of_every_image_when_all_have_cells(cellseg, models, training_data, tmp_path):
    result, rows = evaluate(
        cellseg, models / "first", training_data / "images", training_data / "labels",
        tmp_path / "e.csv",
    )  # fmt: skip
    assert "images in the mean" not in rows and "means of fewer" not in result.out
    assert all(rows["mean"][score] != "" for score in SCORE_NAMES)


def test_images_without_cells_anywhere_leave_the_calibration_unmeasured(
    cellseg, models, tmp_path, monkeypatch
):
    """Blank glass, annotated as such, where the model finds nothing: every ratio is 0 / 0,
    so undefined, and the cells' confidence cannot be measured without cells."""
    from cellseg.neural_network.model import TrainedModel

    def nothing(self, image, scale):
        return np.zeros(image.shape[:2], np.int32), np.zeros(0)

    monkeypatch.setattr(TrainedModel, "_cells", nothing)
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    write_image(images / "glass.png", np.full((96, 96, 3), 255, np.uint8))
    write_image(labels / "glass.png", np.zeros((96, 96), np.uint16))
    result, rows = evaluate(
        cellseg, models / "first", images, labels, tmp_path / "e.csv", "--scale", "1"
    )
    counts = ("true_count", "predicted_count", "merged", "split", "missed", "spurious")
    for score in SCORE_NAMES:
        assert rows["glass.png"][score] == ("0" if score in counts else ""), score
    assert rows["mean"]["aji"] == "" and rows["images in the mean"]["aji"] == "0"
    assert "off by" not in result.out
    assert "cannot be measured" in result.out


def test_the_scale_of_each_image_is_written_and_auto_s_named(
    cellseg, models, training_data, tmp_path, monkeypatch
):
    """``--scale auto`` enlarging the images (here made to choose 2x) is said in a line
    naming them, and the CSV's ``scale`` column has each image's; a scale given is written
    too, and not announced."""
    from cellseg.neural_network.model import TrainedModel

    monkeypatch.setattr(TrainedModel, "choose_scale", lambda self, image: 2.0)
    images, labels = training_data / "images", training_data / "labels"
    result, rows = evaluate(cellseg, models / "first", images, labels, tmp_path / "a.csv")
    names = sorted(path.name for path in images.iterdir())
    assert [rows[name]["scale"] for name in names] == ["2.0"] * 4
    assert rows["mean"]["scale"] == ""
    [line] = [line for line in result.out.splitlines() if "enlarged" in line]
    assert "(--scale auto): 2x" in line and names[0] in line
    given, rows = evaluate(
        cellseg, models / "first", images, labels, tmp_path / "g.csv", "--scale", "1.5"
    )
    assert {rows[name]["scale"] for name in names} == {"1.5"}
    assert "enlarged" not in given.out and "shrunk" not in given.out


def test_auto_scales_an_image_from_the_pixel_size_its_file_records_as_predict_does(
    cellseg, training_data, tmp_path
):
    """An image whose file records its pixel size (a PNG's pHYs, here 0.125 um) is found
    at the scale predict chooses from it against the model's 0.25 um (0.5x), not at one
    the cells choose (1x, 2x or 4x), and evaluate says why."""
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    name = sorted(path.name for path in (training_data / "images").iterdir())[0]
    picture = Image.open(training_data / "images" / name)
    picture.save(images / name, dpi=(25400 / 0.125, 25400 / 0.125))
    labels = tmp_path / "labels"
    labels.mkdir()
    shutil.copy(training_data / "labels" / name, labels / name)
    result, rows = evaluate(cellseg, "default", images, labels, tmp_path / "e.csv")
    assert rows[name]["scale"] == "0.5"
    [line] = [line for line in result.out.splitlines() if "shrunk" in line]
    assert f"0.5x from 0.125 um pixels, the model's 0.25 ({name})" in line
    predicted = cellseg("predict", "default", images, "--output", tmp_path / "p")
    assert predicted.code == 0, predicted.err
    [counts] = read_csv(tmp_path / "p" / "counts.csv")
    assert float(counts["scale"]) == 0.5


def test_report_scores_an_image_without_cells_as_evaluate_does(
    cellseg, models, one_without_cells, tmp_path
):
    """report's evaluation table is evaluate's: recall and count error blank (-) on the
    image without cells drawn, and the row of how many images each mean is of."""
    import re

    images, labels, empty = one_without_cells
    _, rows = evaluate(cellseg, models / "first", images, labels, tmp_path / "e.csv")
    page = tmp_path / "report.html"
    result = cellseg(
        "report", models / "first", "--images", images, "--annotations", labels,
        "--output", page,
    )  # fmt: skip
    assert result.code == 0, result.err
    cells = {
        row[0]: row[1:]
        for row in (
            re.findall(r"<td>(.*?)</td>", found)
            for found in re.findall(r"<tr>(.*?)</tr>", page.read_text())
        )
        if row
    }
    for score in ("recall", "count_error"):
        column = SCORE_NAMES.index(score)
        assert cells[empty][column] == "-"
        assert cells["images in the mean"][column] == rows["images in the mean"][score] == "3"
