"""Network outputs to cells: touching cells split, thresholds, tuning."""

import numpy as np
import pytest

from cellseg.metrics import aggregated_jaccard_index
from cellseg.neural_network.targets import cells_from_output, tune_thresholds
from cellseg.postprocessing.instances import Thresholds
from cellseg.preprocessing.synthetic import synthetic_tissue
from cellseg.preprocessing.targets import centre_offsets, distance_map, three_class


def perfect_three_class(labels):
    return np.eye(3, dtype=np.float32)[three_class(labels)]


def test_touching_cells_are_split_from_a_perfect_three_class_output():
    _, labels = synthetic_tissue((128, 128), seed=2)
    found = cells_from_output(perfect_three_class(labels), "3class", Thresholds(min_area=5))
    # Cores shrink by the boundary and grow back: cells come back nearly exactly.
    assert aggregated_jaccard_index(labels, found) > 0.9


def test_distance_output_splits_touching_cells():
    labels = np.zeros((20, 30), int)
    labels[5:15, 3:15] = 1
    labels[5:15, 15:27] = 2  # touching
    found = cells_from_output(distance_map(labels), "distance", Thresholds(0.05, 0.5, 5))
    assert found.max() == 2
    assert aggregated_jaccard_index(labels, found) > 0.9


def test_hover_offsets_cut_touching_cells_that_the_classes_alone_merge():
    labels = np.zeros((20, 30), int)
    labels[5:15, 3:15] = 1
    labels[5:15, 15:27] = 2  # touching
    classes = perfect_three_class(labels > 0)  # no boundary where they touch
    thresholds = Thresholds(0.5, 0.6, 5)
    assert cells_from_output(classes, "3class", thresholds).max() == 1
    output = np.concatenate([classes, centre_offsets(labels)], axis=-1)
    found = cells_from_output(output, "hover", thresholds)
    assert found.max() == 2 and aggregated_jaccard_index(labels, found) > 0.9
    # Smoothing blurs the jump, still a cut; a perfect output of crowded cells comes back.
    assert cells_from_output(output, "hover", Thresholds(0.5, 0.6, 5, 1.0)).max() == 2
    _, crowded = synthetic_tissue((128, 128), seed=2)
    perfect = np.concatenate([perfect_three_class(crowded), centre_offsets(crowded)], axis=-1)
    found = cells_from_output(perfect, "hover", Thresholds(min_area=5))
    assert aggregated_jaccard_index(crowded, found) > 0.9


def test_given_markers_replace_the_cores():
    labels = np.zeros((20, 30), int)
    labels[5:15, 3:15] = 1
    labels[5:15, 15:27] = 2  # touching, with no boundary between them: one core
    classes = perfect_three_class(labels > 0)
    thresholds = Thresholds(0.5, 0.6, 5)
    assert cells_from_output(classes, "3class", thresholds).max() == 1
    markers = np.zeros(labels.shape, int)
    markers[10, 8], markers[10, 21] = 7, 9  # any numbers; and one off the foreground:
    markers[0, 0] = 3
    found = cells_from_output(classes, "3class", thresholds, markers=markers)
    assert found.max() == 2 and found[10, 8] != found[10, 21] and found[0, 0] == 0
    assert np.array_equal(found > 0, labels > 0)
    with pytest.raises(ValueError, match="shape"):
        cells_from_output(classes, "3class", thresholds, markers=markers[:, :-1])
    with pytest.raises(ValueError, match="mask output"):
        cells_from_output(classes[:, :, 1], "mask", thresholds, markers=markers)


def test_a_given_foreground_replaces_the_thresholded_probability():
    output = np.zeros((1, 8, 3), np.float32)
    output[..., 0] = 1
    output[0, 2:5] = [0, 1, 0]  # one core, 3 pixels
    foreground = np.zeros((1, 8), bool)
    foreground[0, 1:7] = True  # the cell is wider than the network thought
    found = cells_from_output(output, "3class", Thresholds(min_area=1), foreground=foreground)
    assert np.array_equal(found[0], [0, 1, 1, 1, 1, 1, 1, 0])
    with pytest.raises(ValueError, match="shape"):
        cells_from_output(output, "3class", foreground=foreground[:, :-1])


def test_mask_output_gives_connected_components():
    output = np.zeros((10, 10), np.float32)
    output[1:4, 1:4] = 0.9
    output[6:9, 5:9] = 0.7
    output[0, 9] = 0.6  # a single pixel: below min_area
    found = cells_from_output(output, "mask", Thresholds(foreground=0.5, min_area=2))
    assert found.max() == 2 and found[0, 9] == 0


def test_thresholds_decide():
    output = np.zeros((1, 5, 3), np.float32)
    output[0, :, 0] = 1
    output[0, 1:4] = (0.45, 0.55, 0.0)  # a faint cell
    assert cells_from_output(output, "3class", Thresholds(0.5, 0.6, 1)).max() == 1
    assert cells_from_output(output, "3class", Thresholds(0.6, 0.6, 1)).max() == 0


def test_wrong_channels_are_refused():
    with pytest.raises(ValueError, match="3class output has 3 channels"):
        cells_from_output(np.zeros((4, 4, 1)), "3class")


def test_tuning_finds_thresholds_at_least_as_good_as_the_start():
    rng = np.random.default_rng(0)
    outputs, truths = [], []
    for seed in range(2):
        _, labels = synthetic_tissue((96, 96), seed=seed)
        noisy = perfect_three_class(labels) * 0.6 + rng.random((96, 96, 3)) * 0.4
        outputs.append(noisy / noisy.sum(axis=2, keepdims=True))
        truths.append(labels)
    start = Thresholds(0.7, 0.8, 40)
    start_score = np.mean(
        [
            aggregated_jaccard_index(t, cells_from_output(o, "3class", start))
            for o, t in zip(outputs, truths, strict=True)
        ]
    )
    best, score = tune_thresholds(outputs, truths, "3class", start=start)
    assert score >= start_score and score > 0.5
    assert best != start


def test_tuning_a_distance_output_keeps_the_cells_outer_pixels():
    """A cell's rim is at a small fraction of its centre's distance: the tuned foreground
    threshold must reach below it, or every cell comes out shrunk."""
    truths = [synthetic_tissue((96, 96), seed=seed)[1] for seed in range(2)]
    outputs = [distance_map(labels) for labels in truths]
    best, score = tune_thresholds(outputs, truths, "distance")
    assert best.foreground < 0.2
    assert score > 0.9
