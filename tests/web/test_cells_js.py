"""The page's JavaScript finds, rates and measures the same cells as Python (run in Node).

Each test runs the page's own modules (``cellseg/web/*.js``) under Node on arrays that
Python also processes, and compares: cells and measurements, confidences and the cells
they drop, the count's interval, DAB positivity, corrections and counterstains against
their Python twins; resizing and the choice of scale are in test_scale_js.py, the files the
page writes and reads in test_files_js.py.
"""

import numpy as np
import pytest
from node_runner import NODE, node

from cellseg.neural_network.model import TrainedModel
from cellseg.neural_network.model_config import ModelConfig
from cellseg.neural_network.targets import cells_from_output
from cellseg.postprocessing.confidence import Calibration
from cellseg.postprocessing.instances import Thresholds
from cellseg.postprocessing.measurements import CELL_COLUMNS, measure_cells
from cellseg.preprocessing.synthetic import synthetic_tissue
from cellseg.preprocessing.targets import centre_offsets, distance_map, three_class

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")

#: A calibration of the kind tuning gives (the default model's, rounded).
CALIBRATION = Calibration(slope=1.6, intercept=-4.2)


FIND = """
import { readFileSync, writeFileSync } from "node:fs";
import { measureCells } from "web/cells.js";
import { findCells } from "web/segment.js";
const folder = process.argv[2];
const meta = JSON.parse(readFileSync(folder + "/input.json"));
const raw = readFileSync(folder + "/output.f32");
const output = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
const found = findCells(output, meta.rows, meta.columns, meta.channels, meta.settings);
writeFileSync(folder + "/labels.i32", Buffer.from(found.labels.buffer));
const rgba = new Uint8ClampedArray(readFileSync(folder + "/image.rgba"));
const cells = measureCells(found.labels, rgba, meta.rows, meta.columns, found.confidence);
console.log(JSON.stringify({ confidence: Array.from(found.confidence), cells }));
"""


def find_with_javascript(tmp_path, output, image, target, thresholds, calibration):
    """The page's cells, confidences and measurements for a network ``output``."""
    rows, columns = output.shape[:2]
    output.astype(np.float32).tofile(tmp_path / "output.f32")
    np.dstack([image, np.full((rows, columns), 255, np.uint8)]).tofile(tmp_path / "image.rgba")
    settings = {
        "target": target,
        "postprocessing": thresholds.to_dict(),
        "calibration": calibration.to_dict(),
    }
    payload = {"rows": rows, "columns": columns, "channels": output.shape[2], "settings": settings}
    result = node(tmp_path, FIND, payload, "find")
    labels = np.fromfile(tmp_path / "labels.i32", dtype=np.int32).reshape(rows, columns)
    return labels, np.array(result["confidence"]), result["cells"]


def noisy(perfect, seed):
    rng = np.random.default_rng(seed)
    output = perfect * 0.6 + rng.random(perfect.shape).astype(np.float32) * 0.4
    return output / output.sum(axis=2, keepdims=True) if perfect.shape[2] == 3 else output


def network_like_output(target, shape=(160, 190), seed=4):
    """A synthetic image, and an output of ``target`` for it: the perfect answer, noisy."""
    image, labels = synthetic_tissue(shape, seed=seed, positive_fraction=0.4)
    if target in ("3class", "hover"):
        perfect = np.eye(3, dtype=np.float32)[three_class(labels)]
    elif target == "distance":
        perfect = distance_map(labels)[:, :, None]
    else:
        perfect = (labels > 0).astype(np.float32)[:, :, None]
    output = noisy(perfect, seed=1)
    if target == "hover":  # classes, then centre offsets blurred and noisy
        offsets = centre_offsets(labels) * 0.8 + np.random.default_rng(2).normal(
            0, 0.1, shape + (2,)
        )
        output = np.concatenate([output, offsets.astype(np.float32)], axis=-1)
    return image, output.astype(np.float32)


@pytest.mark.parametrize(
    ("target", "smoothing"),
    [("3class", 0), ("3class", 1.5), ("distance", 0), ("mask", 1), ("hover", 0), ("hover", 1)],
)
def test_same_cells_and_measurements_as_python(tmp_path, target, smoothing):
    image, output = network_like_output(target)
    thresholds = Thresholds(0.5, 0.6, 12, smoothing)
    expected = cells_from_output(output, target, thresholds)
    found, _, cells = find_with_javascript(
        tmp_path, output, image, target, thresholds, Calibration()
    )
    assert expected.max() > 10  # a scene with something to get wrong
    assert np.array_equal(found, expected)
    measured = measure_cells(image, expected)
    assert [cell["id"] for cell in cells] == [cell.id for cell in measured]
    for column in CELL_COLUMNS[:-1]:
        python = np.array([getattr(cell, column) for cell in measured], float)
        javascript = np.array([cell[column] for cell in cells], float)
        np.testing.assert_allclose(javascript, python, rtol=1e-5, atol=1e-5, err_msg=column)


@pytest.mark.parametrize("target", ["3class", "hover", "mask", "distance"])
def test_confidence_and_the_cells_it_drops_match_python(tmp_path, target):
    """TrainedModel.find_cells: the raw score on the unsmoothed output, calibrated; cells
    under min_confidence left out and the others numbered 1..N again."""
    image, output = network_like_output(target, seed=6)
    if target in ("3class", "hover"):  # some cells the network is unsure of
        output[40:120, :60, :3] = output[40:120, :60, :3] * 0.5 + np.float32([0.5, 0.3, 0.2]) * 0.5
    else:
        output[40:120, :60] *= 0.6
    plain = Thresholds(0.5, 0.6, 12, 1.0)
    model = TrainedModel([], ModelConfig(target=target, calibration=CALIBRATION))
    _, every = model.find_cells(output, plain)
    minimum = float(np.quantile(every, 0.3))  # drops about a third of the cells
    thresholds = Thresholds(0.5, 0.6, 12, 1.0, min_confidence=minimum)
    labels, confidence = model.find_cells(output, thresholds)
    found, sure, cells = find_with_javascript(
        tmp_path, output, image, target, thresholds, CALIBRATION
    )
    assert 10 < labels.max() < every.size  # some cells dropped, some kept
    assert np.array_equal(found, labels)
    np.testing.assert_allclose(sure, confidence, rtol=0, atol=1e-6)
    measured = measure_cells(image, labels, confidence)
    assert [cell["confidence"] for cell in cells] == [cell.confidence for cell in measured]


INTERVAL = """
import { readFileSync } from "node:fs";
import { countInterval } from "web/confidence.js";
const cases = JSON.parse(readFileSync(process.argv[2] + "/input.json"));
console.log(JSON.stringify(cases.map(([confidence, spread]) => countInterval(confidence, spread))));
"""


def test_count_interval_matches_python(tmp_path):
    """The count's interval, with and without the model's count spread: the same numbers
    as Python's, to the last digit."""
    from cellseg.postprocessing.confidence import count_interval

    rng = np.random.default_rng(11)
    confidences = [[], [1.0] * 7, [0.9] * 100, [0.5], rng.random(37).tolist()]
    confidences += [rng.beta(8, 2, size).tolist() for size in (450, 2001, 6000)]
    confidences.append(np.round(rng.beta(8, 2, 500), 4).tolist())  # as cells.csv holds them
    cases = [(confidence, spread) for confidence in confidences for spread in (0, 0.0983, 0.5)]
    result = node(tmp_path, INTERVAL, cases, "interval")
    for (confidence, spread), found in zip(cases, result, strict=True):
        expected, low, high = count_interval(np.array(confidence), spread)
        assert (found["expected"], found["low"], found["high"]) == (expected, low, high)


def test_auto_positive_threshold_matches_python(tmp_path):
    """``--positive-threshold auto``: two groups fitted to the log DAB densities, the
    threshold at even odds, or none for one group (H&E) — Python's numbers."""
    from cellseg.postprocessing.positivity import auto_positive_threshold

    rng = np.random.default_rng(0)
    cases = [
        np.exp(np.concatenate([rng.normal(-2.7, 0.3, 300), rng.normal(-0.3, 0.3, 100)])),
        np.exp(np.concatenate([rng.normal(-3.0, 0.4, 50), rng.normal(-0.8, 0.5, 400)])),
        np.exp(np.concatenate([rng.normal(-2.5, 0.3, 500), rng.normal(-0.5, 0.2, 12)])),
        rng.normal(0.3, 0.05, 400),  # H&E: one group
        np.full(30, 0.2),
        np.array([0.1, 0.9, 0.1]),  # too few cells
        np.concatenate([rng.normal(0.05, 0.01, 200), rng.normal(0.12, 0.01, 200)]),  # too close
    ]
    cases = [case.tolist() for case in cases]
    found = node(
        tmp_path,
        """
import { readFileSync } from "node:fs";
import { autoPositiveThreshold } from "web/positivity.js";
const cases = JSON.parse(readFileSync(process.argv[2] + "/input.json"));
console.log(JSON.stringify(cases.map((dab) => autoPositiveThreshold(dab))));
""",
        cases,
    )
    expected = [auto_positive_threshold(np.array(case)) for case in cases]
    assert found == expected
    assert None not in expected[:3] and expected[3:] == [None] * 4


CORRECT = """
import { readFileSync } from "node:fs";
import { addCell, cellAt, removeCell, undo } from "web/corrections.js";
import { measureCells } from "web/cells.js";
const folder = process.argv[2];
const input = JSON.parse(readFileSync(folder + "/input.json"));
const { rows, columns, clicks, settings } = input;
const rgba = new Uint8ClampedArray(rows * columns * 4).fill(200);
const labels = Int32Array.from(input.labels);
const probability = Float32Array.from(input.probability);
const image = { rows, columns, labels, probability, rgba, scale: 1, corrections: [] };
const sure = Float64Array.from({ length: Math.max(...labels) }, () => 0.9);
image.cells = measureCells(labels, rgba, rows, columns, sure);
const states = [];
const record = (what) => states.push({
  what,
  labels: Array.from(image.labels),
  ids: image.cells.map((cell) => cell.id),
  areas: image.cells.map((cell) => cell.area),
  confidence: image.cells.map((cell) => cell.confidence),
});
record("start");
for (const [action, row, column] of clicks) {
  const done = action === "remove" ? removeCell(image, row, column)
    : action === "add" ? addCell(image, row, column, settings) : undo(image);
  record(done ? `${action}:${done.grown === undefined ? "" : done.grown}` : `${action}:none`);
}
console.log(JSON.stringify({ states, under: cellAt(image, 0, 0) }));
"""


def test_corrections_change_labels_and_count_by_exactly_one(tmp_path):
    """Remove a cell (the others renumbered), add one grown on the network's output and one
    round where it saw nothing, undo them all: each step changes the count by one and the
    labels of that cell alone, and undo gives the labels back exactly."""
    rows, columns = 60, 80
    labels = np.zeros((rows, columns), np.int32)
    labels[5:15, 5:15] = 1
    labels[5:15, 30:42] = 2
    labels[30:40, 10:20] = 3
    probability = np.zeros((rows, columns), np.float32)
    probability[20:32, 50:64] = 0.7  # a nucleus the network saw, not counted
    clicks = [
        ["remove", 8, 33],  # cell 2: cell 3 becomes 2
        ["remove", 50, 70],  # nothing there: no change
        ["add", 25, 55],  # grown over the probability blob
        ["add", 50, 70],  # a small round cell
        ["add", 10, 10],  # on a cell: no change
        ["undo"],
        ["undo"],
        ["undo"],
        ["undo"],  # nothing left to undo
    ]
    payload = {
        "rows": rows,
        "columns": columns,
        "labels": labels.ravel().tolist(),
        "probability": probability.ravel().tolist(),
        "clicks": [click + [0, 0][: 3 - len(click)] for click in clicks],
        "settings": {"cell_area": 100, "postprocessing": {"foreground": 0.85}},
    }
    result = node(tmp_path, CORRECT, payload, "correct")
    states = result["states"]
    shapes = [np.array(state["labels"]).reshape(rows, columns) for state in states]
    counts = [len(state["ids"]) for state in states]
    assert [state["what"] for state in states] == [
        "start", "remove:", "remove:none", "add:true", "add:false", "add:none",
        "undo:false", "undo:true", "undo:", "undo:none",
    ]  # fmt: skip
    assert counts == [3, 2, 2, 3, 4, 4, 3, 2, 3, 3]
    for state, shape in zip(states, shapes, strict=True):  # always 1..N, the table in step
        assert state["ids"] == list(range(1, len(state["ids"]) + 1))
        assert sorted(set(np.unique(shape)) - {0}) == state["ids"]
        assert state["areas"] == [int((shape == cell).sum()) for cell in state["ids"]]
    removed = shapes[1]
    assert (removed[5:15, 30:42] == 0).all() and (removed[30:40, 10:20] == 2).all()
    grown = shapes[3] == 3
    assert grown.sum() == 12 * 14 and grown[20:32, 50:64].all()  # the blob, exactly
    assert states[3]["confidence"][-1] == 1  # the doctor's cell is sure
    disc = shapes[4] == 4
    assert 20 < disc.sum() < 100 and disc[50, 70]
    assert np.array_equal(shapes[-1], labels) and states[-1]["areas"] == states[0]["areas"]


COUNTERSTAIN = """
import { readFileSync, writeFileSync } from "node:fs";
import { counterstainFactor, withCounterstain } from "web/counterstain.js";
const folder = process.argv[2];
const { shapes, reference } = JSON.parse(readFileSync(folder + "/input.json"));
const factors = shapes.map(([rows, columns], index) => {
  const rgba = new Uint8ClampedArray(readFileSync(`${folder}/${index}.rgba`));
  const factor = counterstainFactor(rgba, rows, columns, reference);
  const shown = withCounterstain(rgba, rows, columns, factor === 1 ? 2.5 : factor);
  writeFileSync(`${folder}/${index}.shown`, shown);
  return factor;
});
console.log(JSON.stringify(factors));
"""


def test_pale_counterstain_strengthened_as_python_does(tmp_path):
    """A pale haematoxylin + DAB section is strengthened before the network as
    `TrainedModel.segment` does (`counterstain_factor`, `with_counterstain`); H&E, dark
    (fluorescence) images and blank glass are left alone."""
    colour = pytest.importorskip("cellseg.preprocessing.colour")
    if not hasattr(colour, "counterstain_factor"):
        pytest.skip("this cellseg strengthens no counterstain")
    from skimage import data

    ihc = data.immunohistochemistry()[:300, :260]
    pale = np.clip(255 - (255 - ihc.astype(float)) * 0.7, 0, 255).astype(np.uint8)
    he, _ = synthetic_tissue((120, 150), seed=3)
    dark = (255 - he) // 3
    glass = np.clip(np.random.default_rng(0).normal(250, 2, (80, 90, 3)), 0, 255)
    images = [pale, ihc, he, dark, glass.astype(np.uint8)]
    reference = {"lowest": 0.0797, "median": 0.1509}  # the default model's
    for index, image in enumerate(images):
        rows, columns = image.shape[:2]
        np.dstack([image, np.full((rows, columns), 255, np.uint8)]).tofile(
            tmp_path / f"{index}.rgba"
        )
    payload = {"shapes": [image.shape[:2] for image in images], "reference": reference}
    found = node(tmp_path, COUNTERSTAIN, payload, "counterstain")
    expected = [colour.counterstain_factor(image, reference) for image in images]
    assert found == expected
    # pale: strengthened; H&E, dark and blank glass (too little stain to measure): not
    assert 1 < expected[0] < 4 and expected[2:] == [1.0, 1.0, 1.0]
    for index, image in enumerate(images):
        factor = expected[index] if expected[index] != 1 else 2.5
        shown = np.fromfile(tmp_path / f"{index}.shown", np.uint8).reshape(image.shape[:2] + (4,))
        python = colour.with_counterstain(image, factor)
        difference = np.abs(shown[..., :3].astype(int) - python)
        assert difference.max() <= 1 and (difference > 0).mean() < 1e-4, index
