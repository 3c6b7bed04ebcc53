"""benchmarks/prediction_views.py: outputs averaged over networks; every candidate reported,
ensembles with other models (``--with``) included."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from prediction_views import CANDIDATES, validation_pairs, with_networks

from cellseg.neural_network.model_config import ModelConfig

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "prediction_views.py"


def test_outputs_are_averaged_over_networks_and_views():
    keras = pytest.importorskip("keras")
    from cellseg.neural_network.model import TrainedModel

    inputs = keras.Input((None, None, 3))
    network = keras.Model(inputs, keras.layers.Rescaling(1 / 255)(inputs))
    doubled = keras.Model(inputs, keras.layers.Rescaling(2 / 255)(inputs))
    image = np.random.default_rng(0).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    model = TrainedModel(network, ModelConfig(divisor=4), name="identity")
    alone = with_networks(model, [network], 1)
    assert alone.name == "identity" and alone.thresholds == model.thresholds
    np.testing.assert_allclose(alone.output(image), image / 255, atol=1e-6)
    # A network that maps each pixel to itself is the same in every view, flipped back.
    four_views = with_networks(model, [network], 4)
    assert four_views.config.test_time_flips == 4
    np.testing.assert_allclose(four_views.output(image), alone.output(image), atol=1e-6)
    both = with_networks(model, [network, doubled], 2).output(image)
    np.testing.assert_allclose(both, 1.5 * image / 255, atol=1e-5)


def test_validation_images_are_the_ones_the_model_recorded():
    files = [{"image": "a.png", "split": "training"}, {"image": "b.png", "split": "validation"}]
    config = ModelConfig(training={"data": {"files": files}})
    [(image, labels)] = validation_pairs(config)
    assert (image.name, image.parent.name, labels.parent.name) == ("b.png", "images", "labels")
    assert validation_pairs(ModelConfig()) == []


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
