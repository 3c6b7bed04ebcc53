"""ModelConfig: one typed configuration that reads every earlier format and names what is wrong."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from cellseg.errors import CellsegError
from cellseg.neural_network.model_config import FORMAT, ModelConfig, migrate
from cellseg.neural_network.model_folder import ModelFolder
from cellseg.postprocessing.instances import Thresholds

#: The shipped default model's config.json as cellseg 0.1 wrote it (format 1).
DEFAULT_V1 = Path(__file__).resolve().parent / "data" / "default_config_v1.json"


def test_the_default_models_first_configuration_loads_as_it_meant():
    old = json.loads(DEFAULT_V1.read_text())
    config = ModelConfig.from_dict(old)
    assert config.target == old["target"] == "3class"
    assert config.thresholds == Thresholds(**old["postprocessing"])
    assert config.test_time_flips == old["test_time_flips"] == 2
    assert config.divisor == 16 and config.cell_area == old["cell_area"]
    assert config.training["hyperparameters"] == old["settings"]["hyperparameters"]
    assert "target" not in config.training  # said once, at the top
    assert config.training_files == old["settings"]["data"]["files"]
    assert config.class_frequencies == tuple(old["class_frequencies"])


def test_the_shipped_default_is_the_same_configuration_in_the_current_format():
    shipped = ModelFolder(Path(__file__).resolve().parents[2] / "trained_models" / "default")
    assert json.loads(shipped.config_path.read_text())["format"] == FORMAT
    first = ModelConfig.from_dict(json.loads(DEFAULT_V1.read_text()))
    config = shipped.read_config()
    # What changed since: its data folders are where they came from, not a temporary
    # folder; its pixel size is said; its post-processing was tuned again with the cells'
    # confidence and its training images' haematoxylin measured
    # (scripts/default_model/tune.py), the network untouched.
    assert config.training["data"]["images"] == "../shared/datasets/monuseg/train/images"
    assert config.pixel_size == 0.25 and config.calibration.slope > 0
    assert config.thresholds == replace(first.thresholds, min_confidence=0.5)
    assert {"calibration_error", "count_error"} <= set(config.validation)
    assert 0 < config.count_spread < 1
    assert 0 < config.haematoxylin["lowest"] < config.haematoxylin["median"]
    again = config.with_changes(
        training=first.training,
        pixel_size=None,
        thresholds=first.thresholds,
        calibration=first.calibration,
        count_spread=None,
        validation=first.validation,
        haematoxylin=None,
    )
    assert again == first


def test_a_configuration_round_trips():
    config = ModelConfig(
        target="hover",
        name="lab",
        divisor=8,
        test_time_flips=4,
        thresholds=Thresholds(0.4, 0.7, 12, 1.0),
        cell_area=250.0,
        pixel_size=0.5,
        class_frequencies=(0.7, 0.2, 0.1),
        validation={"aji": 0.6},
        parent={"name": "default", "sha256": "0" * 64},
    )
    written = config.to_dict()
    assert written["format"] == FORMAT and written["thresholds"]["min_area"] == 12
    assert ModelConfig.from_dict(json.loads(json.dumps(written))) == config


def test_the_smallest_configuration_is_a_target():
    assert ModelConfig.from_dict({"target": "mask"}) == ModelConfig(target="mask")
    assert migrate({"target": "mask"}) == {"target": "mask", "format": FORMAT}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"target": "nuclei"}, "target 'nuclei' is none of"),
        ({"postprocessing": {"seed": "high"}}, "thresholds.seed must be a number"),
        ({"postprocessing": {"seed": 0.5, "sharpness": 2}}, "unknown threshold 'sharpness'"),
        ({"postprocessing": {"foreground": float("nan")}}, "thresholds.foreground"),
        ({"postprocessing": {"min_area": -3}}, "thresholds.min_area"),
        ({"test_time_flips": 3}, "test_time_flips must be 1, 2 or 4"),
        ({"divisor": 0}, "divisor must be a whole number"),
        ({"divisor": True}, "divisor must be a whole number"),
        ({"cell_area": "big"}, "cell_area must be a number"),
        ({"count_spread": -0.1}, "count_spread must be a number of at least 0"),
        ({"count_spread": "wide"}, "count_spread must be a number of at least 0"),
        ({"haematoxylin": {"lowest": "pale"}}, "haematoxylin must hold numbers"),
        ({"status": "broken"}, "status 'broken'"),
        ({"settings": [1, 2]}, "training must be an object"),
        ({"format": 99}, "format 99 is newer"),
    ],
)
def test_a_bad_key_or_value_is_one_line_naming_the_file_and_the_key(tmp_path, change, named):
    folder = ModelFolder(tmp_path / "model")
    folder.path.mkdir()
    values = {"target": "3class", "postprocessing": {"seed": 0.6}, **change}
    if "postprocessing" in change:
        values["postprocessing"] = change["postprocessing"]
    folder.config_path.write_text(json.dumps(values))
    with pytest.raises(CellsegError) as caught:
        folder.read_config()
    message = str(caught.value)
    assert message.startswith(f"{folder.config_path}: ") and "\n" not in message
    assert named in message


@pytest.mark.parametrize("content", ["[1, 2, 3]", '{"name": "no target"}', "{", ""])
def test_what_is_no_configuration_is_refused(tmp_path, content):
    folder = ModelFolder(tmp_path)
    folder.config_path.write_text(content)
    with pytest.raises(CellsegError, match=r"config\.json"):
        folder.read_config()


def test_a_huge_configuration_is_refused_before_it_is_read(tmp_path):
    folder = ModelFolder(tmp_path)
    with open(folder.config_path, "w") as file:
        file.write('{"target": "3class", "padding": "')
        file.write("x" * (17 * 2**20))
        file.write('"}')
    with pytest.raises(CellsegError, match="larger than"):
        folder.read_config()


def test_a_bad_configuration_is_one_line_from_every_command(cellseg, small_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(small_model, model)
    (model / "config.json").write_text(json.dumps({"target": "3class", "divisor": "four"}))
    (tmp_path / "in").mkdir()
    for command in (
        ("predict", model, tmp_path / "in", "--output", tmp_path / "out"),
        ("export", model, "--output", tmp_path / "site"),
        ("evaluate", model, "--images", tmp_path / "in", "--annotations", tmp_path / "in"),
        ("report", model, "--output", tmp_path / "report.html"),
    ):
        result = cellseg(*command)
        assert result.code == 1 and "Traceback" not in result.err, command
        errors = [line for line in result.error_lines if ": error: " in line]
        assert len(errors) == 1 and "divisor" in errors[0], (command, result.err)
