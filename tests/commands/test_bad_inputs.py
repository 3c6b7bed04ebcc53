"""Every bad input: a one-line error naming the file, exit code 1, nothing lost or changed."""

import numpy as np
import pytest

from cellseg.image_io import read_image, write_image
from cellseg.postprocessing.drawing import outline_layer


def assert_one_line_error_naming(result, path):
    assert result.code == 1
    assert "Traceback" not in result.err
    errors = [line for line in result.error_lines if ": error: " in line]
    assert len(errors) == 1, result.err
    assert str(path) in errors[0]


@pytest.mark.parametrize(
    "command",
    [("blur",), ("split", "--tile", "16", "--overlap", "4"), ("reduce",), ("labels",)],
    ids=lambda command: command[0],
)
def test_bad_image_file(tmp_path, cellseg, bad_image, folder_digest, command):
    before = folder_digest(bad_image.parent)
    name, *options = command
    result = cellseg(name, bad_image, tmp_path / "out", *options)
    assert_one_line_error_naming(result, bad_image)
    assert folder_digest(bad_image.parent) == before
    leftovers = list((tmp_path / "out").iterdir()) if (tmp_path / "out").exists() else []
    assert leftovers == []


def test_good_files_in_a_folder_are_processed_and_bad_ones_listed(
    tmp_path, cellseg, make_bad_image, folder_digest
):
    folder = tmp_path / "scans"
    folder.mkdir()
    for index in range(3):
        write_image(folder / f"good{index}.png", np.zeros((8, 8), np.uint8))
    truncated = make_bad_image(folder, "truncated PNG")
    empty = make_bad_image(folder, "zero bytes")
    before = folder_digest(folder)
    result = cellseg("blur", folder, tmp_path / "out")
    assert result.code == 1
    listed = [line for line in result.error_lines if ": error: " in line]
    assert len(listed) == 2
    assert any(str(truncated) in line for line in listed)
    assert any(str(empty) in line for line in listed)
    assert "2 of 5 images failed" in result.err
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "good0.png",
        "good1.png",
        "good2.png",
    ]
    assert folder_digest(folder) == before


def test_images_of_other_formats_in_a_folder_are_named_in_one_warning(tmp_path, cellseg):
    from PIL import Image

    folder = tmp_path / "scans"
    folder.mkdir()
    write_image(folder / "a.png", np.zeros((8, 8), np.uint8))
    for name in ("b.bmp", "c.webp", "d.gif", "e.BMP"):
        Image.new("RGB", (8, 8)).save(folder / name)
    (folder / "f.svs").write_bytes(b"a slide, which blur does not read")
    (folder / "notes.txt").write_text("not an image: passed over in silence")
    result = cellseg("blur", folder, tmp_path / "out")
    assert result.code == 0, result.err
    warned = [line for line in result.err.splitlines() if ": warning: " in line]
    assert warned == [
        f"cellseg blur: warning: {folder}: 5 images skipped, not PNG, JPEG or TIFF: b.bmp, "
        "c.webp, d.gif and 2 more"
    ]
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["a.png"]


def test_existing_output_is_kept_unless_overwrite(tmp_path, cellseg):
    write_image(tmp_path / "a.png", np.full((8, 8), 100, np.uint8))
    (tmp_path / "out").mkdir()
    write_image(tmp_path / "out" / "a.png", np.zeros((8, 8), np.uint8))
    result = cellseg("blur", tmp_path / "a.png", tmp_path / "out")
    assert_one_line_error_naming(result, tmp_path / "out" / "a.png")
    assert "--overwrite" in result.err
    assert read_image(tmp_path / "out" / "a.png").max() == 0
    assert cellseg("blur", tmp_path / "a.png", tmp_path / "out", "--overwrite").code == 0
    assert read_image(tmp_path / "out" / "a.png").max() == 100


def test_output_folder_must_not_be_or_lie_in_an_input_folder(tmp_path, cellseg):
    folder = tmp_path / "scans"
    folder.mkdir()
    write_image(folder / "a.png", np.zeros((8, 8), np.uint8))
    for output in (folder, folder / "blurred"):
        result = cellseg("blur", folder, output)
        assert_one_line_error_naming(result, output)
    assert sorted(path.name for path in folder.iterdir()) == ["a.png"]
    result = cellseg("blur", folder / "a.png", folder)
    assert_one_line_error_naming(result, folder)


@pytest.mark.parametrize("command", ["blur", "split", "reduce", "labels"])
def test_missing_path_and_empty_folder(tmp_path, cellseg, command):
    missing = tmp_path / "nowhere"
    assert_one_line_error_naming(cellseg(command, missing, tmp_path / "out"), missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    assert_one_line_error_naming(cellseg(command, empty, tmp_path / "out"), empty)


def test_inputs_whose_outputs_would_collide_are_refused(tmp_path, cellseg):
    """The second of two files of one name is refused, naming both; the rest is done (the
    whole command stopped)."""
    write_image(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    write_image(tmp_path / "a.tif", np.zeros((8, 8), np.uint8))
    write_image(tmp_path / "b.png", np.zeros((8, 8), np.uint8))
    files = [tmp_path / name for name in ("a.png", "a.tif", "b.png")]
    result = cellseg("blur", *files, tmp_path / "out")
    assert_one_line_error_naming(result, tmp_path / "a.tif")
    assert f"has the same name as {tmp_path / 'a.png'}" in result.err
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]


@pytest.mark.parametrize("command", ["reduce", "labels"])
def test_annotation_without_red(tmp_path, cellseg, command):
    layer = np.zeros((10, 10, 4), np.uint8)
    layer[2:5, 2:5] = (0, 0, 255, 255)  # drawn in blue
    write_image(tmp_path / "blue.png", layer)
    result = cellseg(command, tmp_path / "blue.png", tmp_path / "out")
    assert_one_line_error_naming(result, tmp_path / "blue.png")
    assert "no red outline pixels" in result.err


@pytest.mark.parametrize("command", ["reduce", "labels"])
def test_a_stained_image_given_as_annotation_is_refused(tmp_path, cellseg, command):
    """An H&E picture (the images folder given for the annotations) has red-enough pixels
    to make hundreds of false cells: refused, where an opaque layer of red outlines on a
    plain background, its edges smoothed, is read."""
    from skimage import data

    write_image(tmp_path / "photo.png", data.immunohistochemistry()[:200, :200])
    result = cellseg(command, tmp_path / "photo.png", tmp_path / "out")
    assert_one_line_error_naming(result, tmp_path / "photo.png")
    assert "looks like a photograph, not an annotation layer" in result.err
    layer = np.full((60, 60, 3), 255, np.uint8)  # white, no transparency
    layer[10:40, 10:40] = (255, 140, 140)  # a smoothed edge: paler than the line
    layer[11:39, 11:39] = (230, 0, 0)
    layer[12:38, 12:38] = (255, 140, 140)
    layer[13:37, 13:37] = 255
    write_image(tmp_path / "plain.png", layer)
    assert cellseg(command, tmp_path / "plain.png", tmp_path / "plain").code == 0


def test_gray_image_given_as_annotation(tmp_path, cellseg):
    write_image(tmp_path / "gray.png", np.zeros((10, 10), np.uint8))
    result = cellseg("labels", tmp_path / "gray.png", tmp_path / "out")
    assert_one_line_error_naming(result, tmp_path / "gray.png")
    assert "RGB or RGBA" in result.err


def test_annotation_of_another_size_than_its_image(tmp_path, cellseg):
    labels = np.zeros((30, 30), int)
    labels[5:15, 5:15] = 1
    (tmp_path / "outlines").mkdir()
    (tmp_path / "images").mkdir()
    write_image(tmp_path / "outlines" / "a.png", outline_layer(labels))
    write_image(tmp_path / "images" / "a.png", np.zeros((30, 40, 3), np.uint8))
    result = cellseg(
        "labels", tmp_path / "outlines", tmp_path / "out", "--images", tmp_path / "images"
    )
    assert_one_line_error_naming(result, tmp_path / "outlines" / "a.png")
    assert "30 x 30 pixels but its image" in result.err


def test_merge_of_a_folder_without_tiles(tmp_path, cellseg):
    (tmp_path / "empty").mkdir()
    result = cellseg("merge", tmp_path / "empty", tmp_path / "out")
    assert_one_line_error_naming(result, tmp_path / "empty")
