"""The page's image scale, run in Node: resizing and the scale ``auto`` chooses are Python's
(`cellseg.neural_network.prediction`)."""

import numpy as np
import pytest
from node_runner import NODE, node

from cellseg.neural_network.model import TrainedModel
from cellseg.neural_network.model_config import ModelConfig
from cellseg.postprocessing.instances import Thresholds
from cellseg.preprocessing.synthetic import synthetic_tissue
from cellseg.preprocessing.targets import three_class

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


RESIZE = """
import { readFileSync, writeFileSync } from "node:fs";
import { enlarged, rescaledCells, resizeLabels } from "web/scale.js";
const folder = process.argv[2];
const { rows, columns, scale, bigRows, bigColumns, confidence } =
  JSON.parse(readFileSync(folder + "/input.json"));
const rgba = new Uint8ClampedArray(readFileSync(folder + "/image.rgba"));
const up = enlarged(rgba, rows, columns, scale);
writeFileSync(folder + "/up.rgba", up.rgba);
writeFileSync(folder + "/linear.rgba", enlarged(rgba, rows, columns, scale, false).rgba);
const raw = readFileSync(folder + "/labels.i32");
const labels = new Int32Array(raw.buffer, raw.byteOffset, raw.length / 4);
const back = resizeLabels(labels, bigRows, bigColumns, rows, columns);
writeFileSync(folder + "/back.i32", Buffer.from(back.buffer));
const kept = rescaledCells({ labels, confidence }, bigRows, bigColumns, rows, columns);
const size = [up.rows, up.columns];
console.log(JSON.stringify({ size, confidence: Array.from(kept.confidence) }));
"""


@pytest.mark.parametrize("scale", [2.0, 4.0, 3.0, 1.5, 1.3, 1.1, 2.7, 0.5, 0.7])
def test_resizing_matches_python(tmp_path, scale):
    """The page's scale: the image resized as `enlarged` (Pillow's bicubic filter when
    enlarging, its integer arithmetic: the same pixels bit for bit; bilinearly for the
    scale's trials, and anti-aliased when shrinking, as skimage's resize), the cells found
    at that size brought back by nearest neighbour, numbered 1..N again, each keeping its
    confidence (`rescaled`)."""
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
    linear = np.fromfile(tmp_path / "linear.rgba", np.uint8).reshape(up.shape[:2] + (4,))
    expected_linear = enlarged(image, scale, cubic=False)  # as the scale's trials see crops
    for page, python, cubic in ((up, expected, True), (linear[..., :3], expected_linear, False)):
        # Cubic: Pillow's integer arithmetic; bilinear by 2 or 4: every sum exact.
        if (cubic and scale > 1) or scale in (2.0, 4.0):
            assert np.array_equal(page, python)
        else:  # a last-bit difference may tip a value that is all but a half
            assert np.abs(page.astype(int) - python).max() <= 1
            assert (page != python).mean() < 1e-3
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
    """``--scale auto``: the JS trials (cells, mean raw score and its standard error, median
    area), when they stop and the scale chosen are Python's `TrainedModel.choose_scale` /
    `choose_scale`, on the same outputs of the central crop; and the rule alone on many
    made-up trials."""
    import cellseg.neural_network.model as model_module
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
                float(rng.choice([0.0, 0.002, 0.01])),
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
    seen = []  # Python's trials, as choose_scale gets them
    monkeypatch.setattr(
        model_module,
        "choose_scale",
        lambda trials, area: seen.extend(trials) or choose_scale(trials, area),
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
                        "scoreError": t.score_error,
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
    for page, python in zip(result["trials"], seen, strict=True):
        assert page["cells"] == python.cells
        np.testing.assert_allclose(page["meanScore"], python.mean_score, rtol=1e-6)
        np.testing.assert_allclose(page["scoreError"], python.score_error, rtol=1e-4)
