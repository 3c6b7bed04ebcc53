"""The page's JavaScript finds and measures the same cells as Python (run in Node)."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cellseg.image_io import read_image
from cellseg.neural_network.targets import cells_from_output
from cellseg.postprocessing.instances import Thresholds
from cellseg.postprocessing.measurements import CELL_COLUMNS, measure_cells
from cellseg.preprocessing.synthetic import synthetic_tissue
from cellseg.preprocessing.targets import centre_offsets, distance_map, three_class

WEB = Path(__file__).resolve().parents[2] / "cellseg" / "web"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")

RUNNER = """
import { readFileSync, writeFileSync } from "node:fs";
import { cellsFromOutput, measureCells } from "%(web)s/cells.js";
const [base] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(base + ".json"));
const raw = readFileSync(base + ".f32");
const output = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
const labels = cellsFromOutput(output, meta.rows, meta.columns, meta.channels, meta.target,
                               meta.thresholds);
writeFileSync(base + ".labels", Buffer.from(labels.buffer));
const rgba = new Uint8ClampedArray(readFileSync(base + ".rgba"));
writeFileSync(base + ".cells.json", JSON.stringify(measureCells(labels, rgba, meta.rows,
                                                                 meta.columns)));
"""


def run_javascript(tmp_path, output, image, target, thresholds):
    rows, columns = output.shape[:2]
    runner = tmp_path / "runner.mjs"
    runner.write_text(RUNNER % {"web": WEB.as_posix()})
    base = tmp_path / "case"
    output.astype(np.float32).tofile(f"{base}.f32")
    np.dstack([image, np.full((rows, columns), 255, np.uint8)]).tofile(f"{base}.rgba")
    meta = {
        "rows": rows,
        "columns": columns,
        "channels": output.shape[2],
        "target": target,
        "thresholds": thresholds.to_dict(),
    }
    Path(f"{base}.json").write_text(json.dumps(meta))
    subprocess.run([NODE, str(runner), str(base)], check=True, capture_output=True)
    labels = np.fromfile(f"{base}.labels", dtype=np.int32).reshape(rows, columns)
    return labels, json.loads(Path(f"{base}.cells.json").read_text())


def noisy(perfect, seed):
    rng = np.random.default_rng(seed)
    output = perfect * 0.6 + rng.random(perfect.shape).astype(np.float32) * 0.4
    return output / output.sum(axis=2, keepdims=True) if perfect.shape[2] == 3 else output


@pytest.mark.parametrize(
    ("target", "smoothing"),
    [("3class", 0), ("3class", 1.5), ("distance", 0), ("mask", 1), ("hover", 0), ("hover", 1)],
)
def test_same_cells_and_measurements_as_python(tmp_path, target, smoothing):
    image, labels = synthetic_tissue((160, 190), seed=4, positive_fraction=0.4)
    if target in ("3class", "hover"):
        perfect = np.eye(3, dtype=np.float32)[three_class(labels)]
    elif target == "distance":
        perfect = distance_map(labels)[:, :, None]
    else:
        perfect = (labels > 0).astype(np.float32)[:, :, None]
    output = noisy(perfect, seed=1)
    if target == "hover":  # classes, then centre offsets blurred and noisy
        offsets = centre_offsets(labels) * 0.8 + np.random.default_rng(2).normal(
            0, 0.1, (160, 190, 2)
        )
        output = np.concatenate([output, offsets.astype(np.float32)], axis=-1)
    thresholds = Thresholds(0.5, 0.6, 12, smoothing)
    expected = cells_from_output(output, target, thresholds)
    found, cells = run_javascript(tmp_path, output, image, target, thresholds)
    assert expected.max() > 10  # a scene with something to get wrong
    assert np.array_equal(found, expected)
    measured = measure_cells(image, expected)
    assert [cell["id"] for cell in cells] == [cell.id for cell in measured]
    for column in CELL_COLUMNS:
        python = np.array([getattr(cell, column) for cell in measured], float)
        javascript = np.array([cell[column] for cell in cells], float)
        np.testing.assert_allclose(javascript, python, rtol=1e-5, atol=1e-5, err_msg=column)


def test_sixteen_bit_png_encoder(tmp_path):
    script = tmp_path / "png.mjs"
    script.write_text(
        f'import {{ encodeGray16 }} from "{WEB.as_posix()}/png.js";\n'
        'import { writeFileSync } from "node:fs";\n'
        "const values = [0, 1, 2, 65535, 300, 0, 7, 8, 9, 10, 11, 40000];\n"
        "const blob = await encodeGray16(values, 3, 4);\n"
        f'writeFileSync("{(tmp_path / "labels.png").as_posix()}", '
        "Buffer.from(await blob.arrayBuffer()));\n"
    )
    subprocess.run([NODE, str(script)], check=True, capture_output=True)
    decoded = read_image(tmp_path / "labels.png")
    assert decoded.dtype == np.uint16
    assert decoded.tolist() == [[0, 1, 2, 65535], [300, 0, 7, 8], [9, 10, 11, 40000]]


RESIZE_RUNNER = """
import { readFileSync, writeFileSync } from "node:fs";
import { resizeBilinear, resizeLabels } from "%(web)s/scale.js";
const [base, ...sizes] = process.argv.slice(2);
const [rows, columns, newRows, newColumns] = sizes.map(Number);
const rgba = new Uint8ClampedArray(readFileSync(base + ".rgba"));
writeFileSync(base + ".up", resizeBilinear(rgba, rows, columns, newRows, newColumns));
const raw = readFileSync(base + ".labels");
const labels = new Int32Array(raw.buffer, raw.byteOffset, raw.length / 4);
const back = resizeLabels(labels, newRows, newColumns, rows, columns);
writeFileSync(base + ".back", Buffer.from(back.buffer));
"""


@pytest.mark.parametrize("scale", [2.0, 1.5, 1.3])
def test_resizing_matches_python(tmp_path, scale):
    """The page's --scale: the image enlarged as skimage's resize (order 1), the cells found
    at that size brought back by nearest neighbour (order 0) and numbered 1..N again."""
    from skimage.segmentation import relabel_sequential
    from skimage.transform import resize

    image, _ = synthetic_tissue((61, 83), seed=2)
    rows, columns = image.shape[:2]
    new_rows, new_columns = round(rows * scale), round(columns * scale)
    # Labels at the enlarged size, some cells a pixel or two wide (they may vanish).
    _, big_labels = synthetic_tissue((new_rows, new_columns), seed=3)
    specks = big_labels[::7, ::5]
    specks[...] = big_labels.max() + 1 + np.arange(specks.size).reshape(specks.shape)
    base = tmp_path / "case"
    np.dstack([image, np.full((rows, columns), 255, np.uint8)]).tofile(f"{base}.rgba")
    big_labels.astype(np.int32).tofile(f"{base}.labels")
    runner = tmp_path / "resize.mjs"
    runner.write_text(RESIZE_RUNNER % {"web": WEB.as_posix()})
    sizes = [str(value) for value in (rows, columns, new_rows, new_columns)]
    subprocess.run([NODE, str(runner), str(base), *sizes], check=True, capture_output=True)

    enlarged = np.fromfile(f"{base}.up", np.uint8).reshape(new_rows, new_columns, 4)[..., :3]
    expected = np.rint(resize(image, (new_rows, new_columns), order=1, preserve_range=True))
    assert np.abs(enlarged.astype(int) - expected).max() <= 1  # rounding of halves only
    back = np.fromfile(f"{base}.back", np.int32).reshape(rows, columns)
    python = resize(big_labels, (rows, columns), order=0, preserve_range=True, anti_aliasing=False)
    python = relabel_sequential(python.astype(np.int32))[0]
    assert back.max() == python.max() > 10
    assert np.array_equal(back, python)


def test_auto_scale_matches_python(tmp_path):
    from cellseg.neural_network.prediction import auto_scale

    script = tmp_path / "auto.mjs"
    script.write_text(
        f'import {{ autoScale }} from "{WEB.as_posix()}/scale.js";\n'
        'import { readFileSync } from "node:fs";\n'
        "const cases = JSON.parse(readFileSync(process.argv[2]));\n"
        "console.log(JSON.stringify(cases.map(([labels, area]) => autoScale(labels, area))));\n"
    )
    rng = np.random.default_rng(5)
    cases = []
    for count in (3, 12, 40, 41):  # too few cells; odd and even counts (the median)
        labels = rng.integers(1, count + 1, rng.integers(count * 5, count * 60))
        labels[rng.random(labels.size) < 0.3] = 0
        for area in (None, 5.0, 30.0, 90.0, 5000.0):
            cases.append((labels.tolist(), area))
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    result = subprocess.run(
        [NODE, str(script), str(tmp_path / "cases.json")], check=True, capture_output=True
    )
    expected = [auto_scale(np.array(labels), area) for labels, area in cases]
    assert json.loads(result.stdout) == pytest.approx(expected)
    assert len(set(expected)) > 2  # enlarged, capped and left alone all occur
