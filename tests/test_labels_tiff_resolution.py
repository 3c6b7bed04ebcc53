"""An image's label TIFF carries its pixel size, as a slide's does: what napari and Fiji
(OME ``PhysicalSizeX`` in µm, the TIFF resolution in pixels per centimetre) and cellseg
itself read back."""

from types import SimpleNamespace

import numpy as np
import pytest
import tifffile

from cellseg.image_io import read_image, write_image
from cellseg.image_metadata import recorded_pixel_size
from cellseg.output_formats import FORMATS, ImageResult


def labels_result(labels: np.ndarray, pixel_size: float | None) -> ImageResult:
    """What predict gives the writers of an image held whole, its cells unmeasured."""
    overlay = SimpleNamespace(colour=(255, 0, 0), width=1, positive=None, negative=None)
    cells = SimpleNamespace(labels=labels, image=np.zeros(labels.shape + (3,), np.uint8))
    return ImageResult("a", cells, [], None, overlay, pixel_size)


def resolution(path):
    """(OME PhysicalSizeX or None, the first page's resolution, its unit's name)."""
    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        physical = None
        if tiff.is_ome:
            found = tifffile.xml2dict(tiff.ome_metadata)["OME"]["Image"]["Pixels"]
            physical = (found.get("PhysicalSizeX"), found.get("PhysicalSizeXUnit"))
        return physical, page.resolution, page.resolutionunit.name


@pytest.mark.parametrize("pixel_size", [0.25, 0.5])
def test_image_labels_tiff_has_the_pixel_size(tmp_path, pixel_size):
    labels = np.arange(60 * 70, dtype=np.int32).reshape(60, 70) % 9
    FORMATS["tiff"].write_image(tmp_path, labels_result(labels, pixel_size))
    path = tmp_path / "a_labels.tif"
    np.testing.assert_array_equal(read_image(path), labels)
    assert read_image(path).dtype == np.uint32
    per_centimetre = 1e4 / pixel_size
    assert resolution(path) == (
        (pixel_size, "µm"),
        (pytest.approx(per_centimetre), pytest.approx(per_centimetre)),
        "CENTIMETER",
    )
    assert recorded_pixel_size(path) == pytest.approx(pixel_size)


def test_without_a_pixel_size_none_is_claimed(tmp_path):
    labels = np.eye(40, dtype=np.int32)
    FORMATS["tiff"].write_image(tmp_path, labels_result(labels, None))
    physical, _, unit = resolution(tmp_path / "a_labels.tif")
    assert physical in (None, (None, None)) and unit == "NONE"
    assert recorded_pixel_size(tmp_path / "a_labels.tif") is None
    np.testing.assert_array_equal(read_image(tmp_path / "a_labels.tif"), labels)


def test_more_labels_than_a_png_holds_keep_the_pixel_size(tmp_path):
    labels = np.arange(1, 256 * 260 + 1, dtype=np.int64).reshape(256, 260)  # past 65,535
    FORMATS["png"].write_image(tmp_path, labels_result(labels, 0.25))
    assert not (tmp_path / "a_labels.png").exists()
    np.testing.assert_array_equal(read_image(tmp_path / "a_labels.tif"), labels)
    assert recorded_pixel_size(tmp_path / "a_labels.tif") == pytest.approx(0.25)


def test_predict_writes_the_pixel_size_given_or_recorded(tmp_path, cellseg, small_model):
    rng = np.random.default_rng(0)
    image = rng.integers(100, 255, (64, 80, 3), dtype=np.uint8)
    (tmp_path / "in").mkdir()
    write_image(tmp_path / "in" / "given.png", image)
    tifffile.imwrite(  # a TIFF that records its own pixel size, 0.5 µm
        tmp_path / "in" / "recorded.tif", image, resolution=(2e4, 2e4), resolutionunit="CENTIMETER"
    )
    common = ("--format", "tiff", "--scale", "1")
    given = cellseg(
        "predict", small_model, tmp_path / "in" / "given.png", "--output", tmp_path / "a",
        "--pixel-size", "0.25", *common,
    )  # fmt: skip
    assert given.code == 0, given.err
    assert recorded_pixel_size(tmp_path / "a" / "given_labels.tif") == pytest.approx(0.25)
    recorded = cellseg(
        "predict", small_model, tmp_path / "in" / "recorded.tif", "--output", tmp_path / "b",
        *common,
    )  # fmt: skip
    assert recorded.code == 0, recorded.err
    assert recorded_pixel_size(tmp_path / "b" / "recorded_labels.tif") == pytest.approx(0.5)
    assert resolution(tmp_path / "b" / "recorded_labels.tif")[0] == (0.5, "µm")
