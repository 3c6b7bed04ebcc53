"""``cellseg train --from``: fine-tuning a trained model on a few annotated images, the
predict -> correct -> train -> predict loop, and the lineage the new model records."""

import hashlib
import math
import re
import shutil
from dataclasses import replace

import numpy as np
import pytest

from cellseg.annotations import read_annotation_labels
from cellseg.errors import CellsegError
from cellseg.image_io import read_image, write_image
from cellseg.neural_network.dataset import annotated_pairs
from cellseg.neural_network.hyperparameters import (
    PARENT,
    Hyperparameters,
    fine_tuning_hyperparameters,
)
from cellseg.neural_network.model_folder import ModelFolder, resolve_model
from cellseg.neural_network.runs import Parent, run_hyperparameters


def network_digest(reference: str) -> str:
    path = resolve_model(reference).prediction_path()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fine_tuning_keeps_the_parents_recipe_but_its_schedule():
    parent = Parent.load("default")
    recorded = parent.hyperparameters()
    # The shipped model's record: its width, augmentation and the flips it predicts with.
    assert (recorded.base_filters, recorded.zoom, recorded.test_time_flips) == (8, 0.25, 2)
    # Names its record lacks come from its augmentation record, else their defaults.
    assert recorded.stain == parent.config.training["augmentation"]["stain"]
    tuned = fine_tuning_hyperparameters(recorded)
    assert (tuned.epochs, tuned.steps_per_epoch, tuned.learning_rate) == (10, None, 2e-4)
    assert tuned.warmup_epochs == 1 and tuned.weight_average == 0.0
    kept = ("batch_size", "tile_size", "zoom", "stain", "pale", "dab", "test_time_flips")
    assert all(getattr(tuned, name) == getattr(recorded, name) for name in kept)
    assert parent.sha256 == network_digest("default")


def test_a_file_with_from_sets_its_names_and_the_others_take_the_fine_tuning_values(
    tiny_schedule,
):
    """A file fine-tuning sets only some names in: the others take fine-tuning values."""
    path = tiny_schedule
    parent = Parent.load("default")
    chosen = run_hyperparameters(path, parent)
    assert (chosen.epochs, chosen.tile_size, chosen.learning_rate) == (2, 64, 1e-3)
    assert chosen.warmup_epochs == 1 and chosen.test_time_flips == 2  # not in the file
    assert run_hyperparameters(None, parent) == fine_tuning_hyperparameters(
        parent.hyperparameters()
    )
    # Without --from a file's missing names keep their plain defaults, as before.
    assert run_hyperparameters(path, None).warmup_epochs == Hyperparameters().warmup_epochs
    # Fine-tuning, a file of one name is enough; without --from the names it needs are asked.
    steps = path.with_name("steps.py")
    steps.write_text("STEPS_PER_EPOCH = 90\n")
    assert run_hyperparameters(steps, parent) == replace(
        fine_tuning_hyperparameters(parent.hyperparameters()), steps_per_epoch=90
    )
    with pytest.raises(CellsegError, match=r"steps\.py: BATCH_SIZE is missing"):
        run_hyperparameters(steps, None)
    path.write_text(path.read_text() + "WARMUP_EPOCHS = -1\n")
    with pytest.raises(CellsegError, match=r"tiny\.py: WARMUP_EPOCHS must be between 0"):
        run_hyperparameters(path, parent)


def test_warm_up_raises_the_learning_rate_step_by_step_then_follows_the_cosine():
    import keras

    from cellseg.neural_network.callbacks import cosine_schedule

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1.0), loss="mse")
    schedule = cosine_schedule(0.1, 4, warmup_epochs=1, steps=4)
    schedule.set_model(model)

    def rate_at(epoch, step):
        schedule.on_epoch_begin(epoch)
        schedule.on_train_batch_begin(step)
        return float(model.optimizer.learning_rate)

    # Epoch 0's cosine is the full rate: a quarter of it more at each of the 4 steps.
    assert [rate_at(0, step) for step in range(4)] == pytest.approx([0.025, 0.05, 0.075, 0.1])
    cosine = 0.1 * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert rate_at(1, 0) == pytest.approx(cosine) and rate_at(1, 3) == pytest.approx(cosine)


def test_predict_correct_fine_tune_predict_and_fine_tune_again(
    cellseg, training_data, tiny_schedule, tmp_path
):
    hyperparameters = tiny_schedule
    images, predicted = training_data / "images", tmp_path / "predicted"
    result = cellseg("predict", "default", images, "--output", predicted, "--scale", "1")
    assert result.code == 0, result.err

    # The user corrects one outline layer in a drawing program: erases a cell's outline
    # and draws a missed cell where the model found none.
    layer_path = predicted / "synthetic_000_outlines.png"
    layer, found = read_image(layer_path), read_image(predicted / "synthetic_000_labels.png")
    assert np.array_equal(read_annotation_labels(layer_path) > 0, found > 0)  # as it is
    erased = int(found.max())
    layer[found == erased] = 0
    row, column = next(
        (r, c)
        for r in range(2, 80)
        for c in range(2, 80)
        if not found[r - 2 : r + 16, c - 2 : c + 16].any()
    )
    layer[row : row + 14, column : column + 14] = (255, 0, 0, 255)
    layer[row + 1 : row + 13, column + 1 : column + 13] = 0
    write_image(layer_path, layer, overwrite=True)
    corrected = read_annotation_labels(layer_path)
    assert corrected.max() == found.max()  # one cell fewer, one more
    assert not corrected[found == erased].any() and corrected[row + 6, column + 6] > 0

    models = tmp_path / "models"
    train = ("train", "--images", images, "--annotations", predicted, "--models-dir", models)
    result = cellseg(*train, "--from", "default", "--name", "lab",
                     "--hyperparameters", hyperparameters)  # fmt: skip
    assert result.code == 0, result.err
    assert "lab (fine-tuning default): 3 training images, 1 validation image" in result.out
    assert re.search(r"about \d+ s more of training steps \(at [\d.]+ tiles per second", result.out)
    assert "default as it was, on the same images: aji" in result.out
    # One validation image: the thresholds fit it, and the parent's spread is kept. Said.
    spread = resolve_model("default").read_config().count_spread
    assert "1 image to tune the model on, fewer than 3: its thresholds fit it" in result.err
    assert f"the count's spread is kept as it was, {spread:g}, not measured" in result.err
    config = ModelFolder(models / "lab").read_config()
    assert config.parent["name"] == "default"
    assert config.parent["sha256"] == network_digest("default")
    assert config.parent["config"]["name"] == "default"
    assert set(config.parent["validation"]) >= {"aji", "f1", "count_error"}
    assert config.training["parent"] == {"name": "default", "sha256": network_digest("default")}
    assert {entry["annotation"] for entry in config.training_files} == {
        f"synthetic_00{index}_outlines.png" for index in range(4)
    }
    # What the network starts from: the parent's normalisation, size divisor and flips.
    default = resolve_model("default").read_config()
    assert config.normalisation == default.normalisation and config.divisor == 16
    assert config.test_time_flips == 2 and config.target == "3class"

    after = tmp_path / "after"
    result = cellseg("predict", "lab", images, "--models-dir", models, "--output", after)
    assert result.code == 0, result.err
    assert (after / "synthetic_000_outlines.png").is_file()

    # Fine-tuned again on 2 more images: too few to hold one out. Without STEPS_PER_EPOCH,
    # each epoch sees their pixels 16 times: 2 x 96 x 96 pixels, 16 x 2.25 batches of tiles.
    hyperparameters.write_text(hyperparameters.read_text().replace("STEPS_PER_EPOCH = 2\n", ""))
    more, more_predicted = tmp_path / "more", tmp_path / "more-predicted"
    more.mkdir()
    for name in ("synthetic_001.png", "synthetic_002.png"):
        shutil.copyfile(images / name, more / name)
    assert cellseg("predict", "lab", more, "--models-dir", models,
                   "--output", more_predicted).code == 0  # fmt: skip
    result = cellseg("train", "--images", more, "--annotations", more_predicted,
                     "--models-dir", models, "--from", "lab", "--name", "lab-2",
                     "--hyperparameters", hyperparameters)  # fmt: skip
    assert result.code == 0, result.err
    assert "2 training images, 0 validation images" in result.out
    assert "0 validation images (whole images), 2 epochs of 36 steps" in result.out
    assert "36 steps of 2 tiles of 64 x 64 pixels per epoch, 2 epochs" in result.out
    assert "thresholds of lab were tuned again on the 2 training images" in result.out
    assert "2 images to tune the model on, fewer than 3" in result.err
    second = ModelFolder(models / "lab-2").read_config()
    assert second.validation is None and second.parent["config"]["parent"]["name"] == "default"

    board = cellseg("leaderboard", "--models-dir", models)
    rows = {line.split()[1]: line for line in board.out.splitlines()[1:-1]}
    assert "default > lab" in rows["lab-2"] and rows["lab"].split()[-2] == "default"
    report = cellseg("report", "lab", "--models-dir", models, "--output", tmp_path / "lab.html")
    assert report.code == 0, report.err
    page = (tmp_path / "lab.html").read_text()
    assert "Lineage" in page and "default (the parent, as it was)" in page
    assert "lab (fine-tuned)" in page


REFUSED = {
    "an architecture": (["--architecture", "small_unet.py"], "--architecture"),
    "another target": (["--target", "mask"], "--target mask: default learned the 3class"),
    "no such model": (["--from", "no-such-model"], "--from no-such-model: no model"),
    "its own name": (["--from", "mine", "--name", "mine", "--models-dir", "."], "--name mine:"),
    "a shipped name": (["--name", "default"], "'default': the name of a model shipped with"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_what_fine_tuning_cannot_do_is_one_line_naming_the_option(
    case, cellseg, training_data, tmp_path, monkeypatch
):
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "scripts" / "examples"
    monkeypatch.chdir(tmp_path)
    shutil.copytree(resolve_model("default").path, tmp_path / "mine")
    shutil.copyfile(examples / "small_unet.py", tmp_path / "small_unet.py")
    options, expected = REFUSED[case]
    arguments = ["--from", "default", "--name", "lab", "--models-dir", "models", *options]
    result = cellseg("train", "--images", training_data / "images",
                     "--annotations", training_data / "outlines", *arguments)  # fmt: skip
    assert result.code != 0
    [line] = result.error_lines
    assert expected in line
    assert not (tmp_path / "models" / "lab").exists()


def test_an_unfinished_model_is_not_fine_tuned(small_model, tmp_path):
    import json

    unfinished = shutil.copytree(small_model, tmp_path / "unfinished")
    config = json.loads((unfinished / "config.json").read_text())
    (unfinished / "config.json").write_text(json.dumps({**config, "status": "training"}))
    with pytest.raises(CellsegError, match="unfinished run; finish it"):
        Parent.load(unfinished)


def test_a_changed_parent_is_another_run(training_data, tmp_path, small_model):
    from cellseg.neural_network.runs import run_settings, start_or_resume
    from cellseg.neural_network.training import TrainingRequest
    from cellseg.preprocessing.augmentation import Augmentation

    parent_folder = shutil.copytree(small_model, tmp_path / "parent")
    request = TrainingRequest(
        images=training_data / "images", annotations=training_data / "outlines", name="child"
    )
    pairs = annotated_pairs(request.images, request.annotations)

    def start(parent):
        settings = run_settings(
            request, Hyperparameters(), Augmentation(), pairs[1:], pairs[:1], parent
        )
        return start_or_resume(folder, request, settings, parent)

    folder = ModelFolder(tmp_path / "child")
    config = start(Parent.load(parent_folder))
    assert config.parent["sha256"] == config.training["parent"]["sha256"]
    folder.state_path.parent.mkdir()
    folder.write_state({"finished_epochs": 1})
    assert start(Parent.load(parent_folder)).parent == config.parent  # the same run resumes
    network = parent_folder / "best.keras"
    network.write_bytes(network.read_bytes() + b"\0")  # the parent trained further, say
    with pytest.raises(CellsegError, match=r"other settings \(parent\)"):
        start(Parent.load(parent_folder))


def test_lineage_names_every_ancestor_the_first_one_first():
    from cellseg.neural_network.model_config import ModelConfig
    from cellseg.neural_network.model_listing import lineage

    first = {"name": "default", "config": {"target": "3class", "parent": None}}
    second = {"name": "lab", "config": {"target": "3class", "parent": first}}
    assert lineage(ModelConfig(parent=second)) == "default > lab"
    assert lineage(ModelConfig(parent=first)) == "default"
    assert lineage(ModelConfig()) is None


def test_the_readme_says_what_fine_tuning_changes_and_each_value_is_allowed():
    from cellseg.neural_network.hyperparameter_checks import hyperparameters_from_names
    from cellseg.neural_network.hyperparameters import DEFINITIONS

    values = {
        definition.name: definition.fine_tuning
        for definition in DEFINITIONS
        if definition.fine_tuning != PARENT
    }
    assert {"EPOCHS", "LEARNING_RATE", "WARMUP_EPOCHS"} <= set(values)
    assert hyperparameters_from_names({"BATCH_SIZE": 8, **values})[1] == []
