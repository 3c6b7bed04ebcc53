"""Assemble the self-contained web page that runs a model in the browser.

The site is static files only: the page (cellseg/web/), ONNX Runtime Web's WebAssembly
build (vendored in cellseg/web/vendor/), the model as ONNX and its settings. It runs from
`cellseg serve` (threads, thanks to cross-origin isolation) or any static file server.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

from cellseg.errors import CellsegError

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


#: Written into every exported site: the list of its files, so that a later export with
#: ``--overwrite`` knows the site's own files and replaces those alone.
SITE_MANIFEST = "cellseg-site.json"
#: Files that make a folder a site exported by an earlier version, without a manifest.
_SITE_SIGNATURE = ("index.html", "model.onnx", "model.json")
#: Hidden folders beside the destination in which a site is built before it is moved in.
_STAGING_PREFIX = ".cellseg-export-"


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
    files = sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())
    manifest = {"cellseg_site": 1, "files": [*files, SITE_MANIFEST]}
    (folder / SITE_MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")


def staging_folder(destination: Path) -> Path:
    """A new hidden folder beside ``destination`` to build a site in, named after this
    process so that one left by a killed export is recognised and removed later."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_staging(destination.parent)
    return Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-", dir=destination.parent))


def remove_abandoned_staging(parent: Path) -> None:
    """Remove the staging folders of exports whose process no longer runs (killed)."""
    for path in parent.glob(f"{_STAGING_PREFIX}*"):
        try:
            pid = int(path.name[len(_STAGING_PREFIX) :].split("-")[0])
        except ValueError:
            continue
        if path.is_dir() and not _running(pid):
            shutil.rmtree(path, ignore_errors=True)


def check_site_destination(output: Path, *, overwrite: bool = False) -> None:
    """Raise a `CellsegError` unless a site may be put at ``output``: a new or empty
    folder, or, with ``overwrite``, a site exported there before. Never the root, the home
    folder, the working folder or any folder holding it, nor a folder of other files."""
    resolved = output.resolve()
    working = Path.cwd().resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        raise CellsegError(f"{output}: is the root or home folder; export into a new folder")
    if resolved == working or resolved in working.parents:
        raise CellsegError(f"{output}: is the working folder or holds it; export into a new folder")
    if not output.exists() or (output.is_dir() and not any(output.iterdir())):
        return
    if not output.is_dir() or site_files(output) is None:
        raise CellsegError(
            f"{output}: already exists and is not a site made by cellseg export; "
            "not replacing it (choose a new folder)"
        )
    if not overwrite:
        raise CellsegError(f"{output}: already exists (use --overwrite to replace it)")


def install_site(site: Path, output: Path, *, overwrite: bool = False) -> None:
    """Move the finished ``site`` folder to ``output`` (`check_site_destination`).

    A new or empty ``output`` receives it in one rename. A site exported there before is
    replaced, with ``overwrite``, file by file: only the old site's own files are removed,
    so a user's files in that folder stay.
    """
    check_site_destination(output, overwrite=overwrite)
    if output.is_dir() and not any(output.iterdir()):
        output.rmdir()
    if not output.exists():
        site.rename(output)
        return
    old_files = site_files(output)
    new_files = json.loads((site / SITE_MANIFEST).read_text())["files"]
    for name in sorted(new_files, key=lambda name: name == SITE_MANIFEST):  # manifest last
        destination = output / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(site / name, destination)
    for name in sorted(set(old_files) - set(new_files)):
        (output / name).unlink(missing_ok=True)


def site_files(folder: Path) -> list[str] | None:
    """The files of the site exported into ``folder``; None if it holds no site."""
    manifest = folder / SITE_MANIFEST
    if manifest.is_file():
        try:
            files = json.loads(manifest.read_text())["files"]
        except (ValueError, KeyError, TypeError):
            return None
        return [name for name in files if _inside(folder, name)]
    if all((folder / name).is_file() for name in _SITE_SIGNATURE):
        own = [
            str(path.relative_to(web_files()))
            for path in web_files().rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        ]
        return [*_SITE_SIGNATURE, *own]  # an earlier version's site: today's file names
    return None


def _inside(folder: Path, name: str) -> bool:
    """Whether ``name`` names a file inside ``folder`` (no absolute path, no ``..``)."""
    path = Path(name)
    return not path.is_absolute() and ".." not in path.parts


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def model_settings(model, positive_threshold: float) -> dict:
    """What the page needs to know about a `TrainedModel`, from its configuration, and what
    the site was made from (the network's SHA-256, cellseg's version)."""
    from cellseg import __version__

    rows, columns = model.network.input_shape[1:3]
    config = model.config
    return {
        "name": model.name,
        "target": config.target,
        "postprocessing": config.thresholds.to_dict(),
        "calibration": config.calibration.to_dict(),
        "count_spread": config.count_spread,
        "divisor": config.divisor,
        "test_time_flips": config.test_time_flips,
        "cell_area": config.cell_area,
        "pixel_size": config.pixel_size,
        # How strong the training images' haematoxylin was: the page strengthens a paler
        # counterstain as TrainedModel.segment does (None for models that do not say).
        "haematoxylin": getattr(config, "haematoxylin", None),
        "input_size": None if rows is None else [int(rows), int(columns)],
        "positive_threshold": positive_threshold,
        "onnxruntime_web": ONNX_RUNTIME_WEB_VERSION,
        "model_sha256": model.identity()["model_sha256"],
        "cellseg": __version__,
    }


def site_is_current(output: Path, settings: dict) -> bool:
    """Whether ``output`` holds the site an export with ``settings`` would make: the same
    model and settings (its ``model.json``) and today's page files, byte for byte. The
    network's conversion to ONNX names its nodes anew each time, so it is not compared:
    the network's own SHA-256 in ``model.json`` stands for it."""
    try:
        written = json.loads((output / "model.json").read_text())
    except (OSError, ValueError):
        return False
    if written != json.loads(json.dumps(settings)) or not (output / "model.onnx").is_file():
        return False
    for source in web_files().rglob("*"):
        if source.is_file() and "__pycache__" not in source.parts:
            copy = output / source.relative_to(web_files())
            if not copy.is_file() or copy.read_bytes() != source.read_bytes():
                return False
    return True
