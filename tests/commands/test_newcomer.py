"""A newcomer's first hour: models found from any folder, training that says what it does,
an evaluation that says when it flatters, no warning meant for developers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from terminal import started_as_at_a_terminal

from cellseg.neural_network.model_folder import models_folder


def test_the_models_folder_is_found_from_a_subfolder_or_named_by_a_variable(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "trained_models").mkdir(parents=True)
    (project / "scans" / "day1").mkdir(parents=True)
    monkeypatch.delenv("CELLSEG_MODELS", raising=False)
    monkeypatch.chdir(project / "scans" / "day1")
    assert models_folder() == project / "trained_models"
    assert models_folder("elsewhere") == Path("elsewhere")
    monkeypatch.setenv("CELLSEG_MODELS", str(tmp_path / "shared-models"))
    assert models_folder() == tmp_path / "shared-models"
    monkeypatch.delenv("CELLSEG_MODELS")
    monkeypatch.chdir(tmp_path)
    assert models_folder() == tmp_path / "trained_models"  # none above: the working folder's


def test_a_trained_model_is_found_by_name_from_another_folder(
    cellseg, small_model, tmp_path, monkeypatch
):
    import shutil

    from cellseg.image_io import write_image

    shutil.copytree(small_model, tmp_path / "project" / "trained_models" / "mine")
    (tmp_path / "project" / "scans").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.delenv("CELLSEG_MODELS", raising=False)
    import numpy as np

    write_image(tmp_path / "project" / "scans" / "a.png", np.zeros((32, 32, 3), np.uint8))
    monkeypatch.chdir(tmp_path / "project" / "scans")
    found = cellseg("predict", "mine", "a.png", "--output", tmp_path / "out")
    assert found.code == 0, found.err
    monkeypatch.chdir(tmp_path / "elsewhere")
    lost = cellseg("predict", "mine", tmp_path / "project" / "scans", "--output", tmp_path / "o")
    assert lost.code == 1 and str(tmp_path / "elsewhere" / "trained_models") in lost.err
    assert "default" in lost.err  # the shipped models are named
    monkeypatch.setenv("CELLSEG_MODELS", str(tmp_path / "project" / "trained_models"))
    again = cellseg("predict", "mine", tmp_path / "project" / "scans", "--output", tmp_path / "o")
    assert again.code == 0, again.err


def test_help_names_the_shipped_default(cellseg):
    for command in ("predict", "evaluate", "report", "export"):
        result = cellseg(command, "--help")
        assert result.code == 0 and "'default'" in result.out, command


def test_leaderboard_lists_the_shipped_default_and_an_interrupted_run(
    cellseg, small_model, tmp_path
):
    import json
    import shutil

    shutil.copytree(small_model, tmp_path / "models" / "stopped")
    config = json.loads((tmp_path / "models" / "stopped" / "config.json").read_text())
    (tmp_path / "models" / "stopped" / "config.json").write_text(
        json.dumps({**config, "status": "training"})
    )
    (tmp_path / "models" / "stopped" / ".training").write_text(
        json.dumps({"pid": 2**22 + 7, "host": os.uname().nodename})  # a process long gone
    )
    result = cellseg("leaderboard", "--models-dir", tmp_path / "models")
    assert result.code == 0, result.err
    rows = {line.split()[1]: line for line in result.out.splitlines()[1:-1]}
    assert "finished" in rows["default"] and "(shipped)" in result.out
    assert "interrupted, resumable" in rows["stopped"]
    assert result.out.splitlines()[-1].startswith("cellseg leaderboard: ")


def test_training_says_what_it_does_and_how_long_it_has_left(train_command):
    result = train_command("--name", "told")
    assert result.code == 0, result.err
    assert "loading TensorFlow" in result.out.splitlines()[0]
    assert "3 training images, 1 validation image (whole images), 2 epochs" in result.out
    assert "steps of 2 tiles of 64 x 64 pixels per epoch" in result.out
    assert "left)" in result.err  # after the first epoch: the time the others will take


@pytest.mark.parametrize("moment", ["starting", "training"])
def test_interrupting_training_says_how_to_resume(
    training_data, tiny_hyperparameters, tmp_path, moment
):
    import signal
    import time

    # Long enough that it cannot finish in the second before the interruption.
    long = tmp_path / "long.py"
    long.write_text(tiny_hyperparameters.read_text().replace("EPOCHS = 2", "EPOCHS = 500"))
    command = [
        str(Path(sys.executable).parent / "cellseg"), "train",
        "--images", str(training_data / "images"),
        "--annotations", str(training_data / "outlines"),
        "--name", "stopped", "--hyperparameters", str(long),
        "--models-dir", str(tmp_path / "models"),
    ]  # fmt: skip
    process = started_as_at_a_terminal(command)
    # Starting: about when the first step's graph is traced, where TensorFlow may turn a
    # KeyboardInterrupt into an error of its own, or lose it. Training: after the first steps.
    awaited = "saving in" if moment == "starting" else "tiles per second"
    for line in process.stdout:
        if awaited in line:
            break
    time.sleep(1 if moment == "starting" else 0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted; run the same command again to resume" in err
    assert "Traceback" not in err
    if moment == "training":
        assert "stopping after this step" in err


@pytest.mark.parametrize(
    ("stop", "code", "said"),
    [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated (SIGTERM)")],
    ids=["Ctrl-C", "a scheduler's SIGTERM"],
)
def test_interrupting_prediction_keeps_the_images_finished(
    training_data, tmp_path, stop, code, said
):
    """Ctrl-C, or the SIGTERM a cluster's scheduler sends first (Slurm: 30 s before
    SIGKILL), which ended it with exit code 143 and not a word: held back until the image
    is done, said, and the finished images kept."""
    import signal
    import time

    images = tmp_path / "images"
    images.mkdir()
    for copy in range(12):  # enough that it cannot finish before the interruption
        for path in sorted((training_data / "images").glob("*.png")):
            (images / f"{copy:02d}_{path.name}").write_bytes(path.read_bytes())
    command = [
        str(Path(sys.executable).parent / "cellseg"), "predict", "default", str(images),
        "--output", str(tmp_path / "out"),
    ]  # fmt: skip
    process = started_as_at_a_terminal(command)
    while not list((tmp_path / "out").glob("*_cells.csv")) and process.poll() is None:
        time.sleep(0.05)  # until the first image is finished (its cells are written last)
    process.send_signal(getattr(signal, stop))
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert "stopping after this image or slide region" in err  # it was held back
    assert f"{said}; run the same command again: the images already finished" in err
    assert "Traceback" not in err
    finished = sorted((tmp_path / "out").glob("*_cells.csv"))
    assert 0 < len(finished) < 48
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert len(list((tmp_path / "out").glob("*_cells.csv"))) == 48
    done = f"{len(finished)} image{'' if len(finished) == 1 else 's'} already predicted"
    assert done in again.stdout + again.stderr


def test_evaluate_says_when_the_images_are_the_models_own(cellseg, train_command, training_data):
    trained = train_command("--name", "own")
    assert trained.code == 0, trained.err
    folder = Path(trained.out.split("saving in ")[1].split()[0])
    result = cellseg(
        "evaluate", folder, "--images", training_data / "images",
        "--annotations", training_data / "outlines", "--output", folder.parent / "s.csv",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "4 of these 4 images are the model's own (3 it was trained on, 1 it was" in result.err


def test_export_shows_no_warning_meant_for_developers(small_model, tmp_path):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cellseg"), "export", str(small_model),
         "--output", str(tmp_path / "site")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "np.object" not in result.stderr


def test_the_example_files_are_installed_and_written_out(cellseg, tmp_path):
    from cellseg.neural_network.user_files import load_hyperparameters_file

    result = cellseg("examples", tmp_path / "mine")
    assert result.code == 0, result.err
    shipped = Path(__file__).resolve().parents[2] / "scripts" / "examples"
    for name in ("dice_loss.py", "small_unet.py", "hyperparameters.py", "overnight_runs.txt"):
        assert (tmp_path / "mine" / name).read_bytes() == (shipped / name).read_bytes()
    assert load_hyperparameters_file(tmp_path / "mine" / "hyperparameters.py").epochs > 0
    assert "4 example files" in result.out


def test_overlay_outlines_take_a_width_and_colour_and_show_positivity(cellseg, tmp_path):
    import numpy as np

    from cellseg.image_io import read_image
    from cellseg.postprocessing.drawing import NEGATIVE_COLOUR, POSITIVE_COLOUR

    def outline_pixels(folder, colour):
        overlay = read_image(folder / "tissue_overlay.png")
        return int(np.all(overlay == colour, axis=-1).sum())

    thin = cellseg("demo", "--output", tmp_path / "thin", "--outline-width", "1")
    wide = cellseg(
        "demo", "--output", tmp_path / "wide", "--outline-width", "3",
        "--outline-colour", "#00ff00",
    )  # fmt: skip
    assert thin.code == 0 and wide.code == 0, (thin.err, wide.err)
    # The demo counts DAB-positive cells: drawn in QuPath's two class colours.
    for folder in (tmp_path / "thin", tmp_path / "wide"):
        assert outline_pixels(folder, POSITIVE_COLOUR) > 0
        assert outline_pixels(folder, NEGATIVE_COLOUR) > 0
    assert outline_pixels(tmp_path / "wide", POSITIVE_COLOUR) > 2 * outline_pixels(
        tmp_path / "thin", POSITIVE_COLOUR
    )
    # The annotation layer stays one pixel wide, whatever the overlay.
    assert (
        read_image(tmp_path / "wide" / "tissue_outlines.png")
        == read_image(tmp_path / "thin" / "tissue_outlines.png")
    ).all()
    bad = cellseg("demo", "--output", tmp_path / "bad", "--outline-colour", "teal")
    assert bad.code == 2 and "#rrggbb" in bad.err
