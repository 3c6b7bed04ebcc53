"""A model's name means one model: the shipped ones cannot be shadowed, and a training run
that has not finished is not used as if it had."""

import shutil
from dataclasses import replace

from cellseg.neural_network.model_folder import ModelFolder, bundled_models


def test_a_model_cannot_be_trained_under_a_shipped_models_name(train_command, tmp_path):
    """A lab's run named default replaced the shipped default in predict, evaluate and
    --from (13 cells found where it found 35), without a word."""
    result = train_command("--name", "default")
    assert result.code == 1
    assert result.error_lines == [
        "cellseg train: error: 'default': the name of a model shipped with cellseg, which "
        "that name always means; choose another name"
    ]
    assert not (tmp_path / "models" / "default").exists()


def test_the_shipped_name_means_the_shipped_model_whatever_the_models_folder_holds(
    cellseg, models, training_data, tmp_path
):
    """A folder named default in the models folder, from before names were refused: predict
    default is still the shipped model, and that folder is reached by its path."""
    root = tmp_path / "models"
    shutil.copytree(models / "first", root / "default")
    images = training_data / "images"
    at = ("--models-dir", root)
    shipped = cellseg("predict", "default", images, "--output", tmp_path / "a", *at)
    assert shipped.code == 0, shipped.err
    lab = cellseg("predict", root / "default", images, "--output", tmp_path / "b")
    assert lab.code == 0, lab.err
    # The shipped network is not the small test model: their cells differ.
    first = (tmp_path / "a" / "synthetic_000_cells.csv").read_text()
    second = (tmp_path / "b" / "synthetic_000_cells.csv").read_text()
    assert first != second
    assert (bundled_models() / "default").is_dir()


def test_a_run_that_has_not_finished_is_refused_naming_it(cellseg, models, training_data, tmp_path):
    """A run stopped after an epoch was used by predict, evaluate and export as it was:
    untuned thresholds, 1625 cells where 35 were."""
    folder = ModelFolder(tmp_path / "models" / "r1")
    shutil.copytree(models / "first", folder.path)
    folder.write_config(replace(folder.read_config(), status="training"))
    images = training_data / "images"
    for command in (
        ("predict", "r1", images, "--output", tmp_path / "out"),
        ("evaluate", "r1", "--images", images, "--annotations", training_data / "outlines"),
        ("export", "r1", "--output", tmp_path / "site"),
    ):
        result = cellseg(*command, "--models-dir", tmp_path / "models")
        assert result.code == 1, result.err
        assert len(result.error_lines) == 1, result.err
        assert "is a training run that has not finished (interrupted, resumable)" in result.err
        assert "run its cellseg train command again to finish it" in result.err
    assert not (tmp_path / "out").exists() and not (tmp_path / "site").exists()
