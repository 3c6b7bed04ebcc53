"""``cellseg train`` end to end on tiny synthetic data: the model folder and its contract."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cellseg.image_io import read_image
from cellseg.neural_network.model import TrainedModel
from cellseg.neural_network.model_folder import ModelFolder

EXAMPLES = Path(__file__).resolve().parents[2] / "scripts" / "examples"


def test_default_training_writes_a_complete_model_folder(train_command, tmp_path, training_data):
    result = train_command("--name", "default-3class", "--seed", "3")
    assert result.code == 0, result.err
    folder = ModelFolder(tmp_path / "models" / "default-3class")
    assert sorted(path.name for path in folder.path.iterdir()) == [
        "best.keras",
        "config.json",
        "history.csv",
        "model.keras",
    ]
    history = folder.read_history()
    assert [row["epoch"] for row in history] == [1, 2]
    assert {"loss", "cell_dice", "val_loss", "val_cell_dice"} <= set(history[0])
    written = json.loads(folder.config_path.read_text())
    assert written["format"] == 2 and written["status"] == "finished"
    config = folder.read_config()
    assert config.status == "finished" and config.target == "3class"
    settings = config.training
    assert settings["seed"] == 3 and settings["hyperparameters"]["batch_size"] == 2
    assert config.test_time_flips == 1 and config.divisor == 4  # 2 ** DEPTH
    files = settings["data"]["files"]
    assert sorted(entry["split"] for entry in files) == ["training"] * 3 + ["validation"]
    image = training_data / "images" / files[0]["image"]
    assert files[0]["image_sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert len(config.normalisation["mean"]) == 3
    # The median area of the training cells (from their outlines), for --scale auto.
    from cellseg.annotations import read_annotation_labels

    outlines = [training_data / "outlines" / entry["annotation"] for entry in files]
    areas = np.concatenate(
        [
            np.bincount(read_annotation_labels(path).ravel())[1:]
            for path, entry in zip(outlines, files, strict=True)
            if entry["split"] == "training"
        ]
    )
    assert config.cell_area == float(np.median(areas[areas > 0]))
    # How strong the training images' haematoxylin is, for pale counterstains.
    from cellseg.preprocessing.colour import counterstain_reference, counterstain_strength

    training_images = [
        read_image(training_data / "images" / entry["image"])
        for entry in files
        if entry["split"] == "training"
    ]
    strengths = [counterstain_strength(image)[0] for image in training_images]
    assert config.haematoxylin == counterstain_reference(strengths)
    assert set(written["thresholds"]) == {
        "foreground", "seed", "min_area", "smoothing", "min_confidence"
    }  # fmt: skip
    assert set(written["calibration"]) == {"slope", "intercept"}
    # One validation image: no spread of its counts' error to measure.
    assert written["count_spread"] is None  # files: 3 training, 1 validation (above)
    assert {"aji", "f1", "dice", "count_error", "calibration_error"} <= set(config.validation)
    assert {"tensorflow", "keras", "numpy", "cellseg"} <= set(config.libraries)
    labels = TrainedModel.from_folder(folder).segment(read_image(image)).labels
    assert labels.shape == (96, 96) and labels.dtype == np.int32


def test_split_seed_keeps_the_validation_images_of_another_seed(
    train_command, tmp_path, training_data
):
    from cellseg.neural_network.dataset import pair_by_stem, split_validation

    pairs = pair_by_stem(training_data / "images", training_data / "outlines")

    def validation_names(seed):
        return [pair.image.name for pair in split_validation(pairs, 0.25, seed)[1]]

    assert validation_names(3) != validation_names(6)  # seeds whose splits differ
    result = train_command("--name", "again", "--seed", "6", "--split-seed", "3")
    assert result.code == 0, result.err
    config = ModelFolder(tmp_path / "models" / "again").read_config()
    files = config.training_files
    assert [entry["image"] for entry in files if entry["split"] == "validation"] == (
        validation_names(3)
    )
    assert config.training["seed"] == 6


def test_users_loss_metric_architecture_and_hyperparameters(train_command, tmp_path, training_data):
    result = train_command(
        "--name",
        "user-files",
        "--target",
        "mask",
        "--loss",
        EXAMPLES / "dice_loss.py",
        "--architecture",
        EXAMPLES / "small_unet.py",
    )
    assert result.code == 0, result.err
    folder = ModelFolder(tmp_path / "models" / "user-files")
    history = folder.read_history()
    assert {"custom_metric", "val_custom_metric"} <= set(history[-1])
    config = folder.read_config()
    assert config.training["loss_file"]["path"].endswith("dice_loss.py")
    assert config.target == "mask" and config.divisor == 32
    model = TrainedModel.from_folder(folder)
    assert model.network.output_shape[-1] == 1
    image = read_image(next((training_data / "images").glob("*.png")))
    labels = model.segment(image).labels  # connected components of the mask
    assert labels.shape == image.shape[:2]


def test_distance_target_with_distribution_on_one_replica(
    train_command, tmp_path, tiny_hyperparameters
):
    hyperparameters = tmp_path / "flips.py"
    hyperparameters.write_text(tiny_hyperparameters.read_text() + "TEST_TIME_FLIPS = 2\n")
    result = train_command(
        "--name", "distance", "--target", "distance", "--distribute",
        "--hyperparameters", hyperparameters,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "MirroredStrategy over 1 replica" in result.err
    config = ModelFolder(tmp_path / "models" / "distance").read_config()
    assert config.distribute is True and config.target == "distance"
    # The model predicts, and had its thresholds tuned, averaging two views.
    assert config.test_time_flips == 2


def test_hover_target_trains_predicts_and_exports_to_the_web_page(
    train_command, cellseg, tmp_path, training_data
):
    result = train_command("--name", "hover", "--target", "hover")
    assert result.code == 0, result.err
    folder = ModelFolder(tmp_path / "models" / "hover")
    config = folder.read_config()
    assert config.target == "hover" and len(config.class_frequencies) == 3
    model = TrainedModel.from_folder(folder)  # safe mode
    assert model.network.output_shape[-1] == 5
    image = read_image(next((training_data / "images").glob("*.png")))
    assert model.segment(image).labels.shape == image.shape[:2]
    # The ONNX network agrees with Keras (export checks), and the page knows the target.
    exported = cellseg("export", folder.path, "--output", tmp_path / "site")
    assert exported.code == 0, exported.err
    assert json.loads((tmp_path / "site" / "model.json").read_text())["target"] == "hover"


def test_separation_class_balance_and_dice_weights_reach_the_default_loss(
    train_command, tmp_path, tiny_hyperparameters, monkeypatch
):
    import cellseg.neural_network.losses as losses

    built = []
    original = losses.default_loss

    def recording_default_loss(*arguments, **keywords):
        built.append(original(*arguments, **keywords))
        return built[-1]

    monkeypatch.setattr(losses, "default_loss", recording_default_loss)
    hyperparameters = tmp_path / "separation.py"
    hyperparameters.write_text(
        tiny_hyperparameters.read_text()
        + "SEPARATION_WEIGHT = 4.5\nCLASS_BALANCE = 0.5\nDICE_WEIGHT = 0.25\n"
    )
    result = train_command("--name", "separated", "--hyperparameters", hyperparameters)
    assert result.code == 0, result.err
    assert [loss.separation_weight for loss in built] == [4.5]
    assert [loss.dice_weight for loss in built] == [0.25]
    config = ModelFolder(tmp_path / "models" / "separated").read_config()
    assert config.training["hyperparameters"]["separation_weight"] == 4.5
    assert config.training["hyperparameters"]["class_balance"] == 0.5
    frequencies = config.class_frequencies
    expected = [(frequencies[0] / value) ** 0.5 for value in frequencies]
    assert built[0].class_weights == pytest.approx(expected)


def test_boundary_width_and_augmentation_options_shape_every_3class_target_and_tile(
    train_command, tmp_path, tiny_hyperparameters, monkeypatch
):
    import cellseg.neural_network.dataset as dataset
    import cellseg.neural_network.targets as targets

    widths, zooms, stains, pales, dabs, blurs, noises, warps, crowded = ([] for _ in range(9))
    three_class, random_tile = targets.three_class, dataset.random_tile

    def recording_three_class(labels, width=1):
        widths.append(width)
        return three_class(labels, width)

    def recording_random_tile(*arguments, augmentation, **keywords):
        zooms.append(augmentation.scale)
        stains.append(augmentation.stain)
        pales.append(augmentation.pale)
        dabs.append(augmentation.dab)
        blurs.append(augmentation.blur)
        noises.append(augmentation.noise)
        warps.append((augmentation.rotation, augmentation.elastic))
        # The places where the tile's image's cells touch come along, as cell pixels.
        crowded.append((augmentation.crowded, keywords["contacts"]))
        labels = arguments[1]
        assert np.all(labels[tuple(keywords["contacts"].T)] > 0)
        return random_tile(*arguments, augmentation=augmentation, **keywords)

    monkeypatch.setattr(targets, "three_class", recording_three_class)
    monkeypatch.setattr(dataset, "random_tile", recording_random_tile)
    hyperparameters = tmp_path / "wide.py"
    hyperparameters.write_text(
        tiny_hyperparameters.read_text()
        + "BOUNDARY_WIDTH = 3\nZOOM = 0.6\nSTAIN = 0.3\nPALE = 0.85\nDAB = 0.2\n"
        "BLUR = 1.5\nNOISE = 0.04\nROTATION = 30\nELASTIC = 2.5\nCROWDED = 0.75\n"
    )
    result = train_command("--name", "wide", "--hyperparameters", hyperparameters)
    assert result.code == 0, result.err
    # Class frequencies, training tiles and validation tiles alike.
    assert len(widths) > 3 and set(widths) == {3}
    assert zooms and set(zooms) == {0.6} and set(stains) == {0.3}
    assert set(pales) == {0.85} and set(dabs) == {0.2}
    assert set(blurs) == {1.5} and set(noises) == {0.04} and set(warps) == {(30.0, 2.5)}
    assert {share for share, _ in crowded} == {0.75}
    assert all(len(places) > 0 for _, places in crowded)
    config = ModelFolder(tmp_path / "models" / "wide").read_config()
    assert config.training["hyperparameters"]["boundary_width"] == 3
    assert config.training["augmentation"]["scale"] == 0.6
    assert config.training["augmentation"]["pale"] == 0.85
    assert config.training["hyperparameters"]["crowded"] == 0.75


def test_a_trained_model_is_never_overwritten_silently(train_command, tmp_path):
    """The same command again keeps the model and says so (exit 0); other settings under
    its name are refused; --restart trains it again."""
    assert train_command("--name", "kept").code == 0
    network = tmp_path / "models" / "kept" / "best.keras"
    before = network.read_bytes()
    again = train_command("--name", "kept")
    assert again.code == 0, again.err
    assert "kept: already trained with these settings, kept as it is in" in again.out
    assert "model saved" not in again.out  # nothing was
    other = train_command("--name", "kept", "--seed", "7")
    assert other.code == 1 and "Traceback" not in other.err
    [line] = other.error_lines
    assert "trained with other settings (seed" in line and "--restart" in line
    assert network.read_bytes() == before
    assert train_command("--name", "kept", "--restart").code == 0


def test_nan_loss_stops_with_a_clear_message(train_command, tmp_path):
    loss = tmp_path / "nan_loss.py"
    loss.write_text(
        "from keras import ops\n\ndef custom_loss(y_true, y_pred):\n"
        "    return ops.mean(y_pred) * ops.log(ops.zeros(()) - 1.0)\n"
    )
    result = train_command("--name", "nan", "--loss", loss)
    assert result.code == 1
    assert "loss became NaN in epoch 1" in result.err and "Traceback" not in result.err


def test_unmatched_files_are_listed_in_one_error(cellseg, training_data, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for path in (training_data / "images").iterdir():
        (images / path.name).write_bytes(path.read_bytes())
    (images / "extra.png").write_bytes(path.read_bytes())
    result = cellseg(
        "train",
        "--images",
        images,
        "--annotations",
        training_data / "outlines",
        "--name",
        "x",
        "--models-dir",
        tmp_path / "models",
    )
    assert result.code == 1
    assert "images without annotation: extra.png" in result.err
    assert len(result.error_lines) == 1


def test_mixed_precision_trains_in_bfloat16_and_saves_float32_networks(
    train_command, tmp_path, tiny_hyperparameters, training_data, monkeypatch
):
    import keras

    import cellseg.neural_network.training as training

    computed_in = []
    build = training._build

    def recording_build(*arguments, **keywords):
        model, loss = build(*arguments, **keywords)
        computed_in.append(model.get_layer("unet").get_layer("down0_conv1").compute_dtype)
        return model, loss

    monkeypatch.setattr(training, "_build", recording_build)
    hyperparameters = tmp_path / "bfloat16.py"
    hyperparameters.write_text(tiny_hyperparameters.read_text() + "PRECISION = 'mixed_bfloat16'\n")
    result = train_command("--name", "bfloat16", "--hyperparameters", hyperparameters)
    assert result.code == 0, result.err
    assert computed_in == ["bfloat16"]
    assert keras.mixed_precision.dtype_policy().name == "float32"  # the process's is restored
    folder = ModelFolder(tmp_path / "models" / "bfloat16")
    assert folder.read_config().training["hyperparameters"]["precision"] == "mixed_bfloat16"

    def every_layer(model):
        for layer in model.layers:
            yield layer
            if isinstance(layer, keras.Model):
                yield from every_layer(layer)

    for path in (folder.model_path, folder.best_path):
        network = keras.saving.load_model(path, compile=False, safe_mode=True)
        assert {layer.compute_dtype for layer in every_layer(network)} == {"float32"}, path
    image = read_image(next((training_data / "images").glob("*.png")))
    labels = TrainedModel.from_folder(folder).segment(image).labels
    assert labels.shape == image.shape[:2]


def test_weight_average_is_what_best_and_model_keep_also_when_resumed_after_the_last_epoch(
    train_command, tmp_path, tiny_hyperparameters, monkeypatch
):
    import keras

    import cellseg.neural_network.callbacks as callbacks
    import cellseg.neural_network.training as training

    def averages(model):
        kept = model.optimizer._model_variables_moving_average
        return [keras.ops.convert_to_numpy(variable) for variable in kept]

    def own(model):
        return [keras.ops.convert_to_numpy(variable) for variable in model.trainable_variables]

    saved_best, finished = [], []
    save_network = callbacks.save_network

    def recording_save(model, path):
        saved_best.append((own(model), averages(model)))
        save_network(model, path)

    def killed_before_finishing(folder, config, model, *rest):
        finished.append((own(model), averages(model)))
        raise KeyboardInterrupt  # as if killed between the last epoch and the end

    monkeypatch.setattr(callbacks, "save_network", recording_save)
    monkeypatch.setattr(training, "_finish", killed_before_finishing)
    hyperparameters = tmp_path / "averaged.py"
    hyperparameters.write_text(
        tiny_hyperparameters.read_text().replace("STEPS_PER_EPOCH = 2", "STEPS_PER_EPOCH = 4")
        + "WEIGHT_AVERAGE = 0.5\n"
    )
    killed = train_command("--name", "averaged", "--hyperparameters", hyperparameters)
    assert killed.code != 0 and finished and saved_best
    for network, average in [*saved_best, *finished]:
        for saved, expected in zip(network, average, strict=True):
            np.testing.assert_array_equal(saved, expected)

    monkeypatch.undo()  # resumed after its last epoch: no fit(), the same averaged network
    finish = training._finish
    resumed = []

    def recording_finish(folder, config, model, *rest):
        resumed.append((own(model), averages(model)))
        finish(folder, config, model, *rest)

    monkeypatch.setattr(training, "_finish", recording_finish)
    result = train_command("--name", "averaged", "--hyperparameters", hyperparameters)
    assert result.code == 0, result.err
    assert "all 2 epochs were already finished" in result.out
    network, average = resumed[0]
    for saved, expected, before in zip(network, average, finished[0][0], strict=True):
        np.testing.assert_array_equal(saved, expected)
        np.testing.assert_allclose(saved, before, atol=1e-6)
    folder = ModelFolder(tmp_path / "models" / "averaged")
    assert folder.read_config().training["hyperparameters"]["weight_average"] == 0.5
