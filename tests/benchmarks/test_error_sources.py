"""benchmarks/error_sources.py: one marker inside each cell; each oracle fixes its own half."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from error_sources import SOURCES, centre_markers, error_sources, size_comparison

from cellseg.metrics import aggregated_jaccard_index
from cellseg.postprocessing.instances import Thresholds
from cellseg.preprocessing.synthetic import synthetic_tissue
from cellseg.preprocessing.targets import three_class

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "error_sources.py"


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_each_cell_gets_one_marker_inside_it(seed):
    _, labels = synthetic_tissue((96, 96), seed=seed)
    markers = centre_markers(labels)
    cells = np.unique(labels[labels > 0])
    assert np.array_equal(np.sort(markers[markers > 0]), cells)  # one each
    assert np.array_equal(labels[markers > 0], markers[markers > 0])  # inside its cell


def test_a_curved_cell_gets_its_marker_inside_not_at_its_centroid():
    labels = np.zeros((30, 30), int)
    labels[5:25, 5:10] = labels[5:10, 5:25] = labels[20:25, 5:25] = 1  # a C: centroid outside
    (row, column) = np.argwhere(centre_markers(labels))[0]
    assert labels[row, column] == 1


def test_each_oracle_fixes_its_own_half():
    truth = np.zeros((20, 40), int)
    truth[5:15, 3:15] = 1
    truth[5:15, 15:27] = 2  # touching
    truth[5:15, 30:38] = 3
    # The network saw no boundary between 1 and 2 (one core), and cell 3 one pixel too wide.
    wrong = truth.copy()
    wrong[5:15, 15:27] = 1
    wrong[5:15, 29] = 3
    output = np.eye(3, dtype=np.float32)[three_class(wrong)]
    found = error_sources(output, truth, "3class", Thresholds(0.5, 0.6, 5))
    assert list(found) == list(SOURCES)
    network, centres, foreground = (found[source] for source in SOURCES)
    assert network.max() == 2 and (network[:, 29] > 0).any()
    assert centres.max() == 3 and (centres[:, 29] > 0).any()  # split, still too wide
    assert foreground.max() == 2 and not (foreground[:, 29] > 0).any()  # merged, outlined
    assert aggregated_jaccard_index(truth, centres) > aggregated_jaccard_index(truth, network)
    with pytest.raises(ValueError, match="cores"):
        error_sources(output[:, :, 1], truth, "distance", Thresholds())


def test_sizes_compare_the_pixels_drawn_and_found_and_only_matched_nuclei_areas():
    truth = np.zeros((20, 40), int)
    truth[2:12, 2:12] = 1  # found at 8 x 8: IoU 0.64, 0.64 of its area
    truth[2:12, 20:30] = 2  # found at 10 x 11: IoU 0.91, 1.1 of its area
    truth[14:18, 34:38] = 3  # found as a sliver: unmatched, its area ratio not counted
    found = np.zeros_like(truth)
    found[3:11, 3:11] = 1
    found[2:12, 20:31] = 2
    found[14:18, 34] = 3
    sizes = size_comparison(truth, found)
    assert sizes["drawn"] == pytest.approx((100 + 100 + 16) / 800)
    assert sizes["found"] == pytest.approx((64 + 110 + 4) / 800)
    assert sizes["matched_area_ratio"] == pytest.approx(np.median([0.64, 1.1]))
    assert np.isnan(size_comparison(truth, np.zeros_like(truth))["matched_area_ratio"])


def test_the_script_reports_the_three_rows(tissue_folders):
    images, labels = tissue_folders
    result = subprocess.run(
        [sys.executable, SCRIPT, "--images", images, "--labels", labels],
        capture_output=True,
        text=True,
        check=True,
    )
    report = result.stdout.splitlines()
    assert sum("nucleus pixels drawn" in line and "x their area" in line for line in report) == 2
    assert report[-4].split()[:3] == ["cells", "from", "aji"]
    for line, source in zip(report[-3:], SOURCES, strict=True):
        assert line.startswith(source)
        assert 0 <= float(line[len(source) :].split()[0]) <= 1  # the mean AJI
