"""Users' files that load, but would fail or teach nothing in training: refused up front in
one line naming the file (and its line, where the error comes from it)."""

import pytest
from train_command import refused_before_training

from cellseg.errors import CellsegError
from cellseg.neural_network.targets import TARGETS

LAYERS = "import keras\nfrom keras import layers\n\n\n"


def _loss_file(tmp_path, text, name="loss.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _refusal(function, *arguments, **keywords) -> str:
    with pytest.raises(CellsegError) as refused:
        function(*arguments, **keywords)
    message = str(refused.value)
    assert "\n" not in message
    return message


# Each refused before anything is written: (option, file, what the line says).
REFUSED = {
    "loss with NumPy": (
        "--loss",
        "import numpy as np\n\n\ndef custom_loss(y_true, y_pred):\n"
        "    return float(np.mean(np.asarray(y_pred)))\n",
        "line 5: custom_loss raised NotImplementedError in a training step (Cannot convert "
        "a symbolic tf.Tensor",
    ),
    "constant loss": (
        "--loss",
        "def custom_loss(y_true, y_pred):\n    return 1.0\n",
        "custom_loss does not depend on y_pred (no gradients)",
    ),
    "per-pixel difference as loss": (
        "--loss",
        "def custom_loss(y_true, y_pred):\n    return y_pred - y_true\n",
        "custom_loss is no lower for y_pred close to y_true",
    ),
    "metric returning y_pred": (
        "--loss",
        "from keras import ops\n\n\ndef custom_loss(y_true, y_pred):\n"
        "    return ops.mean((y_true - y_pred) ** 2)\n\n\n"
        "def custom_metric(y_true, y_pred):\n    return y_pred\n",
        "custom_metric gives the same value (0.3333) for y_pred close to y_true and far from "
        "it (Keras averages the (2, 16, 16, 3) values it returns)",
    ),
    "3class model without softmax": (
        "--architecture",
        LAYERS + "def get_model(input_shape):\n    inputs = keras.Input(input_shape)\n"
        "    x = layers.Conv2D(8, 3, padding='same', activation='relu')(inputs)\n"
        "    return keras.Model(inputs, layers.Conv2D(3, 1)(x))\n",
        "--target 3class needs class probabilities, from 0 to 1 and summing to 1 (a softmax) "
        "in the model's output channels 0 to 2, but on a test input it ranges from",
    ),
    "lower-case hyperparameter": (
        "--hyperparameters",
        lambda tiny: tiny.replace("TILE_SIZE", "tile_size"),
        "tile_size is not a hyperparameter; did you mean TILE_SIZE?",
    ),
    "warm-up longer than training": (
        "--hyperparameters",
        lambda tiny: tiny + "WARMUP_EPOCHS = 5\n",
        "WARMUP_EPOCHS must be fewer than EPOCHS (the warm-up is the start of training), "
        "not 5 with EPOCHS = 2",
    ),
    "hyperparameters raising": (
        "--hyperparameters",
        "BATCH_SIZE = 2\nraise RuntimeError('boom')\n",
        "line 2: hyperparameters file raised RuntimeError when imported: boom",
    ),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_refused_before_training(train_command, tmp_path, tiny_hyperparameters, case):
    option, content, expected = REFUSED[case]
    line = refused_before_training(train_command, tmp_path, tiny_hyperparameters, option, content)
    assert expected in line


@pytest.mark.parametrize("target", TARGETS)
def test_loss_and_metric_must_compare_y_pred_with_y_true(tmp_path, target):
    """Keras averages whatever a loss returns: y_pred - y_true averages to the same for a
    right and a wrong prediction, of any target, and y_pred alone measures nothing."""
    from cellseg.neural_network.user_files import load_loss_file

    difference = _loss_file(
        tmp_path, "def custom_loss(y_true, y_pred):\n    return y_pred - y_true\n"
    )
    message = _refusal(load_loss_file, difference, target=target)
    assert message.startswith(f"{difference}: custom_loss is no lower for y_pred close")
    metric = _loss_file(
        tmp_path,
        "from keras import ops\n\n\ndef custom_loss(y_true, y_pred):\n"
        "    return ops.mean(ops.abs(y_true - y_pred))\n\n\n"
        "def custom_metric(y_true, y_pred):\n    return ops.mean(y_pred)\n",
        "metric.py",
    )
    message = _refusal(load_loss_file, metric, target=target)
    assert message.startswith(f"{metric}: custom_metric gives the same value")


ACCEPTED_LOSSES = {
    "per pixel, as Keras' own": "keras.losses.categorical_crossentropy(y_true, y_pred)",
    "per sample": "keras.ops.mean(keras.ops.square(y_true - y_pred), axis=(1, 2, 3))",
    "per pixel and channel": "keras.ops.square(y_true - y_pred)",
    "one number": "keras.ops.mean(keras.ops.abs(y_true - y_pred))",
}


@pytest.mark.parametrize("case", ACCEPTED_LOSSES, ids=list(ACCEPTED_LOSSES))
def test_losses_of_any_shape_keras_averages_are_accepted(tmp_path, case):
    from cellseg.neural_network.user_files import load_loss_file

    path = _loss_file(
        tmp_path,
        f"import keras\n\n\ndef custom_loss(y_true, y_pred):\n    return {ACCEPTED_LOSSES[case]}\n",
    )
    assert load_loss_file(path, target="3class").loss is not None


def test_errors_in_a_loss_name_its_line(tmp_path):
    from cellseg.neural_network.user_files import load_loss_file

    path = _loss_file(
        tmp_path, "def custom_loss(y_true, y_pred):\n    x = 1\n    return undefined_name\n"
    )
    message = _refusal(load_loss_file, path, target="3class")
    assert message == (
        f"{path}, line 3: custom_loss(y_true, y_pred) on tensors of shape (2, 16, 16, 3) "
        "raised NameError: name 'undefined_name' is not defined"
    )


def test_get_model_error_shows_the_call_and_its_line(tmp_path):
    from cellseg.neural_network.user_files import build_user_model, load_architecture_file

    path = tmp_path / "raising.py"
    path.write_text("def get_model(input_shape):\n    raise ValueError('too small')\n")
    message = _refusal(build_user_model, load_architecture_file(path), path, (32, 32, 3), "3class")
    assert message == f"{path}, line 2: get_model((32, 32, 3)) raised ValueError: too small"


OUTPUTS = {  # target -> the last layers of a model whose output is not what it needs
    "mask": ("layers.Conv2D(1, 1)(inputs)", "values from 0 to 1 (a sigmoid) in the model's "
             "output channel 0"),
    "hover": (
        "layers.Concatenate()([layers.Conv2D(3, 1, activation='softmax')(inputs), "
        "layers.Conv2D(2, 1, kernel_initializer='ones')(inputs)])",
        "values from -1 to 1 (a tanh) in the model's output channels 3 to 4",
    ),
}  # fmt: skip


@pytest.mark.parametrize("target", OUTPUTS)
def test_output_must_hold_what_the_target_needs(tmp_path, target):
    from cellseg.neural_network.user_files import build_user_model, load_architecture_file

    last_layers, expected = OUTPUTS[target]
    path = tmp_path / "net.py"
    path.write_text(
        LAYERS + "def get_model(input_shape):\n    inputs = keras.Input(input_shape)\n"
        f"    return keras.Model(inputs, {last_layers})\n"
    )
    message = _refusal(build_user_model, load_architecture_file(path), path, (32, 32, 3), target)
    assert message.startswith(f"{path}: --target {target} needs {expected}, but on a test")


def test_a_folder_is_no_hyperparameters_file(tmp_path):
    from cellseg.neural_network.user_files import load_hyperparameters_file

    message = _refusal(load_hyperparameters_file, tmp_path)
    assert (
        message
        == f"{tmp_path}: is a folder, not a hyperparameters file (a Python file ending in .py)"
    )


@pytest.mark.parametrize("name", ["learning_rate", "Learning_Rate"])
def test_hyperparameter_in_another_case(tmp_path, name):
    from cellseg.neural_network.user_files import load_hyperparameters_file

    path = tmp_path / "hp.py"
    path.write_text(f"BATCH_SIZE = 2\nEPOCHS = 2\nVALIDATION_SPLIT = 0.2\n{name} = 1e-3\n_x = 1\n")
    message = _refusal(load_hyperparameters_file, path)
    assert message == (
        f"{path}: LEARNING_RATE is missing; {name} is not a hyperparameter; did you mean "
        "LEARNING_RATE?"
    )


def test_hyperparameter_in_another_case_when_fine_tuning(tmp_path):
    """--from reads the file its own way (the parent's values as defaults): the same hint."""
    from cellseg.neural_network.runs import Parent, run_hyperparameters

    path = tmp_path / "hp.py"
    path.write_text("EPOCHS = 2\nlearning_rate = 1e-5\n")
    message = _refusal(lambda file: run_hyperparameters(file, Parent.load("default")), path)
    assert message == f"{path}: learning_rate is not a hyperparameter; did you mean LEARNING_RATE?"


def test_lower_case_helper_of_a_hyperparameter_set_in_upper_case(tmp_path):
    from cellseg.neural_network.user_files import load_hyperparameters_file

    path = tmp_path / "hp.py"
    path.write_text(
        "BATCH_SIZE = 2\nepochs = 3\nEPOCHS = epochs\nLEARNING_RATE = 1e-3\n"
        "VALIDATION_SPLIT = 0.2\n"
    )
    assert load_hyperparameters_file(path).epochs == 3


def test_fine_tuning_warm_up_is_not_checked_against_a_file_of_one_epoch():
    """Fine-tuning warms up for one epoch unless told otherwise: EPOCHS = 1 stays allowed."""
    from cellseg.neural_network.hyperparameter_checks import hyperparameters_from_names
    from cellseg.neural_network.hyperparameters import Hyperparameters, fine_tuning_hyperparameters

    defaults = fine_tuning_hyperparameters(Hyperparameters())
    assert hyperparameters_from_names({"EPOCHS": 1}, defaults=defaults)[1] == []
    problems = hyperparameters_from_names({"EPOCHS": 3, "WARMUP_EPOCHS": 3}, defaults=defaults)[1]
    assert problems == [
        "WARMUP_EPOCHS must be fewer than EPOCHS (the warm-up is the start of training), not 3 "
        "with EPOCHS = 3"
    ]


def test_loss_failing_only_in_training_is_one_line(train_command, tmp_path):
    """Tried on 16 x 16 tiles, the loss works; on the 64 x 64 training tiles it cannot."""
    path = _loss_file(
        tmp_path,
        "from keras import ops\n\n\ndef custom_loss(y_true, y_pred):\n"
        "    flat = ops.reshape(y_pred - y_true, (2, 16 * 16 * 3))\n"
        "    return ops.mean(flat**2)\n",
    )
    result = train_command("--name", "reshaped", "--loss", path)
    assert result.code == 1 and "Traceback" not in result.err
    assert len(result.error_lines) == 1, result.err
    line = result.error_lines[0].split("error: ", 1)[1]
    assert line.startswith(f"{path}, line 5: custom_loss raised ValueError in a training step")
    assert line.endswith("fix it, then train again with --restart")


def test_layer_failing_only_in_training_is_one_line(cellseg, train_command, tmp_path):
    """A layer whose NumPy runs only with ``training=True`` passes the checks of the
    network before training (built, and called eagerly) and fails in its first compiled
    step: one line naming its line, with no Keras terminal colour codes. The leaderboard
    lists the run as stopped by an error, not as resumable, with the reason below."""
    path = tmp_path / "architecture.py"
    path.write_text(
        LAYERS + "@keras.saving.register_keras_serializable()\n"
        "class Odd(layers.Layer):\n"
        "    def call(self, x, training=None):\n"
        "        if training:\n"
        "            return x * float(x.numpy().std())\n"
        "        return x\n\n\n"
        "def get_model(input_shape):\n    inputs = keras.Input(input_shape)\n"
        "    x = Odd()(layers.Conv2D(8, 3, padding='same')(inputs))\n"
        "    return keras.Model(inputs, layers.Conv2D(3, 1, activation='softmax')(x))\n"
    )
    result = train_command("--name", "odd", "--architecture", path)
    assert result.code == 1 and "Traceback" not in result.err, result.err
    assert len(result.error_lines) == 1, result.err
    line = result.error_lines[0].split("error: ", 1)[1]
    assert line.startswith(
        f"{path}, line 9: the model raised AttributeError in a training step (in Odd.call(): "
        "'SymbolicTensor' object has no attribute 'numpy'); write layers with keras.ops"
    ), line
    assert line.endswith("fix it, then train again with --restart") and "\x1b" not in line
    board = cellseg("leaderboard", "--models-dir", tmp_path / "models").out.splitlines()
    assert "stopped by an error" in next(row for row in board if " odd " in row)
    assert any(row.startswith("cellseg leaderboard: odd was stopped: ") for row in board)
