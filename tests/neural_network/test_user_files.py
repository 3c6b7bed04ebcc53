"""Users' own files: every broken file is one line naming it, exit 1, nothing written."""

import pytest

ARCHITECTURE_HEAD = "import keras\nfrom keras import layers\n\n"
ONE_CHANNEL = (
    ARCHITECTURE_HEAD + "def get_model(input_shape):\n"
    "    inputs = keras.Input(input_shape)\n"
    "    return keras.Model(inputs, layers.Conv2D(1, 3, padding='same', "
    "activation='sigmoid')(inputs))\n"
)

BROKEN_FILES = {
    "architecture without get_model": (
        "--architecture",
        ARCHITECTURE_HEAD + "def build(shape):\n    pass\n",
        "defines no get_model(input_shape)",
    ),
    "architecture with a syntax error": (
        "--architecture",
        "def get_model(input_shape)\n    return None\n",
        "syntax error",
    ),
    "architecture raising at import": (
        "--architecture",
        "import no_such_module_anywhere\n",
        "raised ModuleNotFoundError",
    ),
    "get_model returning no model": (
        "--architecture",
        "def get_model(input_shape):\n    return 'a model'\n",
        "must return a keras.Model",
    ),
    "get_model raising": (
        "--architecture",
        "def get_model(input_shape):\n    raise ValueError('too small')\n",
        "raised ValueError: too small",
    ),
    "one-channel model for three classes": ("--architecture", ONE_CHANNEL, "--target mask"),
    "model changing the size": (
        "--architecture",
        ARCHITECTURE_HEAD + "def get_model(input_shape):\n    inputs = keras.Input(input_shape)\n"
        "    x = layers.MaxPooling2D()(inputs)\n"
        "    return keras.Model(inputs, layers.Conv2D(3, 1, activation='softmax')(x))\n",
        "must keep them",
    ),
    "loss without custom_loss": (
        "--loss",
        "def my_loss(a, b):\n    return a\n",
        "defines no custom_loss(y_true, y_pred)",
    ),
    "loss of one argument": (
        "--loss",
        "def custom_loss(y):\n    return y\n",
        "custom_loss must take 2 arguments",
    ),
    "hyperparameters missing names": (
        "--hyperparameters",
        "BATCH_SIZE = 4\n",
        "EPOCHS is missing; LEARNING_RATE is missing",
    ),
    "negative batch size": (
        "--hyperparameters",
        "BATCH_SIZE = -2\nEPOCHS = 1\nLEARNING_RATE = 0.001\nVALIDATION_SPLIT = 0.2\n",
        "BATCH_SIZE must be >= 1, not -2",
    ),
    "string batch size": (
        "--hyperparameters",
        "BATCH_SIZE = '8'\nEPOCHS = 1\nLEARNING_RATE = 0.001\nVALIDATION_SPLIT = 0.2\n",
        "BATCH_SIZE must be a whole number, not '8'",
    ),
    "three test-time flips": (
        "--hyperparameters",
        "BATCH_SIZE = 8\nEPOCHS = 1\nLEARNING_RATE = 0.001\nVALIDATION_SPLIT = 0.2\n"
        "TEST_TIME_FLIPS = 3\n",
        "TEST_TIME_FLIPS must be one of 1, 2, 4, not 3",
    ),
    "negative separation weight": (
        "--hyperparameters",
        "BATCH_SIZE = 8\nEPOCHS = 1\nLEARNING_RATE = 0.001\nVALIDATION_SPLIT = 0.2\n"
        "SEPARATION_WEIGHT = -1\n",
        "SEPARATION_WEIGHT must be between 0.0 and 1000.0, not -1",
    ),
    "class balance above one": (
        "--hyperparameters",
        "BATCH_SIZE = 8\nEPOCHS = 1\nLEARNING_RATE = 0.001\nVALIDATION_SPLIT = 0.2\n"
        "CLASS_BALANCE = 2\n",
        "CLASS_BALANCE must be between 0.0 and 1.0, not 2",
    ),
    "fractional boundary width": (
        "--hyperparameters",
        "BATCH_SIZE = 8\nEPOCHS = 1\nLEARNING_RATE = 0.001\nVALIDATION_SPLIT = 0.2\n"
        "BOUNDARY_WIDTH = 1.5\n",
        "BOUNDARY_WIDTH must be a whole number, not 1.5",
    ),
    "unknown precision": (
        "--hyperparameters",
        "BATCH_SIZE = 8\nEPOCHS = 1\nLEARNING_RATE = 0.001\nVALIDATION_SPLIT = 0.2\n"
        "PRECISION = 'float16'\n",
        "PRECISION must be one of float32, mixed_bfloat16, mixed_float16, not 'float16'",
    ),
    "precision not a string": (
        "--hyperparameters",
        "BATCH_SIZE = 8\nEPOCHS = 1\nLEARNING_RATE = 0.001\nVALIDATION_SPLIT = 0.2\n"
        "PRECISION = 16\n",
        "PRECISION must be a string, not 16",
    ),
    "hyperparameters raising at import": (
        "--hyperparameters",
        "EPOCHS = 1 / 0\n",
        "raised ZeroDivisionError",
    ),
}


@pytest.mark.parametrize("case", BROKEN_FILES, ids=list(BROKEN_FILES))
def test_broken_user_file(train_command, tmp_path, case):
    option, content, expected = BROKEN_FILES[case]
    path = tmp_path / "user file.py"
    path.write_text(content)
    result = train_command("--name", "broken", option, path)  # the last option given wins
    assert result.code == 1
    assert "Traceback" not in result.err
    assert len(result.error_lines) == 1, result.err
    assert str(path) in result.error_lines[0] and expected in result.error_lines[0]
    assert not (tmp_path / "models" / "broken").exists()


def test_three_class_architecture_for_hover(train_command, tmp_path):
    """--target hover needs the three classes and two centre offsets: 5 channels."""
    path = tmp_path / "three classes.py"
    path.write_text(
        ARCHITECTURE_HEAD + "def get_model(input_shape):\n    inputs = keras.Input(input_shape)\n"
        "    return keras.Model(inputs, layers.Conv2D(3, 1, activation='softmax')(inputs))\n"
    )
    result = train_command("--name", "hover", "--target", "hover", "--architecture", path)
    assert result.code == 1 and "Traceback" not in result.err
    assert len(result.error_lines) == 1, result.err
    line = result.error_lines[0]
    assert str(path) in line and "--target hover needs (batch, rows, columns, 5)" in line
    assert not (tmp_path / "models" / "hover").exists()


def test_missing_user_file(cellseg, training_data, tmp_path):
    missing = tmp_path / "nowhere.py"
    result = cellseg(
        "train",
        "--images",
        training_data / "images",
        "--annotations",
        training_data / "outlines",
        "--name",
        "x",
        "--loss",
        missing,
    )
    assert result.code == 1 and f"{missing}: loss file not found" in result.err


def test_example_hyperparameters_file_names_every_optional_default():
    """scripts/examples/hyperparameters.py is valid, and its optional names are the defaults
    its comments say."""
    from dataclasses import fields
    from pathlib import Path

    from cellseg.neural_network.hyperparameters import _NAMES, Hyperparameters
    from cellseg.neural_network.user_files import load_hyperparameters_file

    example = Path(__file__).resolve().parents[2] / "scripts" / "examples" / "hyperparameters.py"
    assigned = {line.split("=")[0].strip() for line in example.read_text().splitlines()}
    assert set(_NAMES) <= assigned
    loaded = load_hyperparameters_file(example)
    required = {"batch_size", "epochs", "learning_rate", "validation_split", "steps_per_epoch"}
    for field in fields(Hyperparameters):
        if field.name not in required:
            assert getattr(loaded, field.name) == field.default, field.name


def test_train_help_names_every_hyperparameter():
    from cellseg.commands.train import build_parser
    from cellseg.neural_network.hyperparameters import _NAMES

    listed = build_parser().epilog.replace(",", " ").replace(".", " ").split()
    assert set(_NAMES) <= set(listed)
