"""Tests for cellseg.postprocessing.measurements: stain densities, per-cell measurements, counts."""

import dataclasses
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.draw import disk
from skimage.measure import regionprops_table

from cellseg.postprocessing.counts import image_counts
from cellseg.postprocessing.measurements import (
    CELL_COLUMNS,
    CellMeasurement,
    measure_cells,
    stain_densities,
)
from cellseg.postprocessing.positivity import positive

BROWN = (150, 96, 52)  # DAB-like
BLUE = (78, 62, 148)  # haematoxylin-like


def pixel(colour, dtype=np.uint8) -> np.ndarray:
    return np.array([[colour]], dtype=dtype)


def cell(id, dab, haematoxylin=0.5) -> CellMeasurement:
    return CellMeasurement(id, 0.0, 0.0, 10, 10.0, 0.0, haematoxylin, dab)


# stain_densities ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "white",
    [
        pixel((255, 255, 255)),
        pixel((65535, 65535, 65535), np.uint16),
        pixel((255, 255, 255, 0)),
        np.array([[255]], np.uint8),
        np.array([[1.0]]),
    ],
    ids=["rgb", "rgb16", "rgba", "gray", "float"],
)
def test_a_white_pixel_has_no_stain(white):
    densities = stain_densities(white)
    assert densities.shape == (1, 1, 2)
    assert densities.dtype == np.float32
    np.testing.assert_array_equal(densities, 0.0)


def test_densities_are_log10_optical_densities():
    # A gray pixel at a tenth of full intensity has optical density 1 in every channel; the
    # stains are then the column sums of the inverse of the Ruifrok & Johnston matrix
    # (skimage.color.hed_from_rgb): haematoxylin 1.8780 - 0.0659 - 0.6019 = 1.2102,
    # DAB -0.5561 - 0.1355 + 1.5736 = 0.8820.
    densities = stain_densities(np.full((1, 1, 3), 0.1))
    np.testing.assert_allclose(densities[0, 0], [1.2102, 0.8820], atol=1e-4)


def test_brown_reads_as_dab_and_blue_as_haematoxylin():
    brown = stain_densities(pixel(BROWN))[0, 0]
    blue = stain_densities(pixel(BLUE))[0, 0]
    assert brown[1] > blue[1]  # DAB
    assert blue[0] > brown[0]  # haematoxylin
    assert brown[1] > 0.5 and blue[0] > 0.5


def test_sixteen_bits_give_the_same_densities_as_eight(rgb_image):
    eight = stain_densities(rgb_image)
    sixteen = stain_densities(rgb_image.astype(np.uint16) * 257)  # 255 -> 65535
    np.testing.assert_allclose(sixteen, eight, atol=1e-2)


def test_alpha_is_ignored(rgb_image):
    rgba = np.concatenate([rgb_image, np.zeros(rgb_image.shape[:2] + (1,), np.uint8)], axis=2)
    np.testing.assert_array_equal(stain_densities(rgba), stain_densities(rgb_image))


def test_gray_is_haematoxylin_optical_density_and_no_dab():
    gray = np.array([[255, 25, 0]], np.uint8)
    densities = stain_densities(gray)
    # -log10(25 / 255) = 1.00860; black is clipped to 1/255: log10(255) = 2.40654.
    np.testing.assert_allclose(densities[0, :, 0], [0.0, 1.00860, 2.40654], atol=1e-5)
    np.testing.assert_array_equal(densities[:, :, 1], 0.0)


def test_gray_sixteen_bit_black_is_clipped_like_eight_bit():
    densities = stain_densities(np.array([[0, 65535]], np.uint16))
    np.testing.assert_allclose(densities[0, :, 0], [np.log10(255), 0.0], atol=1e-5)


def test_chosen_stains_come_in_the_order_asked(rgb_image):
    everything = stain_densities(rgb_image, stains=("dab", "eosin", "haematoxylin"))
    default = stain_densities(rgb_image)
    assert everything.shape == rgb_image.shape[:2] + (3,)
    np.testing.assert_array_equal(everything[:, :, [2, 0]], default)


def test_input_is_not_changed(rgb_image):
    before = rgb_image.copy()
    stain_densities(rgb_image)
    np.testing.assert_array_equal(rgb_image, before)


@pytest.mark.parametrize(
    "image",
    [np.zeros((2, 2, 5), np.uint8), np.zeros((2, 2), complex), np.zeros(4, np.uint8)],
    ids=["five channels", "complex", "1-D"],
)
def test_unusable_images_are_refused(image):
    with pytest.raises(ValueError, match="expected"):
        stain_densities(image)


def test_any_integer_image_is_read_by_its_brightest_value():
    gray = np.array([[0, 50, 100]], np.int32)  # a 32-bit gray image, as TIFFs may hold
    np.testing.assert_allclose(
        stain_densities(gray)[0, :, 0],
        stain_densities(np.array([[0, 127, 255]], np.uint8))[0, :, 0],
        atol=0.01,
    )


def test_unknown_stain_is_refused(rgb_image):
    with pytest.raises(ValueError, match="unknown stains"):
        stain_densities(rgb_image, stains=("haematoxylin", "methylene blue"))


# measure_cells ------------------------------------------------------------------------


def white(shape) -> np.ndarray:
    return np.full(shape + (3,), 255, np.uint8)


def test_rectangle_area_centroid_perimeter_and_eccentricity():
    labels = np.zeros((10, 12), np.int32)
    labels[2:6, 3:9] = 4  # 4 rows x 6 columns
    (measured,) = measure_cells(white(labels.shape), labels)
    assert measured.id == 4
    assert measured.area == 24
    assert (measured.centroid_row, measured.centroid_column) == (3.5, 5.5)
    # Every outline pixel of a rectangle weighs 1: 2 * (4 + 6) - 4 = 16 of them.
    assert measured.perimeter == pytest.approx(16.0)
    # Row and column variances (n^2 - 1) / 12: 15/12 and 35/12; sqrt(1 - 15/35).
    assert measured.eccentricity == pytest.approx(np.sqrt(1 - 15 / 35))


def test_square_perimeter_counts_its_eight_outline_pixels():
    labels = np.zeros((7, 7), np.int32)
    labels[2:5, 2:5] = 1
    (measured,) = measure_cells(white(labels.shape), labels)
    assert (measured.area, measured.perimeter) == (9, 8.0)
    assert (measured.centroid_row, measured.centroid_column) == (3.0, 3.0)


def test_disc_is_round_and_thin_line_is_eccentric():
    labels = np.zeros((41, 61), np.int32)
    labels[disk((25, 20), 8)] = 1
    labels[5:7, 15:55] = 2  # 2 rows x 40 columns
    disc, line = measure_cells(white(labels.shape), labels)
    assert disc.eccentricity == pytest.approx(0.0, abs=1e-6)
    assert (disc.centroid_row, disc.centroid_column) == (25.0, 20.0)
    # Variances 3/12 and 1599/12: sqrt(1 - 3/1599) = 0.99906.
    assert line.eccentricity == pytest.approx(np.sqrt(1 - 3 / 1599))
    assert line.eccentricity > 0.9


def test_cells_come_in_id_order_and_background_is_ignored():
    labels = np.zeros((6, 9), np.uint16)
    labels[0:2, 0:2] = 9
    labels[3:5, 0:3] = 2
    labels[0:3, 5:8] = 5
    measured = measure_cells(white(labels.shape), labels)
    assert [entry.id for entry in measured] == [2, 5, 9]
    assert [entry.area for entry in measured] == [6, 9, 4]


def test_mean_densities_are_those_of_the_cell_pixels():
    image = np.full((5, 6), 255, np.uint8)
    image[1:4, 1:3] = 25  # cell 1: gray level 25, optical density log10(255 / 25)
    image[1:4, 4] = 255  # cell 2: white
    labels = np.zeros((5, 6), np.int32)
    labels[1:4, 1:3] = 1
    labels[1:4, 4] = 2
    dark, pale = measure_cells(image, labels)
    assert dark.haematoxylin == pytest.approx(np.log10(255 / 25), abs=1e-5)
    assert (dark.dab, pale.haematoxylin, pale.dab) == (0.0, 0.0, 0.0)


def test_brown_cell_has_more_dab_than_blue_cell():
    image = white((4, 4))
    image[:, :2] = BROWN
    image[:, 2:] = BLUE
    labels = np.array([[1, 1, 2, 2]] * 4, np.int32)
    brown, blue = measure_cells(image, labels)
    assert brown.dab > blue.dab
    assert blue.haematoxylin > brown.haematoxylin


def test_no_cells_gives_an_empty_list():
    assert measure_cells(white((5, 5)), np.zeros((5, 5), np.int32)) == []


def test_fields_are_the_csv_columns_in_order():
    assert tuple(field.name for field in dataclasses.fields(CellMeasurement)) == CELL_COLUMNS
    labels = np.zeros((4, 4), np.int32)
    labels[1:3, 1:3] = 3
    (measured,) = measure_cells(white(labels.shape), labels)
    row = dataclasses.asdict(measured)
    assert list(row) == list(CELL_COLUMNS)
    assert row["id"] == 3 and type(row["id"]) is int and type(row["dab"]) is float


def test_measuring_changes_neither_image_nor_labels(rgb_image):
    labels = np.zeros(rgb_image.shape[:2], np.int32)
    labels[10:20, 5:15] = 1
    image_before, labels_before = rgb_image.copy(), labels.copy()
    measure_cells(rgb_image, labels)
    np.testing.assert_array_equal(rgb_image, image_before)
    np.testing.assert_array_equal(labels, labels_before)


@pytest.mark.parametrize(
    "labels",
    [np.zeros((5, 4), np.int32), np.zeros((5, 5), np.float32), -np.ones((5, 5), np.int32)],
    ids=["other shape", "float", "negative"],
)
def test_unusable_labels_are_refused(labels):
    with pytest.raises(ValueError):
        measure_cells(white((5, 5)), labels)


@settings(max_examples=150, deadline=None)
@given(
    arrays(np.int32, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 4))
)
def test_shapes_are_scikit_images_regionprops(labels):
    """Any labels, cells in pieces, lines and single pixels included."""
    expected = regionprops_table(
        labels, properties=("label", "area", "centroid", "perimeter", "eccentricity")
    )
    measured = measure_cells(np.full(labels.shape, 255, np.uint8), labels)

    assert [cell.id for cell in measured] == list(expected["label"])
    assert [cell.area for cell in measured] == list(expected["area"])
    for field, column in (
        ("centroid_row", "centroid-0"),
        ("centroid_column", "centroid-1"),
        ("perimeter", "perimeter"),
        ("eccentricity", "eccentricity"),
    ):
        got = [getattr(cell, field) for cell in measured]
        np.testing.assert_allclose(got, expected[column], atol=1e-9, err_msg=field)


def test_a_thousand_square_image_with_500_cells_is_measured_fast():
    rng = np.random.default_rng(0)
    labels = np.zeros((1000, 1000), np.int32)
    for cell_id in range(1, 501):
        labels[disk(tuple(rng.uniform(15, 985, 2)), rng.uniform(5, 12), shape=labels.shape)] = (
            cell_id
        )
    image = rng.integers(0, 256, (1000, 1000, 3), dtype=np.uint8)
    measure_cells(image[:50, :50], labels[:50, :50])  # first-call imports
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        measured = measure_cells(image, labels)
        seconds.append(time.perf_counter() - start)
    assert len(measured) == len(np.unique(labels)) - 1
    assert min(seconds) < 0.5


# positive and counting ---------------------------------------------------------------


def test_positive_at_or_above_the_threshold():
    cells = [cell(1, 0.1), cell(2, 0.2), cell(3, 0.35)]
    np.testing.assert_array_equal(positive(cells, 0.2), [False, True, True])
    assert positive(cells, 0.2).dtype == bool


def test_positive_of_no_cells_is_empty():
    result = positive([], 0.2)
    assert result.shape == (0,) and result.dtype == bool


def test_counting_measured_cells_end_to_end():
    image = white((6, 8))
    image[:, :4] = BROWN
    image[:, 4:] = BLUE
    labels = np.zeros((6, 8), np.int32)
    labels[1:5, 0:3] = 1  # brown
    labels[1:5, 5:8] = 2  # blue
    measured = measure_cells(image, labels)
    counts = image_counts([cell.area for cell in measured], positives=positive(measured, 0.3))
    assert counts == {"count": 2, "positive": 1, "positive_percent": 50.0, "mean_area": 12.0}


def test_12_bit_camera_data_measures_as_its_8_bit_picture():
    from cellseg.postprocessing.measurements import stain_densities

    rgb = np.random.default_rng(3).integers(20, 256, (16, 16, 3), dtype=np.uint8)
    twelve_bit = np.round(rgb.astype(np.float64) * 4095 / 255).astype(np.uint16)
    np.testing.assert_allclose(stain_densities(twelve_bit), stain_densities(rgb), atol=2e-3)
