"""Fixtures shared by the command tests."""

import pytest

from cellseg.cli import main


@pytest.fixture(scope="session")
def models(tmp_path_factory, training_data, tiny_hyperparameters):
    """A folder of two trained models: 'first' and 'second'."""
    root = tmp_path_factory.mktemp("models")
    for name, seed in (("first", "0"), ("second", "1")):
        code = main(
            [
                "train",
                "--images",
                str(training_data / "images"),
                "--annotations",
                str(training_data / "outlines"),
                "--name",
                name,
                "--seed",
                seed,
                "--hyperparameters",
                str(tiny_hyperparameters),
                "--models-dir",
                str(root),
            ]
        )
        assert code == 0
    return root
