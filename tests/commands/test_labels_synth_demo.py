"""``cellseg labels``, ``cellseg synth`` and ``cellseg demo`` end to end."""

import csv
import re
import subprocess
import sys

import numpy as np
import pytest

from cellseg.image_io import read_image, write_image
from cellseg.metrics import aggregated_jaccard_index, count_objects
from cellseg.preprocessing.targets import BOUNDARY, INTERIOR


@pytest.fixture
def synthetic_set(tmp_path, cellseg):
    result = cellseg("synth", tmp_path / "set", "--count", 2, "--size", 160, "--seed", 4)
    assert result.code == 0, result.err
    return tmp_path / "set"


def test_synth_writes_images_outlines_and_labels(synthetic_set):
    for name in ("synthetic_000.png", "synthetic_001.png"):
        image = read_image(synthetic_set / "images" / name)
        layer = read_image(synthetic_set / "outlines" / name)
        labels = read_image(synthetic_set / "labels" / name)
        assert image.shape == (160, 160, 3) and image.dtype == np.uint8
        assert layer.shape == (160, 160, 4)
        assert labels.dtype == np.uint16 and count_objects(labels) > 20
        drawn = layer[:, :, 3] > 0
        assert (layer[drawn][:, :3] == (255, 0, 0)).all()
        assert (labels[drawn] > 0).all()  # outlines lie on the cells


def test_labels_recovers_the_exact_cells(tmp_path, cellseg, synthetic_set):
    result = cellseg(
        "labels",
        synthetic_set / "outlines",
        tmp_path / "labels",
        "--images",
        synthetic_set / "images",
    )
    assert result.code == 0, result.err
    for path in (synthetic_set / "labels").iterdir():
        found = read_image(tmp_path / "labels" / path.name)
        assert found.dtype == np.uint16
        assert aggregated_jaccard_index(read_image(path), found) > 0.95


@pytest.mark.parametrize(
    ("target", "suffix", "dtype", "values"),
    [
        ("mask", ".png", np.uint8, {0, 255}),
        ("3class", ".png", np.uint8, {0, INTERIOR, BOUNDARY}),
        ("distance", ".tif", np.float32, None),
    ],
)
def test_training_targets(tmp_path, cellseg, synthetic_set, target, suffix, dtype, values):
    result = cellseg("labels", synthetic_set / "outlines", tmp_path / target, "--target", target)
    assert result.code == 0, result.err
    written = read_image(tmp_path / target / f"synthetic_000{suffix}")
    assert written.dtype == dtype and written.shape == (160, 160)
    if values is not None:
        assert set(np.unique(written)) == values
    else:
        assert 0 <= written.min() and written.max() == pytest.approx(1.0)


def test_demo_counts_the_cells_of_the_bundled_image(tmp_path, cellseg):
    result = cellseg("demo", "--output", tmp_path / "demo")
    assert result.code == 0, result.err
    found = re.search(r"Cells found: (\d+) \(.*\), of which (\d+) DAB-positive", result.out)
    assert found, result.out
    count, positive = int(found[1]), int(found[2])
    assert 100 < count < 1500 and 0 < positive < count  # the sample shows a few hundred nuclei
    # Its pale counterstain is strengthened, and the line says by how much, as counts.csv.
    factor = float(re.search(r"pale haematoxylin strengthened x([\d.]+)", result.out)[1])
    with open(tmp_path / "demo" / "counts.csv") as file:
        (row,) = csv.DictReader(file)
    assert 1 < factor == pytest.approx(float(row["counterstain"]), abs=0.005)
    names = {path.name for path in (tmp_path / "demo").iterdir()}
    assert {
        "tissue.png",
        "tissue_overlay.png",
        "tissue_labels.png",
        "tissue_outlines.png",
        "counts.csv",
        "cells.csv",
    } <= names
    assert read_image(tmp_path / "demo" / "tissue_labels.png").max() == count
    again = cellseg("demo", "--output", tmp_path / "demo")  # run twice: the same result
    assert again.code == 0 and f"Cells found: {count} (" in again.out, again.err
    assert "earlier run" in again.out
    write_image(tmp_path / "demo" / "tissue.png", np.zeros((8, 8), np.uint8), overwrite=True)
    changed = cellseg("demo", "--output", tmp_path / "demo")  # a file the user changed
    assert changed.code == 1 and "tissue.png: already exists with other content" in changed.err


def test_demo_at_its_own_scale_says_nothing_of_enlarging(tmp_path, cellseg):
    result = cellseg("demo", "--output", tmp_path / "demo", "--scale", "1")
    assert result.code == 0, result.err
    assert "512 x 512 pixels at its own scale, " in result.out and "enlarged" not in result.out


def test_help_lists_every_command_without_loading_heavy_libraries():
    code = (
        "import sys\n"
        "from cellseg.cli import main\n"
        "main(['--help'])\n"
        "try:\n"
        "    main(['split', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'skimage', 'scipy') if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    for command in ("split", "merge", "blur", "reduce", "labels", "synth", "demo"):
        assert f"  {command}" in output
    assert output.strip().splitlines()[-1] == "[]"


def test_unknown_command(cellseg):
    result = cellseg("segment")
    assert result.code == 2 and "unknown command 'segment'" in result.err
