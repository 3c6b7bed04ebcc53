"""Annotations as users save them: JPEG copies, layers without cells, names written by macOS."""

import csv
import unicodedata

import numpy as np
import pytest

from cellseg.annotations import read_annotation_labels, read_outline_mask
from cellseg.errors import CellsegError
from cellseg.image_io import read_image, write_image
from cellseg.neural_network.dataset import PREDICTED_OUTLINES, annotated_pairs, pair_by_stem
from cellseg.neural_network.evaluation import IMAGES_IN_THE_MEAN
from cellseg.postprocessing.drawing import outline_layer

#: One name in its two Unicode forms: composed (typed on most systems) and decomposed (``e``
#: and a combining accent, as macOS writes file names).
CAFE_NFC = unicodedata.normalize("NFC", "café")
CAFE_NFD = unicodedata.normalize("NFD", "café")


def write(path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, image)


def cells(shape=(40, 50)) -> np.ndarray:
    labels = np.zeros(shape, np.int32)
    labels[5:15, 5:15], labels[20:32, 25:40] = 1, 2
    return labels


def flattened(layer: np.ndarray) -> np.ndarray:
    """An RGBA layer laid on white, as a program that saves JPEG writes it."""
    alpha = layer[..., 3:].astype(np.float32) / 255
    return (layer[..., :3] * alpha + 255 * (1 - alpha)).round().astype(np.uint8)


def blank_layer(shape=(40, 50)) -> np.ndarray:
    return np.zeros((*shape, 4), np.uint8)


def one_error(result) -> str:
    assert result.code == 1 and "Traceback" not in result.err, result.err
    errors = [line for line in result.error_lines if ": error: " in line]
    assert len(errors) == 1, result.err
    return errors[0]


# A JPEG annotation: its compression breaks the outlines into many false cells.


def test_a_jpeg_annotation_is_refused_wherever_annotations_are_read(tmp_path):
    jpeg, labels_jpeg = tmp_path / "layer.jpg", tmp_path / "labels.jpeg"
    write(jpeg, flattened(outline_layer(cells())))
    write(labels_jpeg, (cells() * 100).astype(np.uint8))
    for read in (read_outline_mask, read_annotation_labels):
        with pytest.raises(CellsegError, match=r"layer\.jpg: is a JPEG.*save annotations as PNG"):
            read(jpeg)
    with pytest.raises(CellsegError, match=r"labels\.jpeg: is a JPEG"):
        read_annotation_labels(labels_jpeg)


def test_a_jpeg_compressed_tiff_annotation_is_refused_and_a_lossless_one_read(tmp_path):
    import tifffile

    layer = outline_layer(cells())
    tifffile.imwrite(tmp_path / "jpeg.tif", layer[..., :3], compression="jpeg")
    tifffile.imwrite(tmp_path / "zlib.tif", layer, compression="zlib")
    with pytest.raises(CellsegError, match=r"jpeg\.tif: is a JPEG-compressed TIFF"):
        read_annotation_labels(tmp_path / "jpeg.tif")
    assert read_annotation_labels(tmp_path / "zlib.tif").max() == 2


@pytest.mark.parametrize("command", ["labels", "reduce"])
def test_commands_refuse_a_jpeg_annotation_in_one_line(tmp_path, cellseg, command):
    write(tmp_path / "in" / "jpeg.jpg", flattened(outline_layer(cells())))
    write(tmp_path / "in" / "png.png", flattened(outline_layer(cells())))
    result = cellseg(command, tmp_path / "in", tmp_path / "out")
    error = one_error(result)
    assert str(tmp_path / "in" / "jpeg.jpg") in error
    assert "lossy compression breaks the outlines" in error and "save annotations as PNG" in error
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["png.png"]


# A layer with nothing drawn on it: an image without cells.


def test_a_fully_transparent_layer_holds_no_cells(tmp_path):
    write(tmp_path / "blank.png", blank_layer())
    assert not read_outline_mask(tmp_path / "blank.png").any()
    labels = read_annotation_labels(tmp_path / "blank.png")
    assert labels.shape == (40, 50) and not labels.any()


@pytest.mark.parametrize(
    "layer",
    [
        np.full((40, 50, 4), 255, np.uint8),  # opaque white: a flattened or wrong file
        np.full((40, 50, 3), 255, np.uint8),
        np.pad(np.full((2, 2, 4), (255, 0, 0, 100), np.uint8), ((5, 33), (5, 43), (0, 0))),
    ],
    ids=["opaque RGBA", "RGB", "faint red"],
)
def test_a_layer_with_something_but_no_outline_drawn_is_still_refused(tmp_path, layer):
    write(tmp_path / "layer.png", layer)
    with pytest.raises(CellsegError, match=r"layer\.png: holds no red outline pixels"):
        read_annotation_labels(tmp_path / "layer.png")


@pytest.mark.parametrize("command", ["labels", "reduce"])
def test_commands_take_a_layer_without_cells(tmp_path, cellseg, command):
    write(tmp_path / "in" / "blank.png", blank_layer())
    result = cellseg(command, tmp_path / "in", tmp_path / "out")
    assert result.code == 0, result.err
    assert not read_image(tmp_path / "out" / "blank.png").any()
    if command == "labels":
        assert "0 cells in 1 annotation layer" in result.out


# Names in two Unicode forms are one name.


def test_images_and_annotations_named_in_two_unicode_forms_pair(tmp_path):
    images, annotations = tmp_path / "images", tmp_path / "annotations"
    write(images / f"{CAFE_NFC}.png", np.zeros((40, 50, 3), np.uint8))
    write(images / "plain.png", np.zeros((40, 50, 3), np.uint8))
    write(annotations / f"{CAFE_NFD}.png", outline_layer(cells()))
    write(annotations / "plain.tif", cells().astype(np.uint16))
    pairs = [(pair.image.name, pair.annotation.name) for pair in pair_by_stem(images, annotations)]
    assert pairs == [(f"{CAFE_NFC}.png", f"{CAFE_NFD}.png"), ("plain.png", "plain.tif")]
    assert [(p.image, p.annotation) for p in annotated_pairs(images, annotations)] == [
        (images / f"{CAFE_NFC}.png", annotations / f"{CAFE_NFD}.png"),
        (images / "plain.png", annotations / "plain.tif"),
    ]


def test_predicted_outlines_named_in_another_unicode_form_pair(tmp_path):
    images, predicted = tmp_path / "images", tmp_path / "predicted"
    write(images / f"{CAFE_NFD}.png", np.zeros((40, 50, 3), np.uint8))
    write(predicted / f"{CAFE_NFC}{PREDICTED_OUTLINES}.png", outline_layer(cells()))
    write(predicted / f"{CAFE_NFC}_labels.png", cells().astype(np.uint16))
    [pair] = annotated_pairs(images, predicted)
    assert pair.annotation.name == f"{CAFE_NFC}{PREDICTED_OUTLINES}.png"


def test_two_files_whose_names_differ_only_in_unicode_form_are_refused(tmp_path):
    images, annotations = tmp_path / "images", tmp_path / "annotations"
    for folder in (images, annotations):
        write(folder / f"{CAFE_NFC}.png", blank_layer())
    write(images / f"{CAFE_NFD}.png", blank_layer())
    with pytest.raises(CellsegError, match="has the same name as"):
        pair_by_stem(images, annotations)


def test_labels_finds_the_image_named_in_another_unicode_form(tmp_path, cellseg):
    write(tmp_path / "images" / f"{CAFE_NFC}.png", np.zeros((40, 50, 3), np.uint8))
    write(tmp_path / "outlines" / f"{CAFE_NFD}.png", outline_layer(cells()))
    result = cellseg(
        "labels", tmp_path / "outlines", tmp_path / "out", "--images", tmp_path / "images"
    )
    assert result.code == 0, result.err
    assert "2 cells in 1 annotation layer" in result.out


# The three together, as evaluate reads them.


def test_evaluate_scores_a_layer_without_cells_and_names_in_either_form(
    tmp_path, cellseg, small_model
):
    images, annotations = tmp_path / "images", tmp_path / "annotations"
    for stem in (CAFE_NFC, "blank", "photo"):
        write(images / f"{stem}.png", np.full((40, 48, 3), 200, np.uint8))
    write(annotations / f"{CAFE_NFD}.png", outline_layer(cells((40, 48))))
    write(annotations / "blank.png", blank_layer((40, 48)))
    write(annotations / "photo.jpg", flattened(outline_layer(cells((40, 48)))))
    table = tmp_path / "scores" / "scores.csv"
    result = cellseg(
        "evaluate", small_model, "--images", images, "--annotations", annotations,
        "--output", table, "--scale", "1",
    )  # fmt: skip
    error = one_error(result)
    assert str(annotations / "photo.jpg") in error and "is a JPEG" in error
    with open(table, newline="") as file:
        true_counts = {row["image"]: row["true_count"] for row in csv.DictReader(file)}
    assert true_counts == {
        f"{CAFE_NFC}.png": "2",
        "blank.png": "0",
        "mean": "1",
        IMAGES_IN_THE_MEAN: "2",  # the mean is of both images scored
    }
