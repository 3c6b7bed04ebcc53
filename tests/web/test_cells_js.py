"""The page's JavaScript finds, rates and measures the same cells as Python (run in Node).

Each test runs the page's own modules (``cellseg/web/*.js``) under Node on arrays that
Python also processes, and compares: cells and measurements, confidences and the cells
they drop, resizing, the choice of scale, the count's interval, DAB positivity and the
files (counts.csv and cell tables, PNGs) against their Python twins.
"""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cellseg.image_io import read_image, write_image
from cellseg.neural_network.model import TrainedModel
from cellseg.neural_network.model_config import ModelConfig
from cellseg.neural_network.targets import cells_from_output
from cellseg.postprocessing.confidence import Calibration
from cellseg.postprocessing.instances import Thresholds
from cellseg.postprocessing.measurements import CELL_COLUMNS, measure_cells
from cellseg.preprocessing.synthetic import synthetic_tissue
from cellseg.preprocessing.targets import centre_offsets, distance_map, three_class

WEB = Path(__file__).resolve().parents[2] / "cellseg" / "web"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")

#: A calibration of the kind tuning gives (the default model's, rounded).
CALIBRATION = Calibration(slope=1.6, intercept=-4.2)


def node(tmp_path, script: str, payload=None, name="script"):
    """Run ``script`` (an ES module importing from WEB as ``web/``) with ``payload``
    written to ``input.json``; returns what it printed, parsed as JSON."""
    path = tmp_path / f"{name}.mjs"
    path.write_text(script.replace('"web/', f'"{WEB.as_posix()}/'))
    if payload is not None:
        (tmp_path / "input.json").write_text(json.dumps(payload))
    result = subprocess.run(
        [NODE, str(path), str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


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


def test_sixteen_bit_and_rgba_png_encoders(tmp_path):
    node(
        tmp_path,
        """
import { encodeGray16, encodeRgba8 } from "web/png.js";
import { writeFileSync } from "node:fs";
const folder = process.argv[2];
const values = [0, 1, 2, 65535, 300, 0, 7, 8, 9, 10, 11, 40000];
const bytes = async (blob) => Buffer.from(await (await blob).arrayBuffer());
writeFileSync(folder + "/labels.png", await bytes(encodeGray16(values, 3, 4)));
const rgba = Uint8ClampedArray.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);
writeFileSync(folder + "/layer.png", await bytes(encodeRgba8(rgba, 2, 3)));
""",
    )
    decoded = read_image(tmp_path / "labels.png")
    assert decoded.dtype == np.uint16
    assert decoded.tolist() == [[0, 1, 2, 65535], [300, 0, 7, 8], [9, 10, 11, 40000]]
    layer = read_image(tmp_path / "layer.png")
    assert layer.shape == (2, 3, 4)
    assert layer.ravel().tolist() == [(i * 37) % 256 for i in range(24)]


def test_outline_layer_is_pythons_annotation_layer(tmp_path):
    from cellseg.postprocessing.drawing import outline_layer

    _, labels = synthetic_tissue((70, 90), seed=8)
    labels[0, :] = labels[0, 0]  # a cell along the edge
    labels.astype(np.int32).tofile(tmp_path / "labels.i32")
    node(
        tmp_path,
        """
import { readFileSync, writeFileSync } from "node:fs";
import { outlineLayer } from "web/drawing.js";
const folder = process.argv[2];
const raw = readFileSync(folder + "/labels.i32");
const labels = new Int32Array(raw.buffer, raw.byteOffset, raw.length / 4);
writeFileSync(folder + "/layer.rgba", outlineLayer(labels, 70, 90));
""",
    )
    layer = np.fromfile(tmp_path / "layer.rgba", np.uint8).reshape(70, 90, 4)
    assert np.array_equal(layer, outline_layer(labels))


def test_pixel_size_read_as_python_reads_it(tmp_path):
    from cellseg.image_metadata import read_pixel_size

    cases = {"none": None, "quarter": 4_000_000, "half": 2_000_000, "odd": 3_937_008}
    cases["implausible"] = 2835  # 72 dots per inch: no microscope
    for name, per_metre in cases.items():
        write_image(tmp_path / f"{name}.png", np.zeros((4, 5, 3), np.uint8))
        if per_metre:  # a pHYs chunk after IHDR, as microscope software writes it
            import struct
            import zlib

            data = (tmp_path / f"{name}.png").read_bytes()
            body = b"pHYs" + struct.pack(">IIB", per_metre, per_metre, 1)
            chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body))
            (tmp_path / f"{name}.png").write_bytes(data[:33] + chunk + data[33:])
    found = node(
        tmp_path,
        """
import { readFileSync } from "node:fs";
import { pngPixelSize } from "web/png.js";
const folder = process.argv[2];
const names = JSON.parse(readFileSync(folder + "/input.json"));
const read = (name) => new Uint8Array(readFileSync(`${folder}/${name}.png`));
console.log(JSON.stringify(names.map((name) => pngPixelSize(read(name)))));
""",
        list(cases),
    )
    expected = [read_pixel_size(tmp_path / f"{name}.png") for name in cases]
    assert found == expected
    assert expected[1] == 0.25 and expected[0] is None and expected[-1] is None


RESIZE = """
import { readFileSync, writeFileSync } from "node:fs";
import { enlarged, rescaledCells, resizeLabels } from "web/scale.js";
const folder = process.argv[2];
const { rows, columns, scale, bigRows, bigColumns, confidence } =
  JSON.parse(readFileSync(folder + "/input.json"));
const rgba = new Uint8ClampedArray(readFileSync(folder + "/image.rgba"));
const up = enlarged(rgba, rows, columns, scale);
writeFileSync(folder + "/up.rgba", up.rgba);
const raw = readFileSync(folder + "/labels.i32");
const labels = new Int32Array(raw.buffer, raw.byteOffset, raw.length / 4);
const back = resizeLabels(labels, bigRows, bigColumns, rows, columns);
writeFileSync(folder + "/back.i32", Buffer.from(back.buffer));
const kept = rescaledCells({ labels, confidence }, bigRows, bigColumns, rows, columns);
const size = [up.rows, up.columns];
console.log(JSON.stringify({ size, confidence: Array.from(kept.confidence) }));
"""


@pytest.mark.parametrize("scale", [2.0, 4.0, 1.5, 1.3, 0.5, 0.7])
def test_resizing_matches_python(tmp_path, scale):
    """The page's scale: the image resized as `enlarged` (skimage's resize, order 1,
    anti-aliased when shrinking, rint), the cells found at that size brought back by
    nearest neighbour, numbered 1..N again, each keeping its confidence (`rescaled`)."""
    from cellseg.neural_network.prediction import enlarged, rescaled

    image, _ = synthetic_tissue((61, 83), seed=2)
    rows, columns = image.shape[:2]
    expected = enlarged(image, scale)
    big_rows, big_columns = expected.shape[:2]
    # Labels at the enlarged size, some cells a pixel or two wide (they may vanish).
    _, big_labels = synthetic_tissue((big_rows, big_columns), seed=3)
    specks = big_labels[::7, ::5]
    specks[...] = big_labels.max() + 1 + np.arange(specks.size).reshape(specks.shape)
    confidence = np.random.default_rng(1).random(int(big_labels.max()))
    np.dstack([image, np.full((rows, columns), 255, np.uint8)]).tofile(tmp_path / "image.rgba")
    big_labels.astype(np.int32).tofile(tmp_path / "labels.i32")
    payload = {
        "rows": rows,
        "columns": columns,
        "scale": scale,
        "bigRows": big_rows,
        "bigColumns": big_columns,
        "confidence": confidence.tolist(),
    }
    result = node(tmp_path, RESIZE, payload, "resize")

    assert result["size"] == [big_rows, big_columns]
    up = np.fromfile(tmp_path / "up.rgba", np.uint8).reshape(big_rows, big_columns, 4)[..., :3]
    if scale in (2.0, 4.0):  # weights of halves and quarters: every sum exact
        assert np.array_equal(up, expected)
    else:  # a last-bit difference may tip a value that is all but a half
        assert np.abs(up.astype(int) - expected).max() <= 1
        assert (up != expected).mean() < 1e-3
    back = np.fromfile(tmp_path / "back.i32", np.int32).reshape(rows, columns)
    python, kept = rescaled(lambda _: (big_labels, confidence), image, scale)
    assert back.max() == python.max() > 10
    assert np.array_equal(back, python)
    np.testing.assert_array_equal(result["confidence"], kept)


CHOOSE = """
import { readFileSync } from "node:fs";
import { chooseScale, trialsDecide } from "web/scale.js";
import { trialOfOutput } from "web/segment.js";
const folder = process.argv[2];
const { outputs, settings, rule } = JSON.parse(readFileSync(folder + "/input.json"));
const chosen = rule.map(([trials, area]) => chooseScale(trials, area));
// The trials as the worker runs them: in order, until one decides.
const trials = [];
for (const { scale, rows, columns, data } of outputs) {
  trials.push(trialOfOutput(scale, Float32Array.from(data), rows, columns, 3, settings));
  if (trialsDecide(trials, settings.cell_area)) break;
}
console.log(JSON.stringify({ chosen, trials, scale: chooseScale(trials, settings.cell_area) }));
"""


def test_choose_scale_rule_matches_python(tmp_path, monkeypatch):
    """``--scale auto``: the JS trials (cells, mean raw score, median area), when they stop
    and the scale chosen are Python's `TrainedModel.choose_scale` / `choose_scale`, on the
    same outputs of the central crop; and the rule alone on many made-up trials."""
    from cellseg.neural_network.prediction import AUTO_SCALE_CROP, ScaleTrial, choose_scale

    rng = np.random.default_rng(3)
    rule = []
    for _ in range(300):
        trials = [
            ScaleTrial(
                scale,
                int(rng.choice([3, 9, 10, 40, 200])),
                float(rng.choice([0.9, 0.95, 0.97]) + rng.normal(0, 0.01)),
                float(rng.choice([50, 120, 169.5, 170, 400, 900])),
            )
            for scale in (1.0, 2.0, 4.0)[: rng.integers(1, 4)]
        ]
        rule.append((trials, rng.choice([None, 339.0, 340.0, 2000.0])))
    expected = [choose_scale(trials, area) for trials, area in rule]
    assert len(set(expected)) == 3  # 1, 2 and 4 all chosen

    # The whole of choose_scale on outputs made for the enlarged crops: the cells at 1 are
    # small, so it goes on to 2 (surer), then 4 (less sure): stops and chooses 2.
    image, _ = synthetic_tissue((AUTO_SCALE_CROP + 40, AUTO_SCALE_CROP + 10), seed=5)
    outputs = {}
    for scale, noise in ((1, 0.45), (2, 0.25), (4, 0.35)):
        side = AUTO_SCALE_CROP * scale
        _, labels = synthetic_tissue(
            (side, side), seed=10 + scale, cell_radius=(5 * scale, 7 * scale)
        )
        perfect = np.eye(3, dtype=np.float32)[three_class(labels)]
        rough = perfect * (1 - noise) + np.random.default_rng(scale).random(perfect.shape) * noise
        outputs[side] = (rough / rough.sum(axis=2, keepdims=True)).astype(np.float32)
    thresholds = Thresholds(0.5, 0.6, 12, 1.0)
    model = TrainedModel([], ModelConfig(thresholds=thresholds, cell_area=339.0))
    asked = []
    monkeypatch.setattr(
        model, "output", lambda crop: asked.append(crop.shape[0]) or outputs[crop.shape[0]]
    )
    python_scale = model.choose_scale(image)
    settings = {"target": "3class", "postprocessing": thresholds.to_dict(), "cell_area": 339.0}
    payload = {
        "outputs": [
            {
                "scale": side // AUTO_SCALE_CROP,
                "rows": side,
                "columns": side,
                "data": out.ravel().tolist(),
            }
            for side, out in outputs.items()
        ],
        "settings": settings,
        "rule": [
            (
                [
                    {
                        "scale": t.scale,
                        "cells": t.cells,
                        "meanScore": t.mean_score,
                        "medianArea": t.median_area,
                    }
                    for t in trials
                ],
                area,
            )
            for trials, area in rule
        ],
    }
    result = node(tmp_path, CHOOSE, payload, "choose")
    assert result["chosen"] == expected
    assert len(result["trials"]) == len(asked) >= 2
    assert result["scale"] == python_scale == 2.0
    assert [trial["scale"] for trial in result["trials"]] == [1, 2, 4]


INTERVAL = """
import { readFileSync } from "node:fs";
import { countInterval } from "web/confidence.js";
const cases = JSON.parse(readFileSync(process.argv[2] + "/input.json"));
console.log(JSON.stringify(cases.map((confidence) => countInterval(confidence))));
"""


def test_count_interval_matches_python(tmp_path):
    """The count's interval: exact Poisson binomial up to 2000 cells, normal past them;
    the same numbers as Python's, to the last digit."""
    from cellseg.postprocessing.confidence import EXACT_CELLS, count_interval

    rng = np.random.default_rng(11)
    cases = [[], [1.0] * 7, [0.9] * 100, [0.5], rng.random(37).tolist()]
    cases += [rng.beta(8, 2, size).tolist() for size in (450, EXACT_CELLS, EXACT_CELLS + 1, 6000)]
    cases.append(np.round(rng.beta(8, 2, 500), 4).tolist())  # as cells.csv holds them
    result = node(tmp_path, INTERVAL, cases, "interval")
    for confidence, found in zip(cases, result, strict=True):
        expected, low, high = count_interval(np.array(confidence))
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


TABLES = """
import { readFileSync } from "node:fs";
import { cellsCsv, countsCsv } from "web/tables.js";
const { images, positivity } = JSON.parse(readFileSync(process.argv[2] + "/input.json"));
const counts = countsCsv(images, positivity);
console.log(JSON.stringify({ counts, cells: cellsCsv(images, positivity) }));
"""


@pytest.mark.parametrize("threshold", [None, 0.15, 1.0, "auto"])
def test_counts_and_cell_tables_are_predicts(tmp_path, threshold):
    """counts.csv and the cell tables the page writes are, character for character, those
    `PredictionFiles` writes for the same cells (columns, rounding, blanks, positivity)."""
    from cellseg.neural_network.model import Cells
    from cellseg.prediction_files import PredictionFiles

    images = []
    output = tmp_path / "predict"
    output.mkdir()
    files = PredictionFiles(output, positive_threshold=threshold, formats=())
    settings = [(1.0, None, 1.0), (2.0, 0.5, 2.2371), (1.0, 0.2527, 1.0)]
    for index, (scale, pixel_size, counterstain) in enumerate(settings):
        image, labels = synthetic_tissue((90, 120), seed=20 + index, positive_fraction=0.3)
        if index == 2:
            labels[:] = 0  # an image without cells
        confidence = np.random.default_rng(index).random(int(labels.max()))
        name = f"tissue {index}.png"
        found = Cells(image, labels, scale, confidence, counterstain=counterstain)
        files.add(name, found, pixel_size=pixel_size)
        cells = [vars(cell) for cell in measure_cells(image, labels, confidence)]
        images.append(
            {"name": name, "cells": cells, "scale": scale, "pixelSize": pixel_size,
             "counterstain": counterstain}
        )  # fmt: skip
    files.finish([image["name"] for image in images])
    positivity = {"on": threshold is not None, "threshold": threshold}
    found = node(tmp_path, TABLES, {"images": images, "positivity": positivity}, "tables")
    assert found["counts"] == (output / "counts.csv").read_text()
    assert found["cells"] == (output / "cells.csv").read_text()


ZIP = """
import { writeFileSync } from "node:fs";
import { zipParts } from "web/zip.js";
const folder = process.argv[2];
const bytes = Uint8Array.from({ length: 70000 }, (_, i) => (i * 7919) % 251);
const parts = zipParts([
  { name: "counts.csv", data: "image,count\\nä.png,3\\n" },
  { name: "tissue 1_labels.png", data: bytes },
  { name: "folder/empty.txt", data: new Uint8Array(0) },
  { name: "naïve_cells.csv", data: "id\\n1\\n" },
], new Date(2026, 0, 31, 13, 45, 58));
writeFileSync(folder + "/case.zip", Buffer.concat(parts.map((part) => Buffer.from(part))));
"""


def test_zip_writer_is_read_back_with_its_checksums(tmp_path):
    import zipfile
    import zlib

    node(tmp_path, ZIP, name="zip")
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        assert archive.testzip() is None  # every CRC-32 checks
        names = archive.namelist()
        assert names == ["counts.csv", "tissue 1_labels.png", "folder/empty.txt", "naïve_cells.csv"]
        assert archive.read("counts.csv").decode() == "image,count\nä.png,3\n"
        data = archive.read("tissue 1_labels.png")
        assert data == bytes((i * 7919) % 251 for i in range(70000))
        info = archive.getinfo("tissue 1_labels.png")
        assert info.CRC == zlib.crc32(data) and info.compress_type == zipfile.ZIP_STORED
        assert info.date_time == (2026, 1, 31, 13, 45, 58)
        assert archive.read("folder/empty.txt") == b""


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
    `TrainedModel.segment` does (`counterstain_factor`, `with_counterstain`); H&E and dark
    (fluorescence) images are left alone."""
    colour = pytest.importorskip("cellseg.preprocessing.colour")
    if not hasattr(colour, "counterstain_factor"):
        pytest.skip("this cellseg strengthens no counterstain")
    from skimage import data

    ihc = data.immunohistochemistry()[:300, :260]
    pale = np.clip(255 - (255 - ihc.astype(float)) * 0.6, 0, 255).astype(np.uint8)
    he, _ = synthetic_tissue((120, 150), seed=3)
    dark = (255 - he) // 3
    images = [pale, ihc, he, dark]
    reference = {"lowest": 0.0797, "median": 0.1364}  # the default model's
    for index, image in enumerate(images):
        rows, columns = image.shape[:2]
        np.dstack([image, np.full((rows, columns), 255, np.uint8)]).tofile(
            tmp_path / f"{index}.rgba"
        )
    payload = {"shapes": [image.shape[:2] for image in images], "reference": reference}
    found = node(tmp_path, COUNTERSTAIN, payload, "counterstain")
    expected = [colour.counterstain_factor(image, reference) for image in images]
    assert found == expected
    assert 1 < expected[0] < 4 and expected[2:] == [1.0, 1.0]  # pale: strengthened; H&E, dark: not
    for index, image in enumerate(images):
        factor = expected[index] if expected[index] != 1 else 2.5
        shown = np.fromfile(tmp_path / f"{index}.shown", np.uint8).reshape(image.shape[:2] + (4,))
        python = colour.with_counterstain(image, factor)
        difference = np.abs(shown[..., :3].astype(int) - python)
        assert difference.max() <= 1 and (difference > 0).mean() < 1e-4, index
