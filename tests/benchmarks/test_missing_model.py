"""The benchmark scripts that score a model: one that is not there is named in one line."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize(
    "script", ["default_vs_classical.py", "error_sources.py", "stain_robustness.py"]
)
def test_a_missing_model_is_one_line_naming_it(script, tissue_folders, tmp_path):
    images, labels = tissue_folders
    missing = tmp_path / "no-such-model"
    result = subprocess.run(
        [sys.executable, BENCHMARKS / script, "--images", images, "--labels", labels]
        + ["--model", missing],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "no-such-model" in line]
    assert line.startswith(f"{script}: ")
