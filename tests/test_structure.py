"""The code's shape: layers that import only downward, modules a reader can hold in mind, and
docstring examples that run.

Each rule here is one the project holds itself to (../shared/STYLE.md): the layers under the
command line take plain values and never argparse; image processing and post-processing
never import the networks; the output writers never reach into the networks; no module over
400 lines; every example in a pure module's docstrings is true.
"""

import ast
import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Installed package -> folder in the repository (pyproject.toml's package-dir).
PACKAGES = {
    "cellseg": ROOT / "cellseg",
    "cellseg.preprocessing": ROOT / "preprocessing",
    "cellseg.postprocessing": ROOT / "postprocessing",
    "cellseg.neural_network": ROOT / "neural_network",
}
LOWER_LAYERS = ("cellseg.preprocessing", "cellseg.postprocessing", "cellseg.neural_network")
#: The modules that write a prediction's files.
OUTPUT_WRITERS = (
    "cellseg.output_formats",
    "cellseg.prediction_files",
    "cellseg.slide_io",
    "cellseg.slide_outputs",
    "cellseg.postprocessing.geojson",
)
#: Modules whose examples need nothing but numpy, scipy and scikit-image.
PURE = ("cellseg.preprocessing", "cellseg.postprocessing")
PURE_MODULES = (
    "cellseg.metrics",
    "cellseg.tables",
    "cellseg.neural_network.targets",
    "cellseg.neural_network.model_config",
    "cellseg.neural_network.prediction",
    "cellseg.neural_network.evaluation",
)


def modules() -> dict[str, Path]:
    """Every module of the installed package, by name."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            found[name] = path
    for path in sorted((ROOT / "cellseg" / "commands").glob("*.py")):
        stem = "" if path.stem == "__init__" else f".{path.stem}"
        found[f"cellseg.commands{stem}"] = path
    return found


def imports(path: Path) -> set[str]:
    """The modules a file imports, at its top or inside its functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_layers_under_the_commands_import_no_argparse_module():
    found = modules()
    with_argparse = {name for name, path in found.items() if "argparse" in imports(path)}
    assert with_argparse, "the commands parse their arguments with argparse"
    for name, path in found.items():
        if name.startswith(LOWER_LAYERS):
            reached = (imports(path) & with_argparse) | ({"argparse"} & imports(path))
            assert not reached, f"{name} imports {sorted(reached)}"


def test_image_processing_never_imports_the_networks():
    for name, path in modules().items():
        if name.startswith(("cellseg.preprocessing", "cellseg.postprocessing")):
            reached = {module for module in imports(path) if "neural_network" in module}
            reached |= {module for module in imports(path) if module in ("keras", "tensorflow")}
            assert not reached, f"{name} imports {sorted(reached)}"


def test_output_writers_never_reach_into_the_networks():
    found = modules()
    for name in OUTPUT_WRITERS:
        reached = {module for module in imports(found[name]) if "neural_network" in module}
        assert not reached, f"{name} imports {sorted(reached)}"


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_over_400_lines(name):
    lines = modules()[name].read_text().count("\n")
    assert lines <= 400, f"{name} has {lines} lines: it holds two ideas"


def pure_modules() -> list[str]:
    return sorted(name for name in modules() if name.startswith(PURE)) + list(PURE_MODULES)


@pytest.mark.parametrize("name", pure_modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
