"""Fixtures for the web page: a small model folder, ready to export."""

import json

import pytest


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    """A model folder with an untrained two-level U-Net (3 classes), as training writes it."""
    import keras

    from cellseg.neural_network.architectures import unet, with_normalisation

    folder = tmp_path_factory.mktemp("models") / "small"
    folder.mkdir()
    keras.utils.set_random_seed(0)
    network = with_normalisation(unet(base_filters=4, depth=2), (190, 150, 200), (40, 45, 35))
    network.save(folder / "best.keras")
    config = {
        "target": "3class",
        "divisor": 4,
        "status": "finished",
        "postprocessing": {"foreground": 0.5, "seed": 0.6, "min_area": 10},
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder
