"""Assemble the self-contained web page that runs a model in the browser.

The site is static files only: the page (cellseg/web/), ONNX Runtime Web's WebAssembly
build (vendored in cellseg/web/vendor/), the model as ONNX and its settings. It runs from
`cellseg serve` (threads, thanks to cross-origin isolation) or any static file server.
"""

import json
import shutil
from pathlib import Path

#: The vendored runtime (cellseg/web/vendor/onnxruntime-web/README.md).
ONNX_RUNTIME_WEB_VERSION = "1.30.0"

#: The Content-Security-Policy of the page: nothing but its own origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)


def web_files() -> Path:
    """The folder of the page's files inside the installed package."""
    return Path(__file__).resolve().parent / "web"


def build_site(folder: Path, onnx_model: Path, settings: dict) -> None:
    """Fill the (new, empty) ``folder`` with the page, the runtime, the model and settings."""
    shutil.copytree(
        web_files(),
        folder,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    shutil.copyfile(onnx_model, folder / "model.onnx")
    (folder / "model.json").write_text(json.dumps(settings, indent=2) + "\n")


def model_settings(config: dict, name: str, input_shape, positive_threshold: float) -> dict:
    """What the page needs to know about the model, from its configuration."""
    rows, columns = input_shape[1:3]
    return {
        "name": name,
        "target": config["target"],
        "postprocessing": config.get(
            "postprocessing", {"foreground": 0.5, "seed": 0.6, "min_area": 20}
        ),
        "divisor": config.get("divisor", 32),
        "test_time_flips": config.get("test_time_flips", 1),
        "cell_area": config.get("cell_area"),
        "input_size": None if rows is None else [int(rows), int(columns)],
        "positive_threshold": positive_threshold,
        "onnxruntime_web": ONNX_RUNTIME_WEB_VERSION,
    }
