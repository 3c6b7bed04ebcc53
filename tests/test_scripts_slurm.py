"""scripts/predict_slurm.sh: each task of any Slurm job array takes its own share, once."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fake_commands import fake_command, recorded_calls

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "predict_slurm.sh"
ARRAY_VARIABLES = (
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_STEP",
)

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


@pytest.fixture
def run_task(tmp_path):
    """Run the script as one task with the given Slurm variables, a fake `cellseg` on PATH
    that records its arguments; returns (result, the arguments cellseg got or None)."""
    bin_folder = tmp_path / "bin"
    calls = fake_command(bin_folder, "cellseg")

    def run(**variables):
        calls.unlink(missing_ok=True)
        environment = {k: v for k, v in os.environ.items() if k not in ARRAY_VARIABLES}
        environment.update({name: str(value) for name, value in variables.items()})
        environment["PATH"] = f"{bin_folder}{os.pathsep}{environment['PATH']}"
        result = subprocess.run(
            ["bash", str(SCRIPT), "default", "slides", "results", "--tile", "512"],
            capture_output=True,
            text=True,
            env=environment,
            cwd=tmp_path,
        )
        arguments = (recorded_calls(calls) or [None])[-1]
        return result, arguments

    return run


def array_tasks(spec: str) -> list[int]:
    """The task IDs of ``sbatch --array=FIRST-LAST[:STEP]``."""
    span, _, step = spec.partition(":")
    first, last = map(int, span.split("-"))
    return list(range(first, last + 1, int(step or 1)))


@pytest.mark.parametrize("spec", ["1-4", "0-9", "1-20:2", "5-5", "3-12:3", "0-6:4"])
def test_every_task_takes_its_own_share(run_task, spec):
    tasks = array_tasks(spec)
    step = int(spec.partition(":")[2] or 1)
    shards = []
    for task in tasks:
        result, arguments = run_task(
            SLURM_ARRAY_TASK_ID=task,
            SLURM_ARRAY_TASK_MIN=tasks[0],
            SLURM_ARRAY_TASK_MAX=tasks[-1],
            SLURM_ARRAY_TASK_COUNT=len(tasks),
            SLURM_ARRAY_TASK_STEP=step,
        )
        assert result.returncode == 0, result.stderr
        assert arguments[:4] == ["predict", "default", "slides", "--output"]
        assert arguments[-2:] == ["--tile", "512"]  # the user's options, passed on
        shards.append(arguments[arguments.index("--shard") + 1])
    # Shares 1..N of N, one a task: together they are every image, once.
    assert shards == [f"{share}/{len(tasks)}" for share in range(1, len(tasks) + 1)]


def test_step_and_max_may_be_missing(run_task):
    """Older Slurm sets no SLURM_ARRAY_TASK_STEP / _MAX: a step of 1 is then the array."""
    result, arguments = run_task(
        SLURM_ARRAY_TASK_ID=7, SLURM_ARRAY_TASK_MIN=5, SLURM_ARRAY_TASK_COUNT=4
    )
    assert result.returncode == 0, result.stderr
    assert arguments[arguments.index("--shard") + 1] == "3/4"


@pytest.mark.parametrize(
    "variables",
    [
        {},  # run by hand, outside Slurm
        {"SLURM_ARRAY_TASK_ID": 2},  # it once predicted with --shard 2/1
        {"SLURM_ARRAY_TASK_ID": 1},  # it once predicted every image, quietly
        {"SLURM_ARRAY_TASK_ID": 1, "SLURM_ARRAY_TASK_COUNT": 2},
    ],
)
def test_outside_a_job_array_it_says_how_to_submit_it(run_task, variables):
    result, arguments = run_task(**variables)
    assert result.returncode == 2
    assert arguments is None  # cellseg never ran
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "not a task of a Slurm job array" in lines[0]
    assert "sbatch --array=" in lines[0] and "--shard" not in lines[0]


@pytest.mark.parametrize(
    "variables",
    [
        # --array=1,5,7: no step gives each task a share of its own
        {"SLURM_ARRAY_TASK_ID": 5, "SLURM_ARRAY_TASK_MAX": 7, "SLURM_ARRAY_TASK_STEP": 1},
        # a task that is not one of the array's
        {"SLURM_ARRAY_TASK_ID": 4, "SLURM_ARRAY_TASK_MAX": 5, "SLURM_ARRAY_TASK_STEP": 2},
        {"SLURM_ARRAY_TASK_ID": "$(touch hacked)", "SLURM_ARRAY_TASK_MAX": 5},
        {"SLURM_ARRAY_TASK_ID": 3, "SLURM_ARRAY_TASK_MAX": 5, "SLURM_ARRAY_TASK_STEP": 0},
    ],
)
def test_an_array_without_even_shares_is_refused(run_task, variables, tmp_path):
    result, arguments = run_task(SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_COUNT=3, **variables)
    assert result.returncode == 2
    assert arguments is None
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not (tmp_path / "hacked").exists()
