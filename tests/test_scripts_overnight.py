"""scripts/train_overnight.sh trains into, and skips what is finished in, the models folder
cellseg itself uses, whatever folder it is run from."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fake_commands import fake_command, recorded_calls

from cellseg.neural_network.model_folder import MODELS_ROOT, MODELS_VARIABLE, models_folder

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_overnight.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


@pytest.fixture
def run_batch(tmp_path):
    """Run the script from ``folder`` with a fake `cellseg` on PATH that records each call;
    returns (result, the calls: one list of arguments each)."""
    bin_folder = tmp_path / "bin"
    calls = fake_command(bin_folder, "cellseg")
    runs = tmp_path / "runs.txt"
    runs.write_text("done | --seed 1\nnew | --seed 2\nbare |\n")

    def run(folder: Path, models_variable: str | None = None):
        calls.unlink(missing_ok=True)
        environment = {k: v for k, v in os.environ.items() if k != MODELS_VARIABLE}
        if models_variable is not None:
            environment[MODELS_VARIABLE] = models_variable
        environment["PATH"] = f"{bin_folder}{os.pathsep}{environment['PATH']}"
        result = subprocess.run(
            ["bash", str(SCRIPT), "images", "outlines", str(runs)],
            capture_output=True,
            text=True,
            env=environment,
            cwd=folder,
        )
        return result, recorded_calls(calls)

    return run


def finish(models: Path, name: str) -> None:
    """A finished model as training leaves it, as far as the script looks."""
    (models / name).mkdir(parents=True)
    config = {"name": name, "status": "finished"}
    (models / name / "config.json").write_text(json.dumps(config, indent=2))


def test_run_from_a_subfolder_skips_the_finished_models_above(run_batch, tmp_path):
    """It once trained everything again, into a new trained_models/ in the subfolder."""
    project = tmp_path / "project"
    finish(project / MODELS_ROOT, "done")
    (project / "sub").mkdir()
    result, calls = run_batch(project / "sub")
    assert result.returncode == 0, result.stderr
    assert "== done: already trained, skipped" in result.stdout
    assert "== done: training" not in result.stdout
    trained = [call for call in calls if call[0] == "train"]
    assert [call[call.index("--name") + 1] for call in trained] == ["new", "bare"]
    models = str((project / MODELS_ROOT).resolve())
    for call in [*trained, calls[-1]]:
        assert call[call.index("--models-dir") + 1] == models
    assert calls[-1][0] == "leaderboard"
    assert not (project / "sub" / MODELS_ROOT).exists()


@pytest.mark.parametrize(
    "layout",
    ["above", "here and above", "none", "variable", "relative variable", "symbolic link"],
)
def test_models_folder_is_cellsegs(run_batch, tmp_path, monkeypatch, layout):
    """The script's rule and cellseg's (`models_folder`) give the same folder."""
    project = tmp_path / "project"
    working = project / "a" / "b"
    working.mkdir(parents=True)
    variable = None
    if layout in ("above", "here and above", "variable", "symbolic link"):
        (project / MODELS_ROOT).mkdir()
    if layout == "here and above":
        (working / MODELS_ROOT).mkdir()
    if layout == "variable":
        variable = str(tmp_path / "elsewhere")
    if layout == "relative variable":
        variable = "mine"
    if layout == "symbolic link":  # cellseg walks up the real path, not the link's
        (tmp_path / "outside" / MODELS_ROOT).mkdir(parents=True)
        (tmp_path / "outside" / "link").symlink_to(working)
        working = tmp_path / "outside" / "link"
    monkeypatch.chdir(working)
    if variable is None:
        monkeypatch.delenv(MODELS_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(MODELS_VARIABLE, variable)
    expected = models_folder().resolve()

    result, _ = run_batch(working, variable)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("== models"))
    assert (working / line.removeprefix("== models folder: ")).resolve() == expected
