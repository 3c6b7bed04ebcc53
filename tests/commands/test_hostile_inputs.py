"""Hostile inputs to the model commands: one line naming the file, exit 1, nothing changed.

(The preprocessing commands meet every kind of broken image in test_bad_inputs.py, the
users' Python files in neural_network/test_user_files.py, full disks and read-only folders
in test_image_io.py, an interrupted training in neural_network/test_resume.py.)
"""

import json
import shutil

import numpy as np
import pytest
import tifffile

from cellseg.image_io import read_image, write_image
from cellseg.preprocessing.outlines import outline_layer


def assert_refused(result, path):
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    lines = [line for line in result.error_lines if ": error: " in line]
    assert len(lines) == 1, result.err
    assert str(path) in lines[0]


def test_predict_refuses_each_broken_image(
    cellseg, small_model, bad_image, tmp_path, folder_digest
):
    before = folder_digest(bad_image.parent)
    result = cellseg("predict", small_model, bad_image, "--output", tmp_path / "out")
    assert_refused(result, bad_image)
    assert folder_digest(bad_image.parent) == before


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("rgb 16-bit.tif", np.full((40, 50, 3), 30000, np.uint16)),
        ("gray scan.png", np.full((40, 50), 200, np.uint8)),
        ("núcleos día 1 (α).png", np.full((40, 50, 3), 220, np.uint8)),
    ],
)
def test_predict_reads_16_bit_gray_and_unicode_names(cellseg, small_model, tmp_path, name, image):
    (tmp_path / "in").mkdir()
    write_image(tmp_path / "in" / name, image)
    result = cellseg("predict", small_model, tmp_path / "in", "--output", tmp_path / "out")
    assert result.code == 0, result.err
    stem = name.rsplit(".", 1)[0]
    assert read_image(tmp_path / "out" / f"{stem}_labels.png").shape == image.shape[:2]


@pytest.mark.parametrize("damage", ["no config", "corrupt config", "no network", "corrupt network"])
def test_damaged_model_folder(cellseg, small_model, tmp_path, damage):
    model = tmp_path / "model"
    shutil.copytree(small_model, model)
    if damage == "no config":
        (model / "config.json").unlink()
        named = model / "config.json"
    elif damage == "corrupt config":
        (model / "config.json").write_text('{"target": ')
        named = model / "config.json"
    elif damage == "no network":
        (model / "best.keras").unlink()
        named = model / "model.keras"
    else:
        (model / "best.keras").write_bytes(b"PK\x03\x04 not really a zip")
        named = model / "best.keras"
    write_image(tmp_path / "a.png", np.zeros((32, 32, 3), np.uint8))
    for command in (
        ("predict", model, tmp_path / "a.png", "--output", tmp_path / "out"),
        ("export", model, "--output", tmp_path / "site"),
    ):
        result = cellseg(*command)
        expected = named if damage not in ("no config",) else model
        assert_refused(result, expected)
    assert not (tmp_path / "site").exists()


def test_network_asking_for_code_is_refused(cellseg, tmp_path):
    import keras

    model = tmp_path / "model"
    model.mkdir()
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Lambda(lambda x: x[..., :1])(inputs)
    keras.Model(inputs, outputs).save(model / "best.keras")
    (model / "config.json").write_text(json.dumps({"target": "mask"}))
    write_image(tmp_path / "a.png", np.zeros((32, 32, 3), np.uint8))
    result = cellseg("predict", model, tmp_path / "a.png", "--output", tmp_path / "out")
    assert_refused(result, model / "best.keras")


def test_all_red_annotation(cellseg, tmp_path):
    layer = np.zeros((20, 20, 4), np.uint8)
    layer[:] = (255, 0, 0, 255)
    write_image(tmp_path / "filled.png", layer)
    result = cellseg("labels", tmp_path / "filled.png", tmp_path / "out")
    assert_refused(result, tmp_path / "filled.png")
    assert "100% red" in result.err


def test_evaluate_annotation_of_another_size(cellseg, small_model, tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "outlines").mkdir()
    write_image(tmp_path / "images" / "a.png", np.zeros((40, 40, 3), np.uint8))
    labels = np.zeros((30, 40), int)
    labels[5:15, 5:15] = 1
    write_image(tmp_path / "outlines" / "a.png", outline_layer(labels))
    result = cellseg(
        "evaluate",
        small_model,
        "--images",
        tmp_path / "images",
        "--annotations",
        tmp_path / "outlines",
        "--output",
        tmp_path / "scores.csv",
    )
    assert_refused(result, tmp_path / "outlines" / "a.png")
    assert not (tmp_path / "scores.csv").exists()


def test_predict_output_inside_the_input_folder(cellseg, small_model, tmp_path):
    (tmp_path / "slides").mkdir()
    write_image(tmp_path / "slides" / "a.png", np.zeros((32, 32, 3), np.uint8))
    result = cellseg(
        "predict", small_model, tmp_path / "slides", "--output", tmp_path / "slides" / "results"
    )
    assert_refused(result, tmp_path / "slides" / "results")
    assert sorted(path.name for path in (tmp_path / "slides").iterdir()) == ["a.png"]


def test_multi_page_and_nan_tiff_slides(cellseg, small_model, tmp_path):
    nan = np.zeros((40, 40), np.float32)
    nan[3, 3] = np.nan
    tifffile.imwrite(tmp_path / "nan.tif", nan)
    result = cellseg("predict", small_model, tmp_path / "nan.tif", "--output", tmp_path / "out")
    assert_refused(result, tmp_path / "nan.tif")
