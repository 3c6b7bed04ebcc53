"""The ``cellseg train`` arguments the tests share: a model trained on the tests' annotated
images with given hyperparameters, into a given models folder."""


def train_arguments(training_data, name, hyperparameters, models_dir, *options) -> list[str]:
    """``train`` and its arguments (no program name): the images and red-outline layers
    of ``training_data``, the model ``name``, then ``options``."""
    return [
        "train",
        "--images",
        str(training_data / "images"),
        "--annotations",
        str(training_data / "outlines"),
        "--name",
        name,
        "--hyperparameters",
        str(hyperparameters),
        "--models-dir",
        str(models_dir),
        *options,
    ]


def refused_before_training(train_command, folder, tiny_hyperparameters, option, content) -> str:
    """Train with a user file holding ``content`` (a function of the tiny hyperparameters'
    text, or text) given as ``option``; check that it is refused in one line, without a
    traceback and before a model folder is made; that line, after ``error: ``."""
    path = folder / "user file.py"
    text = tiny_hyperparameters.read_text()
    path.write_text(content(text) if callable(content) else content)
    result = train_command("--name", "refused", option, path)  # the last option given wins
    assert result.code == 1 and "Traceback" not in result.err, result.err
    assert len(result.error_lines) == 1, result.err
    assert not (folder / "models" / "refused").exists()
    line = result.error_lines[0].split("error: ", 1)[1]
    assert line.startswith(str(path)), line
    return line
