"""Every command finds the same cells in the same image: predict, evaluate, report, demo and
export all segment through one TrainedModel, whole images and slides alike."""

import csv
import json
import re

import pytest
import tifffile
from fixed_networks import dark_network

from cellseg.image_io import read_image, write_image
from cellseg.postprocessing.drawing import outline_layer
from cellseg.preprocessing.synthetic import synthetic_tissue


@pytest.fixture(scope="module")
def dark_model(tmp_path_factory):
    """A model whose fixed network calls dark pixels cell interior: real cells on tissue."""
    folder = tmp_path_factory.mktemp("dark") / "dark"
    folder.mkdir()
    dark_network(folder / "best.keras")
    config = {
        "target": "3class",
        "divisor": 1,
        "test_time_flips": 2,
        "postprocessing": {"foreground": 0.5, "seed": 0.9, "min_area": 8, "smoothing": 1.0},
        "cell_area": 300.0,  # larger than the synthetic cells: --scale auto enlarges
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("annotated")
    for kind in ("images", "outlines"):
        (folder / kind).mkdir()
    image, labels = synthetic_tissue((200, 240), seed=5)
    write_image(folder / "images" / "tissue.png", image)
    write_image(folder / "outlines" / "tissue.png", outline_layer(labels))
    return folder


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def counts(cellseg, model, inputs, output, *options):
    result = cellseg("predict", model, inputs, "--output", output, *options)
    assert result.code == 0, result.err
    return {row["image"]: row for row in read_csv(output / "counts.csv")}


def test_predict_evaluate_and_report_count_the_same_cells(cellseg, dark_model, annotated, tmp_path):
    predicted = counts(cellseg, dark_model, annotated / "images", tmp_path / "predicted")
    count = int(predicted["tissue.png"]["count"])
    assert count > 10 and float(predicted["tissue.png"]["scale"]) > 1  # auto enlarged it
    scores = tmp_path / "scores.csv"
    evaluated = cellseg(
        "evaluate", dark_model, "--images", annotated / "images",
        "--annotations", annotated / "outlines", "--output", scores,
    )  # fmt: skip
    assert evaluated.code == 0, evaluated.err
    assert float(read_csv(scores)[0]["predicted_count"]) == count
    report = tmp_path / "report.html"
    reported = cellseg(
        "report", dark_model, "--output", report, "--images", annotated / "images",
        "--annotations", annotated / "outlines",
    )  # fmt: skip
    assert reported.code == 0, reported.err
    assert re.search(rf"tissue\.png: AJI [0-9.]+, {count} cells found", report.read_text())


def test_a_slide_is_counted_alike_by_predict_and_evaluate(
    cellseg, dark_model, annotated, tmp_path, monkeypatch
):
    import cellseg.neural_network.model as model
    import cellseg.neural_network.whole_slide as whole_slide

    monkeypatch.setattr(model, "REGION_MODE_PIXELS", 10_000)  # region by region
    monkeypatch.setattr(whole_slide, "REGION", 256)
    monkeypatch.setattr(whole_slide, "HALO", 32)
    slides = tmp_path / "slides"
    slides.mkdir()
    image = read_image(annotated / "images" / "tissue.png")
    tifffile.imwrite(slides / "tissue.tif", image, tile=(64, 64))
    predicted = counts(cellseg, dark_model, slides, tmp_path / "predicted", "--scale", "1")
    assert (tmp_path / "predicted" / "tissue_labels.tif").is_file()
    scores = tmp_path / "scores.csv"
    evaluated = cellseg(
        "evaluate", dark_model, "--images", slides, "--annotations", annotated / "outlines",
        "--output", scores, "--scale", "1",
    )  # fmt: skip
    assert evaluated.code == 0, evaluated.err
    assert float(read_csv(scores)[0]["predicted_count"]) == int(predicted["tissue.tif"]["count"])


def test_demo_counts_what_predict_counts_on_its_image(cellseg, dark_model, tmp_path):
    demo = cellseg("demo", "--model", dark_model, "--output", tmp_path / "demo")
    assert demo.code == 0, demo.err
    shown = int(re.search(r"Cells found: (\d+)", demo.out)[1])
    predicted = counts(cellseg, dark_model, tmp_path / "demo" / "tissue.png", tmp_path / "p")
    assert int(predicted["tissue.png"]["count"]) == shown > 10  # both at --scale auto


def test_export_gives_the_page_the_models_own_settings(cellseg, dark_model, tmp_path):
    from cellseg.neural_network.model import TrainedModel

    result = cellseg("export", dark_model, "--output", tmp_path / "site")
    assert result.code == 0, result.err
    page = json.loads((tmp_path / "site" / "model.json").read_text())
    config = TrainedModel.load(dark_model).config
    assert page["postprocessing"] == config.thresholds.to_dict()
    assert (page["divisor"], page["test_time_flips"], page["cell_area"]) == (1, 2, 300.0)
