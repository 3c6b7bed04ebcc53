"""Tests for cellseg.postprocessing.classical: the threshold-and-watershed baseline."""

import time

import numpy as np
import pytest

from cellseg.image_io import read_image
from cellseg.metrics import aggregated_jaccard_index, match
from cellseg.postprocessing.classical import classical_segmentation, nuclear_stain
from cellseg.preprocessing.synthetic import synthetic_tissue

# Observed with the defaults (smoothing 1, min_area 30, min_distance 4), seeds 0-2:
#   F1 at IoU 0.5: 0.757, 0.807, 0.786 (no DAB); 0.699, 0.807, 0.786 (half DAB-positive);
#   0.757, 0.835, 0.786 (all DAB-positive). Found / true cells: 0.67 to 0.80 (nuclei that
#   overlap in the synthetic images are often found as one).
SYNTHETIC_MIN_F1 = 0.62
SYNTHETIC_MIN_MEAN_F1 = 0.68


@pytest.mark.parametrize("positive_fraction", [0.0, 0.5, 1.0])
def test_synthetic_tissue_is_segmented(positive_fraction):
    scores, found, true = [], 0, 0
    for seed in range(3):
        image, truth = synthetic_tissue((256, 256), seed=seed, positive_fraction=positive_fraction)
        labels = classical_segmentation(image)
        scores.append(match(truth, labels).f1)
        found += int(labels.max())
        true += int(truth.max())
    assert min(scores) > SYNTHETIC_MIN_F1, scores
    assert np.mean(scores) > SYNTHETIC_MIN_MEAN_F1, scores
    assert 0.55 * true <= found <= 1.2 * true, (found, true)


def test_labels_are_sequential_int32():
    image, _ = synthetic_tissue((128, 128), seed=4, positive_fraction=0.3)
    labels = classical_segmentation(image)
    assert labels.dtype == np.int32
    assert labels.shape == image.shape[:2]
    np.testing.assert_array_equal(np.unique(labels), np.arange(labels.max() + 1))
    assert labels.max() > 5


def test_input_is_not_changed():
    image, _ = synthetic_tissue((128, 128), seed=5)
    before = image.copy()
    classical_segmentation(image)
    np.testing.assert_array_equal(image, before)


def test_blank_white_image_has_no_cells():
    labels = classical_segmentation(np.full((64, 80, 3), 255, np.uint8))
    assert labels.shape == (64, 80) and labels.dtype == np.int32
    assert not labels.any()


def test_noise_on_a_blank_image_is_not_cells():
    rng = np.random.default_rng(0)
    noisy = np.clip(250 + rng.normal(0, 3, (128, 128, 3)), 0, 255).astype(np.uint8)
    assert not classical_segmentation(noisy).any()


def test_two_touching_discs_are_split():
    image = np.full((40, 60, 3), 255, np.uint8)
    rows, columns = np.ogrid[:40, :60]
    left = (rows - 20) ** 2 + (columns - 20) ** 2 <= 81
    right = (rows - 20) ** 2 + (columns - 36) ** 2 <= 81
    image[left | right] = (78, 62, 148)
    labels = classical_segmentation(image)
    assert labels.max() == 2
    assert labels[20, 20] != labels[20, 36]
    assert labels[20, 20] > 0 and labels[20, 36] > 0


def test_objects_smaller_than_min_area_are_dropped():
    image = np.full((40, 40, 3), 255, np.uint8)
    image[5:10, 5:10] = (78, 62, 148)  # 25 pixels
    image[20:32, 20:32] = (78, 62, 148)  # 144 pixels
    assert classical_segmentation(image, min_area=30).max() == 1
    assert classical_segmentation(image, min_area=20).max() == 2


def test_gray_and_sixteen_bit_images():
    image, truth = synthetic_tissue((128, 128), seed=6)
    gray = image.mean(axis=2).astype(np.uint8)  # nuclei are dark
    assert match(truth, classical_segmentation(gray)).f1 > 0.6
    np.testing.assert_array_equal(
        classical_segmentation(image.astype(np.uint16) * 257), classical_segmentation(image)
    )


def test_nuclear_stain_counts_dab_but_not_eosin_pink():
    pixels = np.array([[(255, 255, 255), (78, 62, 148), (150, 96, 52), (236, 200, 214)]])
    stain = nuclear_stain(pixels.astype(np.uint8))[0]
    white, haematoxylin, dab, eosin = stain
    assert white == 0.0
    assert haematoxylin > 0.5 and dab > 0.5
    assert eosin < 0.05


@pytest.mark.parametrize("options", [{"smoothing": -1.0}, {"min_distance": 0}])
def test_bad_options_are_refused(options):
    with pytest.raises(ValueError):
        classical_segmentation(np.full((8, 8, 3), 255, np.uint8), **options)


@pytest.mark.real_data
def test_monuseg_baseline_scores(datasets):
    # Observed on these three images (TCGA-18-5592, TCGA-21-5784, TCGA-21-5786):
    #   AJI 0.523, 0.399, 0.410 (mean 0.444); F1 0.521, 0.379, 0.326 (mean 0.409).
    # Over all 30 MoNuSeg training images: mean AJI 0.418, mean F1 0.447.
    folder = datasets / "monuseg" / "train"
    paths = sorted((folder / "images").glob("*.png"))[:3]
    assert len(paths) == 3
    start = time.perf_counter()
    aji, f1 = [], []
    for path in paths:
        truth = read_image(folder / "labels" / path.name)
        labels = classical_segmentation(read_image(path))
        aji.append(aggregated_jaccard_index(truth, labels))
        f1.append(match(truth, labels).f1)
    seconds = time.perf_counter() - start
    print(f"classical on MoNuSeg: mean AJI {np.mean(aji):.3f}, mean F1 {np.mean(f1):.3f}")
    assert np.mean(aji) > 0.40, aji
    assert min(aji) > 0.35, aji
    assert np.mean(f1) > 0.36, f1
    assert min(f1) > 0.28, f1
    assert seconds < 20
