"""Where a command may write, and what it may replace: never into a folder it reads
(`prepare_output_folder`, `check_output_file`), and of a prediction's files, without
``--overwrite``, never one cellseg did not write, nor one changed since it wrote it (an
outline layer corrected by hand, as the fine-tuning loop asks, before another model
predicts into the same folder).

A file's stamp is its size, modification time and SHA-256: a file whose time alone
changed (a copy of the folder made without keeping times) is told unchanged by its
content.
"""

import os
from collections.abc import Iterable
from pathlib import Path

from cellseg.errors import CellsegError, file_error

#: What a refusal suggests.
REPLACE = "use --overwrite to replace it, or choose another --output"


def stamps(folder: Path, names) -> dict[str, list]:
    """The size, modification time (ns) and SHA-256 of each of the files ``names`` of
    ``folder`` that exists, by name.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()); _ = (folder / "a.csv").write_text("id\\n")
    >>> [(name, stamp[0]) for name, stamp in stamps(folder, ["a.csv", "b.csv"]).items()]
    [('a.csv', 3)]
    """
    import hashlib

    found = {}
    for name in sorted(names):
        try:
            status = (folder / name).stat()
            with open(folder / name, "rb") as file:
                digest = hashlib.file_digest(file, "sha256").hexdigest()
        except OSError:
            continue
        found[name] = [status.st_size, status.st_mtime_ns, digest]
    return found


def refuse_changed(folder: Path, written: dict) -> None:
    """Raise a `CellsegError` naming the first of the files ``written`` (their `stamps` when
    cellseg wrote them) that has changed since: another size, or another time and content
    (a stamp of an earlier cellseg, without content, by its time alone); one removed since
    is passed over."""
    for name, (size, time, *digest) in sorted(written.items()):
        try:
            status = (folder / name).stat()
        except OSError:
            continue
        if status.st_size == size and status.st_mtime_ns == time:
            continue
        if status.st_size == size and digest and stamps(folder, [name])[name][2] == digest[0]:
            continue
        raise file_error(
            folder / name,
            f"was changed since cellseg predict wrote it (corrected by hand?); {REPLACE}",
        )


def refuse_existing(folder: Path, names) -> None:
    """Raise a `CellsegError` naming the first of the files ``names`` that exists: cellseg
    did not write it."""
    for name in sorted(names):
        if (folder / name).exists():
            raise file_error(
                folder / name, f"exists and was not written by cellseg predict ({REPLACE})"
            )


def prepare_output_folder(output: str | Path, inputs: Iterable[str | Path]) -> Path:
    """Create the output folder after checking that writing there touches no input.

    ``inputs`` are every file and folder the command reads: its input images, and also
    ``--images``, ``--annotations`` and model folders (`check_not_an_input`).
    """
    output = Path(output)
    check_not_an_input(output, inputs)
    if output.exists() and not output.is_dir():
        raise CellsegError(f"{output}: exists and is not a folder")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CellsegError(f"{output}: cannot create folder ({error.strerror})") from None
    return output


def output_file(given: str | None, default_name: str) -> Path:
    """The file a command writes: ``given``, or ``default_name`` in it when ``given`` names
    a folder (one that exists, or written with a final slash: ``results/``), or in the
    working folder when nothing is given.

    Examples
    --------
    >>> str(output_file("results/", "evaluation_default.csv"))
    'results/evaluation_default.csv'
    >>> str(output_file("scores.csv", "evaluation_default.csv"))
    'scores.csv'
    """
    if given is None:
        return Path(default_name)
    if given.endswith(("/", os.sep)) or Path(given).is_dir():
        return Path(given) / default_name
    return Path(given)


def check_output_file(path: str | Path, inputs: Iterable[str | Path]) -> Path:
    """Check that the file ``path`` (a report, a table) is written outside every input
    folder (see `check_not_an_input`), and is not an input file itself; make its folder,
    before the work, so that a folder that cannot be made stops the command at once."""
    path = Path(path)
    for source in map(Path, inputs):
        if source.exists() and path.exists() and path.resolve() == source.resolve():
            raise CellsegError(f"{path}: is an input of this command; choose another file")
    check_not_an_input(path.parent, [source for source in map(Path, inputs) if source.is_dir()])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CellsegError(f"{path.parent}: cannot make the folder ({error.strerror})") from None
    return path


def check_not_an_input(output: Path, inputs: Iterable[str | Path]) -> None:
    """Raise a `CellsegError` if files written into the folder ``output`` could replace or
    mix with an input: ``output`` is the folder of an input file, an input folder, or a
    folder inside one."""
    resolved = Path(output).resolve()
    for path in map(Path, inputs):
        source = path.resolve()
        folder = source if path.is_dir() else source.parent
        if resolved == folder:
            kind = "the input folder" if path.is_dir() else "the folder of the input"
            raise CellsegError(f"{output}: is {kind} {path}; choose another output folder")
        if path.is_dir() and folder in resolved.parents:
            raise CellsegError(
                f"{output}: lies inside the input folder {path}; choose an output folder outside it"
            )
        for link in path.iterdir() if path.is_dir() else ():
            if link.is_symlink() and Path(os.path.realpath(link)).parent == resolved:
                raise CellsegError(
                    f"{output}: holds {os.path.realpath(link)}, an input through the link "
                    f"{link}; choose another output folder"
                )


def settings_changes(earlier: dict, now: dict) -> str:
    """How a prediction's ``earlier`` settings differ from those of ``now``, said as the
    earlier ones.

    Examples
    --------
    >>> settings_changes({"model": "a", "scale": 1.0, "min_confidence": 0.5},
    ...                  {"model": "a", "scale": 1.0, "min_confidence": 0.8})
    'with min_confidence 0.5 (now 0.8)'
    >>> settings_changes({"model": "a", "model_sha256": "1", "formats": ["png"]},
    ...                  {"model": "b", "model_sha256": "2", "formats": ["geojson", "png"]})
    'with model a (now b), formats png (now geojson, png)'
    >>> settings_changes({"model": "a", "model_sha256": "1"}, {"model": "a", "model_sha256": "2"})
    'with another version of model a'
    >>> settings_changes({"formats": ["png"], "overlay": {"width": 2}}, {"formats": ["tiff"]})
    'with formats png (now tiff)'
    """

    def shown(value) -> str:
        if isinstance(value, list | tuple):
            return ", ".join(map(shown, value))
        if isinstance(value, float):
            return f"{value:g}"
        return "none" if value is None else str(value)

    parts = []
    for key in dict.fromkeys([*now, *earlier]):
        old, new = earlier.get(key), now.get(key)
        if old == new or (key == "model_sha256" and earlier.get("model") != now.get("model")):
            continue
        if key == "model_sha256":
            parts.append(f"another version of model {now.get('model')}")
        elif isinstance(old, dict) and isinstance(new, dict):  # the overlay's style
            parts.append(f"another {key}")
        elif isinstance(old, dict) or isinstance(new, dict):
            continue  # kept with one format only: the formats' change says it
        else:
            parts.append(f"{key} {shown(old)} (now {shown(new)})")
    return "with " + ", ".join(parts) if parts else "otherwise"
