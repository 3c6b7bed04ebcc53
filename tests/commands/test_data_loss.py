"""Nothing a user has is lost: no command writes over the folders it reads, `export` replaces
only a site it made, and an interrupted training never locks its model's name."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from train_command import train_arguments

from cellseg.image_io import write_image
from cellseg.neural_network.model_config import ModelConfig
from cellseg.neural_network.model_folder import ModelFolder


def assert_refused(result, named):
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    lines = [line for line in result.error_lines if ": error: " in line]
    assert len(lines) == 1, result.err
    assert str(named) in lines[0]


def test_labels_never_writes_into_the_images_it_checks(cellseg, training_data, tmp_path):
    example = tmp_path / "example"
    for kind in ("images", "outlines"):
        (example / kind).mkdir(parents=True)
        for path in (training_data / kind).iterdir():
            (example / kind / path.name).write_bytes(path.read_bytes())
    before = {path.name: path.read_bytes() for path in (example / "images").iterdir()}
    for output in (example / "images", example / "images" / "labels"):
        result = cellseg(
            "labels", example / "outlines", output, "--images", example / "images", "--overwrite"
        )
        assert_refused(result, output)
        assert "input folder" in result.err
    after = {path.name: path.read_bytes() for path in (example / "images").iterdir()}
    assert after == before


@pytest.mark.parametrize("command", ["predict", "demo"])
def test_results_never_go_into_the_model_folder(cellseg, small_model, tmp_path, command):
    model = tmp_path / "model"
    model.mkdir()
    for path in small_model.iterdir():
        (model / path.name).write_bytes(path.read_bytes())
    write_image(tmp_path / "a.png", np.zeros((32, 32, 3), np.uint8))
    arguments = {
        "predict": ("predict", model, tmp_path / "a.png", "--output", model),
        "demo": ("demo", "--model", model, "--output", model, "--overwrite"),
    }[command]
    result = cellseg(*arguments)
    assert_refused(result, model)
    assert sorted(path.name for path in model.iterdir()) == ["best.keras", "config.json"]


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_tables_and_reports_never_go_into_the_annotated_folders(
    cellseg, small_model, training_data, tmp_path, command
):
    images = tmp_path / "images"
    images.mkdir()
    for path in (training_data / "images").iterdir():
        (images / path.name).write_bytes(path.read_bytes())
    target = images / ("scores.csv" if command == "evaluate" else "report.html")
    result = cellseg(
        command,
        small_model,
        "--images",
        images,
        "--annotations",
        training_data / "outlines",
        "--output",
        target,
    )
    assert_refused(result, images)
    assert not target.exists()


def test_training_never_puts_its_model_inside_the_images(cellseg, training_data, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for path in (training_data / "images").iterdir():
        (images / path.name).write_bytes(path.read_bytes())
    result = cellseg(
        "train",
        "--images",
        images,
        "--annotations",
        training_data / "outlines",
        "--name",
        "inside",
        "--models-dir",
        images,
    )
    assert_refused(result, images)
    assert sorted(path.name for path in images.iterdir()) == sorted(
        path.name for path in (training_data / "images").iterdir()
    )


@pytest.fixture(scope="module")
def exported(small_model, tmp_path_factory):
    """A site exported once, to copy: exporting converts the network (seconds)."""
    from cellseg.cli import main

    site = tmp_path_factory.mktemp("exported") / "site"
    assert main(["export", str(small_model), "--output", str(site)]) == 0
    return site


def test_export_overwrite_never_empties_a_folder_of_other_files(cellseg, small_model, tmp_path):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "thesis.tex").write_text("five years of work")
    write_image(thesis / "figure.png", np.zeros((8, 8, 3), np.uint8))
    result = cellseg("export", small_model, "--output", thesis, "--overwrite")
    assert_refused(result, thesis)
    assert "not a site made by cellseg export" in result.err
    assert sorted(path.name for path in thesis.iterdir()) == ["figure.png", "thesis.tex"]
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


@pytest.mark.parametrize("where", [".", "..", "home"])
def test_export_refuses_the_working_folder_its_parents_and_home(
    cellseg, small_model, tmp_path, monkeypatch, where
):
    working = tmp_path / "work"
    working.mkdir()
    (working / "data.txt").write_text("keep me")
    monkeypatch.chdir(working)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    output = tmp_path / "home" if where == "home" else Path(where)
    result = cellseg("export", small_model, "--output", output, "--overwrite")
    assert_refused(result, output)
    assert (working / "data.txt").read_text() == "keep me"


def test_export_overwrite_replaces_only_the_sites_own_files(
    cellseg, small_model, exported, tmp_path
):
    site = tmp_path / "site"
    subprocess.run(["cp", "-r", str(exported), str(site)], check=True)
    (site / "notes.txt").write_text("the lab's notes")
    (site / "app.js").write_text("// stale page of an older export")
    old_manifest = json.loads((site / "cellseg-site.json").read_text())
    old_manifest["files"].append("gone.js")  # a file an older cellseg shipped
    (site / "cellseg-site.json").write_text(json.dumps(old_manifest))
    (site / "gone.js").write_text("// dropped since")
    result = cellseg("export", small_model, "--output", site, "--overwrite")
    assert result.code == 0, result.err
    assert (site / "notes.txt").read_text() == "the lab's notes"
    assert "stale" not in (site / "app.js").read_text()
    assert not (site / "gone.js").exists()
    assert (site / "model.onnx").is_file() and (site / "index.html").is_file()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_a_killed_exports_staging_folder_is_removed_by_the_next(cellseg, small_model, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs, as a killed export's
    staging = tmp_path / f".cellseg-export-{dead.pid}-abc123"
    (staging / "site").mkdir(parents=True)
    (staging / "model.onnx").write_bytes(b"half a model")
    assert cellseg("export", small_model, "--output", tmp_path / "site").code == 0
    assert not staging.exists()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_a_run_stopped_by_a_bad_annotation_can_be_run_again(
    cellseg, train_command, training_data, tmp_path
):
    annotations = tmp_path / "outlines"
    annotations.mkdir()
    for path in (training_data / "outlines").iterdir():
        (annotations / path.name).write_bytes(path.read_bytes())
    first = sorted(annotations.iterdir())[0]
    good = first.read_bytes()
    write_image(first, np.full((96, 96, 4), 255, np.uint8), overwrite=True)  # opaque, no red
    result = train_command("--name", "lab", "--annotations", annotations)
    assert_refused(result, first)
    folder = ModelFolder(tmp_path / "models" / "lab")
    # Refused before anything is written: no run the leaderboard would list as stopped.
    assert not folder.path.exists()
    first.write_bytes(good)
    assert train_command("--name", "lab", "--annotations", annotations).code == 0
    assert folder.read_config().status == "finished"
    board = cellseg("leaderboard", "--models-dir", tmp_path / "models").out.splitlines()
    assert "finished" in next(line for line in board if " lab " in line)
    assert not (folder.path / ".stopped").exists()


def test_restart_replaces_a_run_stopped_before_its_first_epoch(train_command, tmp_path):
    folder = ModelFolder(tmp_path / "models" / "lab")
    folder.create(ModelConfig(name="lab", status="training", training={}))
    (folder.cache).mkdir()
    assert train_command("--name", "lab", "--restart").code == 0
    assert folder.read_config().status == "finished"


def test_the_folder_an_earlier_version_left_without_a_config_is_taken_over(train_command, tmp_path):
    leftover = tmp_path / "models" / "lab" / "cache"
    leftover.mkdir(parents=True)  # what a kill during preparation left before this fix
    (leftover / "a-0123.tif").write_bytes(b"half")
    assert train_command("--name", "lab").code == 0
    assert ModelFolder(tmp_path / "models" / "lab").read_config().status == "finished"


def test_a_foreign_folder_of_that_name_is_never_deleted(train_command, tmp_path):
    foreign = tmp_path / "models" / "lab"
    foreign.mkdir(parents=True)
    (foreign / "thesis.tex").write_text("mine")
    for extra in ((), ("--restart",)):
        result = train_command("--name", "lab", *extra)
        assert result.code == 1 and "Traceback" not in result.err
        assert str(foreign) in result.err
    assert (foreign / "thesis.tex").read_text() == "mine"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("delay", [0.0, 0.5])
def test_a_run_killed_while_preparing_its_data_finishes_when_run_again(
    training_data, tiny_hyperparameters, tmp_path, delay
):
    command = [
        str(Path(sys.executable).parent / "cellseg"),
        *train_arguments(training_data, "lab", tiny_hyperparameters, tmp_path / "models"),
    ]
    folder = ModelFolder(tmp_path / "models" / "lab")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if folder.path.exists():
                break
            time.sleep(0.01)
        time.sleep(delay)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert folder.path.exists() and folder.config_path.is_file()
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert folder.read_config().status == "finished"


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_a_table_or_report_into_a_new_folder_makes_it_and_one_that_cannot_be_made_stops_first(
    cellseg, small_model, training_data, tmp_path, command
):
    name = "scores.csv" if command == "evaluate" else "report.html"
    arguments = [command, small_model, "--images", training_data / "images"]
    arguments += ["--annotations", training_data / "outlines"]
    target = tmp_path / "new" / "deeper" / name
    result = cellseg(*arguments, "--output", target)
    assert result.code == 0, result.err
    assert target.is_file()
    (tmp_path / "file").write_text("a file where a folder should be")
    blocked = cellseg(*arguments, "--output", tmp_path / "file" / name)
    assert blocked.code == 1 and len(blocked.error_lines) == 1, blocked.err
    assert f"{tmp_path / 'file'}: cannot make the folder" in blocked.err
    assert not blocked.out  # stopped before scoring a single image


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_a_folder_as_output_gets_the_table_or_report_inside(
    cellseg, small_model, training_data, tmp_path, command
):
    """``--output results/`` wrote a file named ``results``; into an existing folder, it
    failed. Both now hold the file of its default name."""
    arguments = [command, small_model, "--images", training_data / "images"]
    arguments += ["--annotations", training_data / "outlines"]
    model = small_model.name
    name = f"evaluation_{model}.csv" if command == "evaluate" else f"report_{model}.html"
    (tmp_path / "there").mkdir()
    for given in (f"{tmp_path / 'new'}/", tmp_path / "there"):
        result = cellseg(*arguments, "--output", given)
        assert result.code == 0, result.err
        assert (Path(given) / name).is_file()


def test_a_model_folder_is_as_open_as_any_folder_the_user_makes(tmp_path):
    """A lab shares its models on one server: a model folder gets mkdir's permissions
    (the umask's), not the private ones of a temporary folder it was filled in."""
    folder = ModelFolder(tmp_path / "models" / "lab")
    folder.create(ModelConfig(name="lab", status="training", training={}))
    (tmp_path / "plain").mkdir()
    assert (tmp_path / "plain").stat().st_mode & 0o077  # others may read, as umasks give
    assert folder.path.stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777
