"""The benchmark scripts that score a model: a model or image that is not there is named in
one line."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from default_vs_classical import held_out_pairs

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


def test_images_pair_with_their_labels_and_a_missing_one_is_named(tissue_folders, tmp_path):
    images, labels = tissue_folders
    pairs = held_out_pairs(images, labels)
    assert [(image.name, label.parent) for image, label in pairs] == [
        ("tissue1.png", labels),
        ("tissue2.png", labels),
    ]
    (labels / "tissue2.png").unlink()
    with pytest.raises(SystemExit, match=r"labels/tissue2\.png: no such file"):
        held_out_pairs(images, labels)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit, match=r"empty: no \.png images"):
        held_out_pairs(empty, labels)
    with pytest.raises(SystemExit, match="need a labels folder"):
        held_out_pairs(images, None)
