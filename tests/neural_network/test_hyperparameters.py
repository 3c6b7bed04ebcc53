"""Hyperparameters: each is defined once, by its field of `Hyperparameters`; the README's
table, the example file and ``cellseg train --help`` follow it, and every value that would
fail later is refused when the file is read."""

import ast
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from cellseg.neural_network.hyperparameter_checks import hyperparameters_from_names
from cellseg.neural_network.hyperparameters import Hyperparameters

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scripts" / "examples" / "hyperparameters.py"

#: The four names every file must set, with small valid values.
REQUIRED = {"BATCH_SIZE": 2, "EPOCHS": 1, "LEARNING_RATE": 1e-3, "VALIDATION_SPLIT": 0.25}


def literal(text: str):
    """A default as written in the README or a comment: a Python literal, or a bare word."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def readme_table() -> dict[str, dict]:
    """The README's table of hyperparameters: name -> required, default, value when
    fine-tuning (``--from``) and meaning."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index("| hyperparameter | default | with `--from` | meaning |")
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = (cell.strip() for cell in line.strip().strip("|").split("|"))
        name, default, fine_tuning, meaning = cells
        rows[name.split("`")[1]] = {
            "required": name.endswith("(required)"),
            "default": literal(default.strip("`")),
            "fine_tuning": literal(fine_tuning.strip("`")),
            "meaning": meaning.replace("`", ""),
        }
    return rows


def example_defaults() -> dict[str, object]:
    """Each name the example file assigns -> the default its comment gives in parentheses."""
    defaults = {}
    for line in EXAMPLE.read_text().splitlines():
        if not re.match(r"[A-Z_]+ = ", line):
            continue
        name, comment = line.split(" = ")[0], line.partition("#")[2]
        found = re.search(r"\(([^()]*)\)\s*$", comment)
        defaults[name] = literal(found.group(1)) if found else "no default in parentheses"
    return defaults


def test_every_field_is_defined_once():
    from dataclasses import fields

    from cellseg.neural_network.hyperparameters import DEFINITIONS

    assert [definition.attribute for definition in DEFINITIONS] == [
        field.name for field in fields(Hyperparameters)
    ]
    names = [definition.name for definition in DEFINITIONS]
    assert len(set(names)) == len(names) and all(name.isupper() for name in names)
    for definition in DEFINITIONS:
        assert definition.name == definition.attribute.upper()
        assert definition.description and "\n" not in definition.description
        assert "|" not in definition.description  # it starts a README table cell
    # The defaults pass their own checks, read back as they are.
    defaults = {definition.name: definition.default for definition in DEFINITIONS}
    assert hyperparameters_from_names(defaults) == (Hyperparameters(), [])


def test_readme_table_has_one_row_per_hyperparameter_with_its_default():
    from cellseg.neural_network.hyperparameters import DEFINITIONS

    table = readme_table()
    assert list(table) == [definition.name for definition in DEFINITIONS]
    for definition in DEFINITIONS:
        row = table[definition.name]
        assert row["default"] == definition.default, definition.name
        assert row["required"] == definition.required, definition.name
        assert row["fine_tuning"] == definition.fine_tuning, definition.name  # or PARENT
        # The README may explain more, after the one line the code gives.
        assert row["meaning"].startswith(definition.description), definition.name


def test_example_file_names_every_hyperparameter_with_its_default():
    from cellseg.neural_network.hyperparameters import DEFINITIONS
    from cellseg.neural_network.user_files import load_hyperparameters_file

    defaults = example_defaults()
    assert list(defaults) == [definition.name for definition in DEFINITIONS]
    for definition in DEFINITIONS:
        assert defaults[definition.name] == definition.default, definition.name
    load_hyperparameters_file(EXAMPLE)  # and it is valid


def test_train_help_lists_every_hyperparameter():
    from cellseg.commands.train import build_parser
    from cellseg.neural_network.hyperparameters import DEFINITIONS

    listed = build_parser().epilog.replace(",", " ").replace(".", " ").split()
    assert {definition.name for definition in DEFINITIONS} <= set(listed)


def test_configs_of_existing_models_keep_loading():
    """A model folder's config stores ``to_dict()``; older ones lack the newer names."""
    config = json.loads((ROOT / "trained_models" / "default" / "config.json").read_text())
    stored = config["training"]["hyperparameters"]
    loaded = Hyperparameters.from_dict({**stored, "a_name_since_removed": 1})
    assert loaded.base_filters == 8 and loaded.steps_per_epoch == 120
    assert loaded.crowded == Hyperparameters().crowded  # newer than the model: its default
    assert Hyperparameters.from_dict(loaded.to_dict()) == loaded


REFUSED = {
    "NaN learning rate": ({"LEARNING_RATE": math.nan}, "LEARNING_RATE must be a finite number"),
    "infinite zoom": ({"ZOOM": math.inf}, "ZOOM must be a finite number, not inf"),
    "minus infinite stain": ({"STAIN": -math.inf}, "STAIN must be a finite number, not -inf"),
    "NaN validation split": ({"VALIDATION_SPLIT": np.float32("nan")}, "must be a finite number"),
    "learning rate too large for a float": (
        {"LEARNING_RATE": 10**400},
        "LEARNING_RATE must be between",
    ),
    "misspelled steps per epoch": (
        {"STEP_PER_EPOCH": 10},
        "STEP_PER_EPOCH is not a hyperparameter; did you mean STEPS_PER_EPOCH?",
    ),
    "misspelled depth": ({"DEPHT": 3}, "DEPHT is not a hyperparameter; did you mean DEPTH?"),
    "unknown name": ({"WARM_RESTARTS": 3}, "WARM_RESTARTS is not a hyperparameter"),
    "tile not a multiple of 2**DEPTH": (
        {"TILE_SIZE": 100},
        "TILE_SIZE must be a multiple of 2**DEPTH = 16",
    ),
    "tile too small for a deep U-Net": (
        {"TILE_SIZE": 64, "DEPTH": 7},
        "TILE_SIZE must be a multiple of 2**DEPTH = 128",
    ),
    "absurd batch size": ({"BATCH_SIZE": 10**9}, "BATCH_SIZE must be between 1 and 1024"),
    "absurd epochs": ({"EPOCHS": 10**30}, "EPOCHS must be between 1 and"),
    "absurd steps per epoch": ({"STEPS_PER_EPOCH": 10**30}, "STEPS_PER_EPOCH must be between"),
    "U-Net too wide at its deepest level": (
        {"BASE_FILTERS": 512, "DEPTH": 8, "TILE_SIZE": 256},
        "BASE_FILTERS × 2**DEPTH",
    ),
    "zoomed-out tiles cut from a huge window": (
        {"TILE_SIZE": 4096, "ZOOM": 3.0, "AUGMENTATION": 10.0},
        "TILE_SIZE × (1 + ZOOM × AUGMENTATION)",
    ),
    "a true batch size": ({"BATCH_SIZE": True}, "BATCH_SIZE must be a whole number, not True"),
    "a list of tile sizes": ({"TILE_SIZE": [256]}, "TILE_SIZE must be a whole number, not [256]"),
    "no steps for epochs": ({"EPOCHS": None}, "EPOCHS must be a whole number, not None"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_hostile_values_are_refused(case):
    names, expected = REFUSED[case]
    _, problems = hyperparameters_from_names({**REQUIRED, **names})
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_every_problem_is_listed():
    names = {**REQUIRED, "LEARNING_RATE": math.nan, "DEPHT": 2, "TILE_SIZE": 100}
    _, problems = hyperparameters_from_names(names)
    assert len(problems) == 3, problems


ACCEPTED = {
    "numpy whole number": ({"BATCH_SIZE": np.int64(4)}, "batch_size", 4),
    "numpy number": ({"LEARNING_RATE": np.float32(0.5)}, "learning_rate", 0.5),
    "steps per epoch left to the data": ({"STEPS_PER_EPOCH": None}, "steps_per_epoch", None),
    "a private helper name": ({"_TILE": 3, "TILE_SIZE": 96, "DEPTH": 5}, "tile_size", 96),
}


@pytest.mark.parametrize("case", ACCEPTED, ids=list(ACCEPTED))
def test_values_that_train_are_accepted(case):
    names, attribute, expected = ACCEPTED[case]
    hyperparameters, problems = hyperparameters_from_names({**REQUIRED, **names})
    assert problems == []
    value = getattr(hyperparameters, attribute)
    assert value == expected and type(value) is type(expected)
