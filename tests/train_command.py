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
