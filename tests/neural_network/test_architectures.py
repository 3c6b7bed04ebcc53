"""The default U-Net, normalisation inside the model, and loading in Keras safe mode."""

import io
import json
import zipfile

import keras
import numpy as np
import pytest

from cellseg.errors import CellsegError
from cellseg.neural_network.architectures import unet, with_normalisation
from cellseg.neural_network.model_folder import ModelFolder, load_network


@pytest.mark.parametrize(("target", "channels"), [("3class", 3), ("mask", 1), ("distance", 1)])
def test_unet_output_fits_the_target(target, channels):
    model = unet(target=target, base_filters=4, depth=2)
    output = model.predict_on_batch(np.random.default_rng(0).random((1, 32, 48, 3), np.float32))
    assert output.shape == (1, 32, 48, channels)
    if target == "3class":
        np.testing.assert_allclose(output.sum(axis=-1), 1, rtol=1e-5)
    else:
        assert 0 <= output.min() and output.max() <= 1


def test_normalisation_is_part_of_the_model():
    core = unet(target="mask", base_filters=4, depth=2)
    mean, std = (200.0, 150.0, 180.0), (20.0, 30.0, 25.0)
    model = with_normalisation(core, mean, std)
    raw = np.random.default_rng(1).uniform(0, 255, (1, 16, 16, 3)).astype(np.float32)
    standardised = (raw - np.array(mean, np.float32)) / np.array(std, np.float32)
    np.testing.assert_allclose(
        model.predict_on_batch(raw), core.predict_on_batch(standardised), atol=1e-5
    )


def test_saved_model_loads_in_safe_mode_with_the_same_output(tmp_path):
    model = with_normalisation(unet(base_filters=4, depth=2), (1, 2, 3), (4, 5, 6))
    model.save(tmp_path / "best.keras")
    (tmp_path / "config.json").write_text(json.dumps({"target": "3class"}))
    again = load_network(ModelFolder(tmp_path))
    image = np.random.default_rng(2).uniform(0, 255, (1, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(
        again.predict_on_batch(image), model.predict_on_batch(image), atol=1e-6
    )


def test_model_asking_for_code_is_refused(tmp_path):
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "best.keras")
    (tmp_path / "config.json").write_text(json.dumps({"target": "3class"}))
    with pytest.raises(CellsegError, match=r"best\.keras: cannot load the network"):
        load_network(ModelFolder(tmp_path))


def test_corrupt_or_missing_network_file(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"target": "3class"}))
    with pytest.raises(CellsegError, match=r"model\.keras: missing"):
        load_network(ModelFolder(tmp_path))
    with zipfile.ZipFile(tmp_path / "best.keras", "w") as archive:
        archive.writestr("config.json", "{not json")
    with pytest.raises(CellsegError, match=r"best\.keras: cannot load the network"):
        load_network(ModelFolder(tmp_path))


def test_saved_network_leaves_the_optimizer_state_out(tmp_path):
    import h5py

    from cellseg.neural_network.model_folder import save_network

    model = with_normalisation(unet(base_filters=4, depth=2), (1, 2, 3), (4, 5, 6))
    model.compile(optimizer="adam", loss="mse")
    image = np.random.default_rng(3).random((1, 16, 16, 3), np.float32)
    model.fit(image, np.zeros((1, 16, 16, 3), np.float32), epochs=1, verbose=0)
    save_network(model, tmp_path / "best.keras")
    with zipfile.ZipFile(tmp_path / "best.keras") as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")))
        assert "optimizer" not in weights
    again = keras.saving.load_model(tmp_path / "best.keras", compile=False, safe_mode=True)
    np.testing.assert_allclose(again.predict_on_batch(image), model.predict_on_batch(image))
