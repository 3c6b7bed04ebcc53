"""The README's set-up commands are what CI runs, and the scripts it describes work."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

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
    ci = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert ci == ['pip install -e ".[test]" && pytest']
    assert ci[0] in readme_commands()
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
