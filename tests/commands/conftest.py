"""Fixtures shared by the command tests."""

import pytest
from train_command import train_arguments

from cellseg.cli import main


@pytest.fixture(scope="session")
def models(tmp_path_factory, training_data, tiny_hyperparameters):
    """A folder of two trained models: 'first' and 'second'."""
    root = tmp_path_factory.mktemp("models")
    for name, seed in (("first", "0"), ("second", "1")):
        code = main(
            train_arguments(training_data, name, tiny_hyperparameters, root, "--seed", seed)
        )
        assert code == 0
    return root
