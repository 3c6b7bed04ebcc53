"""Every script in benchmarks/ answers ``--help`` with its usage, without doing any work.

The scripts run as copies in a temporary folder, where nothing beside the repository
(../shared and its data sets) is within reach, all at once in threads: each starts its own
Python, and one that imported TensorFlow before parsing its arguments would take seconds.
"""

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(path.name for path in BENCHMARKS.glob("*.py"))


@pytest.fixture(scope="module")
def help_results(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Each script's ``--help``, run from a copy of benchmarks/ with no ../shared beside it."""
    copy = tmp_path_factory.mktemp("repository") / "benchmarks"
    shutil.copytree(BENCHMARKS, copy, ignore=shutil.ignore_patterns("__pycache__"))

    def run(name: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, copy / name, "--help"],
            capture_output=True,
            text=True,
            cwd=copy.parent,
            timeout=120,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(SCRIPTS, pool.map(run, SCRIPTS), strict=True))


def test_there_are_scripts_to_check():
    assert "held_out.py" in SCRIPTS and len(SCRIPTS) > 10


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_script_answers_help(script, help_results):
    result = help_results[script]
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {script}"), result.stdout
