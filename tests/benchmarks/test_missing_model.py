"""The benchmark scripts that score a model (benchmarks/held_out.py): a model or image that
is not there is named in one line."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from held_out import held_out_pairs, load_model

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize(
    "script",
    [
        "default_vs_classical.py",
        "error_sources.py",
        "low_magnification.py",
        "prediction_views.py",
        "stain_robustness.py",
    ],
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


def test_a_model_loads_as_a_trained_model_or_ends_the_script_naming_it(tmp_path, monkeypatch):
    from cellseg.neural_network.model import TrainedModel

    model = load_model("default")
    assert isinstance(model, TrainedModel) and model.name == "default"
    monkeypatch.setattr(sys, "argv", ["held_out_test.py"])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(SystemExit, match=r"^held_out_test\.py: .*broken/config\.json: unreadable"):
        load_model(broken)


def test_run_as_a_script_it_lists_the_pairs_it_finds(tissue_folders):
    images, labels = tissue_folders
    result = subprocess.run(
        [sys.executable, BENCHMARKS / "held_out.py", "--images", images, "--labels", labels],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines() == [
        f"{images / name}\t{labels / name}" for name in ("tissue1.png", "tissue2.png")
    ] + ["2 image pairs"]
