"""benchmarks/prediction_views.py: outputs averaged over networks; every candidate reported,
ensembles with other models (``--with``) included."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from prediction_views import CANDIDATES, averaged_output, validation_pairs

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "prediction_views.py"


def test_outputs_are_averaged_over_networks_and_views():
    keras = pytest.importorskip("keras")
    inputs = keras.Input((None, None, 3))
    network = keras.Model(inputs, keras.layers.Rescaling(1 / 255)(inputs))
    doubled = keras.Model(inputs, keras.layers.Rescaling(2 / 255)(inputs))
    image = np.random.default_rng(0).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    config = {"target": "3class", "divisor": 4}
    alone = averaged_output([network], image, config, 1)
    np.testing.assert_allclose(alone, image / 255, atol=1e-6)
    # A network that maps each pixel to itself is the same in every view, flipped back.
    np.testing.assert_allclose(averaged_output([network], image, config, 4), alone, atol=1e-6)
    both = averaged_output([network, doubled], image, config, 2)
    np.testing.assert_allclose(both, 1.5 * image / 255, atol=1e-5)


def test_validation_images_are_the_ones_the_model_recorded():
    config = {
        "settings": {
            "data": {
                "files": [
                    {"image": "a.png", "split": "training"},
                    {"image": "b.png", "split": "validation"},
                ]
            }
        }
    }
    [(image, labels)] = validation_pairs(config)
    assert (image.name, image.parent.name, labels.parent.name) == ("b.png", "images", "labels")
    assert validation_pairs({"target": "3class"}) == []


def test_the_script_reports_each_candidate(tissue_folders):
    images, labels = tissue_folders
    result = subprocess.run(
        [sys.executable, SCRIPT, "--images", images, "--labels", labels, "--with", "default"]
        + ["--validation-images", images, "--validation-labels", labels],
        capture_output=True,
        text=True,
        check=True,
    )
    report = [line.split() for line in result.stdout.splitlines() if line.strip()]
    rows = [line for line in report if line[0].isdigit()]
    assert [(int(row[0]), row[1]) for row in rows] == [
        (views, "+".join(names)) for views, names in CANDIDATES
    ]
    for row in rows:
        assert all(0 <= float(value) <= 1 for value in row[2:6])  # AJI and F1 of both sets
    assert "with: default" in result.stdout


def test_a_missing_model_is_one_line_naming_it(tissue_folders):
    images, labels = tissue_folders
    result = subprocess.run(
        [sys.executable, SCRIPT, "--images", images, "--labels", labels, "--with", "no-such"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "no-such" in line]
    assert line.startswith("prediction_views.py: no-such")
