"""``cellseg report`` agrees with the scores it shows and with ``cellseg evaluate``.

Its Confidence section is of the evaluation images' cells alone (it pooled the validation
images' too), its validation captions are of the cells the validation table counts (scale
1), an evaluation caption says the scale its cells were found at, and a bad evaluation
image is one line naming it, left out, as evaluate does (it was a traceback, or no report).
"""

import csv
import hashlib
import json
import re

import numpy as np
import pytest
from fixed_networks import dark_network

from cellseg.image_io import write_image
from cellseg.postprocessing.drawing import outline_layer
from cellseg.preprocessing.synthetic import synthetic_tissue

#: What the report says of the cells' confidence: the cells, then the error.
REPORT_CALIBRATION = re.compile(r"Over (\d+) cells? of the evaluation images.*?off by ([0-9.]+)")
#: What evaluate prints of it: the error, then the cells.
EVALUATE_CALIBRATION = re.compile(r"off by ([0-9.]+) on average .*?, (\d+) cells?\)")


def annotated(folder, name, image, labels) -> None:
    """Write ``image`` to folder/images and its red outlines to folder/outlines."""
    for kind in ("images", "outlines"):
        (folder / kind).mkdir(parents=True, exist_ok=True)
    write_image(folder / "images" / name, image)
    write_image(folder / "outlines" / name, outline_layer(labels))


def one_nucleus() -> tuple[np.ndarray, np.ndarray]:
    """A pale image holding one dark round nucleus, and its labels."""
    rows, columns = np.indices((96, 96))
    labels = ((rows - 48) ** 2 + (columns - 48) ** 2 <= 12**2).astype(np.uint16)
    image = np.full((96, 96, 3), 225, np.uint8)
    image[labels > 0] = (70, 40, 110)
    return image, labels


@pytest.fixture(scope="module")
def validated_model(tmp_path_factory):
    """A finished model (the fixed dark network) whose configuration lists two validation
    images that are still on disk, with its validation scores measured on them as
    training measures them (`evaluate_images`, at scale 1); its cell area is larger than
    the synthetic cells', so that --scale auto enlarges them."""
    from cellseg.neural_network.evaluation import evaluate_images
    from cellseg.neural_network.model import TrainedModel

    root = tmp_path_factory.mktemp("validated")
    data = root / "data"
    pairs = []
    for seed in (1, 2):
        image, labels = synthetic_tissue((160, 200), seed=seed)
        annotated(data, f"held_{seed}.png", image, labels)
        pairs.append((image, labels))
    folder = root / "dark"
    folder.mkdir()
    dark_network(folder / "best.keras")
    config = {
        "target": "3class",
        "divisor": 1,
        "status": "finished",
        "postprocessing": {"foreground": 0.5, "seed": 0.9, "min_area": 8, "smoothing": 1.0},
        "cell_area": 300.0,
    }
    (folder / "config.json").write_text(json.dumps(config))
    _, validation = evaluate_images(TrainedModel.load(folder), pairs)
    files = [
        {
            "image": name,
            "annotation": name,
            "image_sha256": hashlib.sha256((data / "images" / name).read_bytes()).hexdigest(),
            "split": "validation",
        }
        for name in ("held_1.png", "held_2.png")
    ]
    config["validation"] = validation
    config["settings"] = {
        "data": {
            "images": str(data / "images"),
            "annotations": str(data / "outlines"),
            "files": files,
        }
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    """An evaluation folder (images/, outlines/): tissue, and one nucleus on glass."""
    folder = tmp_path_factory.mktemp("evaluation")
    annotated(folder, "tissue.png", *synthetic_tissue((200, 240), seed=5))
    annotated(folder, "one.png", *one_nucleus())
    return folder


def report_of(cellseg, model, images, annotations, output):
    """Run report; its exit code, stderr and the HTML it wrote ("" when none)."""
    result = cellseg(
        "report", model, "--images", images, "--annotations", annotations, "--output", output
    )
    return result, (output.read_text() if output.is_file() else "")


def captions(text: str, section: str) -> list[str]:
    """The figure captions of one section of a report."""
    body = re.search(rf"<h2>{section}</h2>(.*?)</section>", text, re.S)[1]
    return re.findall(r"<figcaption>(.*?)</figcaption>", body)


def test_confidence_is_of_the_evaluation_cells_alone_as_evaluate_measures_it(
    cellseg, validated_model, evaluation, tmp_path
):
    arguments = ["--images", evaluation / "images", "--annotations", evaluation / "outlines"]
    evaluated = cellseg("evaluate", validated_model, *arguments, "--output", tmp_path / "e.csv")
    assert evaluated.code == 0, evaluated.err
    error, cells = EVALUATE_CALIBRATION.search(evaluated.out).groups()
    result, text = report_of(
        cellseg, validated_model, evaluation / "images", evaluation / "outlines", tmp_path / "r"
    )
    assert result.code == 0, result.err
    assert captions(text, "Validation images")  # their cells are there, to be left out
    assert REPORT_CALIBRATION.search(text).groups() == (cells, error)


def test_no_cell_found_is_said_to_leave_the_confidence_unmeasured(
    cellseg, validated_model, tmp_path
):
    glass = tmp_path / "glass"
    annotated(glass, "glass.png", np.full((64, 64, 3), 230, np.uint8), np.zeros((64, 64), int))
    result, text = report_of(
        cellseg, validated_model, glass / "images", glass / "outlines", tmp_path / "r.html"
    )
    assert result.code == 0, result.err
    confidence = re.search(r"<h2>Confidence</h2>(.*?)</section>", text, re.S)[1]
    assert "cannot be measured" in confidence
    assert "off by" not in confidence and "<svg" not in confidence


def test_validation_captions_count_the_cells_the_validation_table_counts(
    cellseg, validated_model, evaluation, tmp_path
):
    result, text = report_of(
        cellseg, validated_model, evaluation / "images", evaluation / "outlines", tmp_path / "r"
    )
    assert result.code == 0, result.err
    validation = json.loads((validated_model / "config.json").read_text())["validation"]
    shown = captions(text, "Validation images")
    counts = [int(re.search(r"(\d+) cells? found", caption)[1]) for caption in shown]
    assert len(counts) == 2 and np.mean(counts) == validation["predicted_count"]
    assert not [caption for caption in shown if "scale" in caption]  # at 1, as the table


def test_evaluation_captions_say_the_scale_and_count_as_evaluate_does(
    cellseg, validated_model, evaluation, tmp_path
):
    predicted = cellseg(
        "predict", validated_model, evaluation / "images", "--output", tmp_path / "p"
    )
    assert predicted.code == 0, predicted.err
    with open(tmp_path / "p" / "counts.csv", newline="") as file:
        rows = {row["image"]: row for row in csv.DictReader(file)}
    result, text = report_of(
        cellseg, validated_model, evaluation / "images", evaluation / "outlines", tmp_path / "r"
    )
    assert result.code == 0, result.err
    shown = {
        caption.split(":")[0]: caption for caption in captions(text, "Worst evaluation images")
    }
    assert set(shown) == set(rows) == {"tissue.png", "one.png"}
    for name, row in rows.items():
        scale = float(row["scale"])
        count = int(row["count"])
        assert f" {count} cell{'' if count == 1 else 's'} found of " in shown[name], shown[name]
        assert (f", at scale {scale:g}" in shown[name]) == (scale != 1), shown[name]
    assert float(rows["tissue.png"]["scale"]) != 1  # so one caption did say its scale
    assert "1 cell found of 1" in shown["one.png"]  # not "1 cells"


def test_a_bad_evaluation_image_is_one_line_and_left_out_as_in_evaluate(
    cellseg, validated_model, evaluation, tmp_path
):
    folder = tmp_path / "mixed"
    annotated(folder, "tissue.png", *synthetic_tissue((200, 240), seed=5))
    image, _ = synthetic_tissue((120, 120), seed=3)
    annotated(folder, "narrow.png", image, synthetic_tissue((120, 100), seed=3)[1])
    annotated(folder, "broken.png", *one_nucleus())
    whole = (folder / "images" / "broken.png").read_bytes()
    (folder / "images" / "broken.png").write_bytes(whole[: len(whole) // 2])
    arguments = ["--images", folder / "images", "--annotations", folder / "outlines"]
    evaluated = cellseg("evaluate", validated_model, *arguments, "--output", tmp_path / "e.csv")
    result, text = report_of(
        cellseg, validated_model, folder / "images", folder / "outlines", tmp_path / "r.html"
    )
    assert result.code == evaluated.code == 1, result.err
    errors = [line for line in result.error_lines if ": error: " in line]
    assert len(errors) == 2 and "Traceback" not in result.err, result.err
    assert "narrow.png" in errors[0] + errors[1] and "broken.png" in errors[0] + errors[1]
    assert all(line.startswith("cellseg report: error: ") for line in errors)
    evaluation_section = re.search(r"<h2>Evaluation</h2>(.*?)</section>", text, re.S)[1]
    assert "<td>tissue.png</td>" in evaluation_section
    assert "2 images left out" in evaluation_section
    assert "<li>narrow.png: " in evaluation_section and "<li>broken.png: " in evaluation_section
    assert "2 images left out" in result.out


def test_a_validation_image_that_cannot_be_read_is_left_out_and_said(
    cellseg, validated_model, evaluation, tmp_path
):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(validated_model, model)
    config = json.loads((model / "config.json").read_text())
    data = tmp_path / "data"
    held = config["settings"]["data"]
    shutil.copytree(held["images"], data / "images")
    shutil.copytree(held["annotations"], data / "outlines")
    held.update(images=str(data / "images"), annotations=str(data / "outlines"))
    (model / "config.json").write_text(json.dumps(config))
    (data / "outlines" / "held_2.png").write_bytes(b"not a PNG")
    result, text = report_of(
        cellseg, model, evaluation / "images", evaluation / "outlines", tmp_path / "r.html"
    )
    assert result.code == 1 and "held_2.png" in result.err and "Traceback" not in result.err
    assert len(captions(text, "Validation images")) == 1 and "<li>held_2.png: " in text


def test_the_reliability_chart_is_drawn_against_the_confidence():
    from cellseg import report

    points = [
        {"cells": 3, "confidence": 0.35, "real": 0.3},
        {"cells": 1, "confidence": 0.9, "real": 1.0},
    ]
    chart = report.reliability_chart(0.05, points, cells=4)
    assert ">epoch</text>" not in chart and "confidence</text>" in chart
    assert "Over 4 cells of the evaluation images" in chart
    assert "Over 1 cell of" in report.reliability_chart(0.1, points[1:], cells=1)
    assert "not known" in report.reliability_chart(float("nan"), [], cells=None)


def test_report_takes_evaluates_scale_and_warns_of_the_models_own_images(
    cellseg, models, training_data, tmp_path
):
    """``--scale`` as in evaluate (captions say it), and images the model was trained on
    flagged as evaluate flags them: on stderr and in the report."""
    page = tmp_path / "r.html"
    result = cellseg(
        "report", models / "first", "--images", training_data / "images",
        "--annotations", training_data / "outlines", "--output", page, "--scale", "1.5",
    )  # fmt: skip
    assert result.code == 0, result.err
    [warning] = [line for line in result.error_lines if "warning" in line]
    assert warning.startswith("cellseg report: warning: 4 of these 4 images are the model's own")
    text = page.read_text()
    assert '<p class="warning">4 of these 4 images are the model' in text
    shown = captions(text, "Worst evaluation images")
    assert shown and all(caption.endswith(", at scale 1.5") for caption in shown)
