"""Users' own files: every broken file is one line naming it, exit 1, nothing written."""

import pytest
from train_command import refused_before_training

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
        "BATCH_SIZE must be between 1 and 1024, not -2",
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
    "hyperparameters calling sys.exit": (
        "--hyperparameters",
        "import sys\n\nsys.exit(3)\n",
        "hyperparameters file called sys.exit(3) when imported",
    ),
    "architecture raising a BaseException": (
        "--architecture",
        "class Stop(BaseException):\n    pass\n\n\nraise Stop('halt')\n",
        "architecture file raised Stop when imported: halt",
    ),
    "get_model calling sys.exit": (
        "--architecture",
        "import sys\n\n\ndef get_model(input_shape):\n    sys.exit('no GPU')\n",
        "line 5: get_model((64, 64, 3)) called sys.exit('no GPU')",
    ),
    "NaN learning rate": (
        "--hyperparameters",
        lambda tiny: tiny.replace("LEARNING_RATE = 1e-3", "LEARNING_RATE = float('nan')"),
        "LEARNING_RATE must be a finite number, not nan",
    ),
    "misspelled name": (
        "--hyperparameters",
        lambda tiny: tiny.replace("DEPTH", "DEPHT"),
        "DEPHT is not a hyperparameter; did you mean DEPTH?",
    ),
    "tile size not a multiple of 2**DEPTH": (
        "--hyperparameters",
        lambda tiny: tiny.replace("TILE_SIZE = 64", "TILE_SIZE = 66"),
        "TILE_SIZE must be a multiple of 2**DEPTH = 4",
    ),
    "absurd batch size": (
        "--hyperparameters",
        lambda tiny: tiny.replace("BATCH_SIZE = 2", "BATCH_SIZE = 10**9"),
        "BATCH_SIZE must be between 1 and 1024, not 1000000000",
    ),
    "loss raising when called": (
        "--loss",
        "def custom_loss(y_true, y_pred):\n    raise NotImplementedError('to do')\n",
        "custom_loss(y_true, y_pred) on tensors of shape (2, 16, 16, 3) raised "
        "NotImplementedError: to do",
    ),
    "metric raising when called": (
        "--loss",
        "import keras\n\n\ndef custom_loss(y_true, y_pred):\n"
        "    return keras.ops.mean((y_true - y_pred) ** 2)\n\n\n"
        "def custom_metric(y_true, y_pred):\n    return tf.reduce_mean(y_pred)\n",
        "custom_metric(y_true, y_pred) on tensors of shape (2, 16, 16, 3) raised NameError",
    ),
    "subclassed model": (
        "--architecture",
        ARCHITECTURE_HEAD + "class Net(keras.Model):\n    def __init__(self):\n"
        "        super().__init__()\n        self.conv = layers.Conv2D(3, 1)\n\n"
        "    def call(self, x):\n        return self.conv(x)\n\n\n"
        "def get_model(input_shape):\n    return Net()\n",
        "get_model must return a functional model, keras.Model(inputs, outputs), not the "
        "subclassed Net",
    ),
    "model with a Lambda layer": (
        "--architecture",
        ARCHITECTURE_HEAD + "def get_model(input_shape):\n    inputs = keras.Input(input_shape)\n"
        "    x = layers.Lambda(lambda x: x / 255, name='scale')(inputs)\n"
        "    return keras.Model(inputs, layers.Conv2D(3, 1, activation='softmax')(x))\n",
        "the model's layer 'scale' is a Lambda layer",
    ),
    "model with an unregistered custom layer": (
        "--architecture",
        ARCHITECTURE_HEAD + "class Halve(layers.Layer):\n    def call(self, x):\n"
        "        return x / 2\n\n\ndef get_model(input_shape):\n"
        "    inputs = keras.Input(input_shape)\n    x = Halve(name='halve')(inputs)\n"
        "    return keras.Model(inputs, layers.Conv2D(3, 1, activation='softmax')(x))\n",
        "the model's layer 'halve' is of the custom class Halve, which is not registered",
    ),
}


@pytest.mark.parametrize("case", BROKEN_FILES, ids=list(BROKEN_FILES))
def test_broken_user_file(train_command, tmp_path, tiny_hyperparameters, case):
    option, content, expected = BROKEN_FILES[case]
    # Hyperparameters given as a function change the fixture's tiny ones.
    line = refused_before_training(train_command, tmp_path, tiny_hyperparameters, option, content)
    assert expected in line


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


def test_loss_is_tried_on_the_targets_shape(tmp_path):
    """A loss written for three classes fails on the one channel of --target mask."""
    from cellseg.errors import CellsegError
    from cellseg.neural_network.user_files import load_loss_file

    path = tmp_path / "interior.py"
    path.write_text(
        "import keras\n\n\ndef custom_loss(y_true, y_pred):\n"
        "    return keras.ops.mean((y_true[..., 1] - y_pred[..., 1]) ** 2)\n"
    )
    assert load_loss_file(path, target="3class").loss is not None
    assert load_loss_file(path).loss is not None  # works for some target: left to training
    with pytest.raises(CellsegError) as refused:
        load_loss_file(path, target="mask")
    message = str(refused.value)
    assert message.startswith(f"{path}, line 5: custom_loss(y_true, y_pred) on tensors of shape ")
    assert "(2, 16, 16, 1) raised" in message and "\n" not in message


def test_loss_returning_nothing(tmp_path):
    from cellseg.errors import CellsegError
    from cellseg.neural_network.user_files import load_loss_file

    path = tmp_path / "forgot.py"
    path.write_text("def custom_loss(y_true, y_pred):\n    y_true - y_pred\n")
    with pytest.raises(CellsegError, match="custom_loss returned None, not a number or tensor"):
        load_loss_file(path, target="3class")


def test_keyboard_interrupt_while_importing_stops_cellseg(tmp_path):
    from cellseg.neural_network.user_files import load_python_file

    path = tmp_path / "slow.py"
    path.write_text("raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        load_python_file(path, role="architecture")


REGISTERED_LAYER = (
    ARCHITECTURE_HEAD + "@keras.saving.register_keras_serializable(package='test_user_files')\n"
    "class Scale(layers.Layer):\n"
    "    def __init__(self, factor, **kwargs):\n"
    "        super().__init__(**kwargs)\n"
    "        self.factor = factor\n\n"
    "    def call(self, x):\n"
    "        return x * self.factor\n\n"
    "    def get_config(self):\n"
    "        return {**super().get_config(), CONFIG}\n\n\n"
    "def get_model(input_shape):\n"
    "    inputs = keras.Input(input_shape)\n"
    "    x = Scale(0.5, name='scale')(inputs)\n"
    "    return keras.Model(inputs, layers.Conv2D(3, 1, activation='softmax')(x))\n"
)


def test_registered_custom_layer_is_accepted(tmp_path):
    from cellseg.neural_network.user_files import build_user_model, load_architecture_file

    path = tmp_path / "scaled.py"
    path.write_text(REGISTERED_LAYER.replace("CONFIG", "'factor': self.factor"))
    model = build_user_model(load_architecture_file(path), path, (32, 32, 3), "3class")
    assert model.get_layer("scale").factor == 0.5


def test_custom_layer_that_does_not_load_back(tmp_path):
    """Registered, but its configuration lacks an argument: saving works, loading fails."""
    from cellseg.errors import CellsegError
    from cellseg.neural_network.user_files import build_user_model, load_architecture_file

    path = tmp_path / "forgetful.py"
    path.write_text(REGISTERED_LAYER.replace("CONFIG", "'note': 'factor forgotten'"))
    get_model = load_architecture_file(path)
    with pytest.raises(CellsegError) as refused:
        build_user_model(get_model, path, (32, 32, 3), "3class")
    message = str(refused.value)
    assert message.startswith(f"{path}: the model cannot be saved and loaded back")
    assert "factor" in message and "\n" not in message
