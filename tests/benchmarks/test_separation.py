"""benchmarks/separation.py: the two rules that split merged nuclei after the network."""

import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from separation import COLUMNS, RULES, cells, deeper_cores, shape_split

from cellseg.preprocessing.synthetic import synthetic_tissue
from cellseg.preprocessing.targets import three_class

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "separation.py"


def discs(*centres, radius=9, shape=(21, 60)):
    rows, columns = np.ogrid[: shape[0], : shape[1]]
    inside = [(rows - row) ** 2 + (columns - column) ** 2 < radius**2 for row, column in centres]
    return np.logical_or.reduce(inside).astype(np.int32)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([(0.9,), (0.9, 0.95)]), st.integers(1, 20))
def test_deeper_cores_only_split_cores_into_their_deeper_pieces(seed, levels, piece):
    field = ndi.gaussian_filter(np.random.default_rng(seed).random((48, 48)), 2)
    core = (field - field.min()) / (field.max() - field.min())
    mask = core > 0.3
    plain, count = ndi.label((core > 0.8) & mask)
    markers = deeper_cores(core, mask, 0.8, levels, piece)
    assert np.all(plain[markers > 0] > 0)  # every marker lies in a core
    assert set(np.unique(plain[markers > 0])) == set(range(1, count + 1))  # no core lost
    ids = np.unique(markers[markers > 0])
    assert np.array_equal(ids, np.arange(1, ids.size + 1))
    for core_id in range(1, count + 1):
        inside = np.unique(markers[(plain == core_id) & (markers > 0)])
        if inside.size > 1:  # split: into pieces above a level, each of `piece` or more
            for marker in inside:
                assert core[markers == marker].min() > levels[0]
                assert (markers == marker).sum() >= piece
        else:  # whole: the core itself
            assert np.array_equal(markers == inside[0], plain == core_id)


def test_a_core_with_two_deeper_peaks_grows_as_two_cells():
    truth = discs((10, 10), (10, 26))  # two touching nuclei, no boundary between them
    interior = ndi.distance_transform_edt(truth) / 9  # deepest at each centre
    core = np.clip(0.75 + interior * 0.3, 0, 1) * (truth > 0)
    assert ndi.label(core > 0.8)[1] == 1  # one core at the model's seed
    markers = deeper_cores(core, truth > 0, 0.8, (0.95,), 5)
    assert markers.max() == 2 and markers[10, 10] != markers[10, 26]
    assert deeper_cores(core, truth > 0, 0.8, (0.95,), 200).max() == 1  # pieces too small


def test_shape_splits_a_waisted_cell_and_leaves_round_and_small_ones():
    two = discs((10, 10), (10, 26))
    split = shape_split(two, 100, 1.0, 0.95)
    assert split.max() == 2 and split[10, 10] != split[10, 26]
    assert np.array_equal(split > 0, two > 0)  # the same pixels, cut
    assert shape_split(discs((10, 20)), 100, 1.0, 0.95).max() == 1  # round: left whole
    assert shape_split(two, 1000, 1.0, 0.95).max() == 1  # smaller than the area: left
    assert shape_split(two, 100, 1.0, 0.9).max() == 1  # solidity 0.94: not waisted enough


def test_without_a_rule_the_cells_are_the_models_own():
    from cellseg.neural_network.model import TrainedModel

    model = TrainedModel.load("default")
    _, labels = synthetic_tissue((96, 96), seed=4)
    rng = np.random.default_rng(4)
    output = np.eye(3, dtype=np.float32)[three_class(labels)] * 0.9 + rng.random((96, 96, 3)) * 0.1
    assert np.array_equal(cells(model, output), model.find_cells(output)[0])
    for _, rule, options in RULES:
        found = cells(model, output, rule, **options)
        ids = np.unique(found[found > 0])
        assert np.array_equal(ids, np.arange(1, ids.size + 1))


def test_the_script_scores_every_rule_on_both_sets(tissue_folders):
    images, labels = tissue_folders
    folders = ["--images", images, "--labels", labels]
    result = subprocess.run(
        [sys.executable, SCRIPT, *folders, "--validation-images", images,
         "--validation-labels", labels],
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    report = result.stdout.splitlines()
    assert report[0].split()[2:] == list(COLUMNS)
    assert len(report) == 1 + 2 * (1 + len(RULES))
    for line in report[1:]:
        aji, f1 = (float(value) for value in line.split()[-6:-4])
        assert 0 <= aji <= 1 and 0 <= f1 <= 1
    assert report[1].startswith("validation the model's own")
    assert report[-1].startswith("held out   shape: area over")
