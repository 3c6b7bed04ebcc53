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
from cellseg.postprocessing.drawing import outline_layer


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


def test_a_damaged_slide_is_one_line_and_the_finished_images_are_counted(
    cellseg, small_model, tmp_path, monkeypatch
):
    import cellseg.neural_network.model as model

    monkeypatch.setattr(model, "REGION_MODE_PIXELS", 10_000)  # TIFFs region by region
    slides = tmp_path / "slides"
    slides.mkdir()
    image = np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    write_image(slides / "a_good.png", image[:64, :64])
    tifffile.imwrite(slides / "b_damaged.tif", image, tile=(64, 64), compression="zlib")
    data = bytearray((slides / "b_damaged.tif").read_bytes())
    data[len(data) // 2 : len(data) // 2 + 400] = b"\x00" * 400  # some tiles' zlib streams
    (slides / "b_damaged.tif").write_bytes(bytes(data))
    before = {path.name: path.read_bytes() for path in slides.iterdir()}
    result = cellseg("predict", small_model, slides, "--output", tmp_path / "out", "--scale", "1")
    assert_refused(result, slides / "b_damaged.tif")
    with open(tmp_path / "out" / "counts.csv") as file:
        assert [line.split(",")[0] for line in file][1:] == ["a_good.png"]
    assert not list((tmp_path / "out").glob("b_damaged_labels.tif"))
    assert not list((tmp_path / "out").glob(".*"))  # nothing half-written
    assert {path.name: path.read_bytes() for path in slides.iterdir()} == before


def test_a_16_bit_slide_is_scaled_alike_in_every_region(tmp_path):
    from cellseg.slide_io import TiffRegions

    image = np.zeros((100, 200), np.uint16)
    image[:, :100] = 3000  # a dim half: as 12-bit data it would read as bright as 48000
    image[:, 100:] = 48000
    tifffile.imwrite(tmp_path / "slide.tif", image)
    source = TiffRegions(tmp_path / "slide.tif")
    dim, bright = source.read(0, 0, 100, 100), source.read(0, 100, 100, 200)
    source.close()
    assert dim.dtype == np.uint8 and int(dim.max()) == round(3000 * 255 / 65535)
    assert int(bright.max()) == round(48000 * 255 / 65535)


@pytest.mark.parametrize("kind", ["huge ids", "negative id"])
def test_label_annotations_with_huge_or_negative_ids(cellseg, small_model, tmp_path, kind):
    from cellseg.annotations import read_annotation_labels

    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    write_image(tmp_path / "images" / "a.png", np.full((40, 40, 3), 200, np.uint8))
    labels = np.zeros((40, 40), np.int64)
    labels[5:15, 5:15], labels[20:30, 20:30] = (4_000_000_000, 7) if kind == "huge ids" else (-1, 7)
    path = tmp_path / "labels" / "a.tif"
    tifffile.imwrite(path, labels)
    result = cellseg(
        "evaluate", small_model, "--images", tmp_path / "images",
        "--annotations", tmp_path / "labels", "--output", tmp_path / "scores.csv",
    )  # fmt: skip
    if kind == "negative id":
        assert_refused(result, path)
        assert "negative" in result.err
    else:
        assert result.code == 0, result.err
        read = read_annotation_labels(path)
        assert read.max() == 2 and read[10, 10] == 2 and read[25, 25] == 1 and read[0, 0] == 0


def test_a_network_file_that_unpacks_to_too_much_is_refused_before_loading(
    cellseg, small_model, tmp_path
):
    import time
    import zipfile

    model = tmp_path / "model"
    shutil.copytree(small_model, model)
    bomb = model / "best.keras"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", "{}")
        with archive.open("config.json", "w", force_zip64=True) as member:
            for _ in range(20):  # 20 MiB of spaces, a few KiB packed
                member.write(b" " * 2**20)
    assert bomb.stat().st_size < 200_000
    write_image(tmp_path / "a.png", np.zeros((32, 32, 3), np.uint8))
    started = time.monotonic()
    result = cellseg("predict", model, tmp_path / "a.png", "--output", tmp_path / "out")
    assert_refused(result, bomb)
    assert "config.json unpacks to" in result.err and time.monotonic() - started < 30


def test_leaderboard_marks_a_model_with_a_damaged_history_and_shows_the_rest(
    cellseg, small_model, tmp_path
):
    for name in ("good", "damaged"):
        shutil.copytree(small_model, tmp_path / "models" / name)
    (tmp_path / "models" / "good" / "history.csv").write_text("epoch,loss\n1,0.5\n")
    (tmp_path / "models" / "damaged" / "history.csv").write_bytes(b"epoch,loss\n1,\xff\xfe\n")
    result = cellseg("leaderboard", "--models-dir", tmp_path / "models")
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    lines = result.out.splitlines()
    rows = {line.split()[1]: line for line in lines[1:] if not line.startswith("cellseg")}
    assert "unreadable" in rows["damaged"] and "finished" in rows["good"]
    # Why, on a line below the table: in it, it widened the status column of every row.
    assert "history.csv" not in rows["damaged"] and len(rows["good"]) < 150
    assert [line for line in lines if "history.csv" in line] == [
        line for line in lines if line.startswith("cellseg leaderboard: damaged is unreadable: ")
    ]


def test_an_open_outline_is_left_out_with_one_warning_naming_the_file(cellseg, tmp_path):
    labels = np.zeros((60, 60), np.int32)
    labels[5:20, 5:20] = 1
    layer = outline_layer(labels)
    arc_rows = np.arange(30, 55)
    layer[arc_rows, 40] = (255, 0, 0, 255)  # a line drawn around nothing
    layer[30, 40:55] = (255, 0, 0, 255)
    (tmp_path / "outlines").mkdir()
    write_image(tmp_path / "outlines" / "a.png", layer)
    result = cellseg("labels", tmp_path / "outlines", tmp_path / "out")
    assert result.code == 0, result.err
    warned = [line for line in result.error_lines if ": warning: " in line]
    assert len(warned) == 1 and str(tmp_path / "outlines" / "a.png") in warned[0]
    assert "not closed" in warned[0] and "row 30, column 40" in warned[0]
    found = read_image(tmp_path / "out" / "a.png")
    assert found.max() == 1 and found[40, 40] == 0  # the square, not the arc
