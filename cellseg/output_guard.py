"""Where a command may write, and what it may replace: never into a folder it reads
(`prepare_output_folder`, `check_output_file`), and of a prediction's files, without
``--overwrite``, never one cellseg did not write, nor one changed since it wrote it (an
outline layer corrected by hand, as the fine-tuning loop asks, before another model
predicts into the same folder).

A file's stamp is its size and modification time, which any edit changes; a copy of the
folder made without keeping times reads as changed, so the command refuses, never loses.
"""

import os
from collections.abc import Iterable
from pathlib import Path

from cellseg.errors import CellsegError, file_error

#: What a refusal suggests.
REPLACE = "use --overwrite to replace it, or choose another --output"


def stamps(folder: Path, names) -> dict[str, list[int]]:
    """The size and modification time (ns) of each of the files ``names`` of ``folder``
    that exists, by name.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()); _ = (folder / "a.csv").write_text("id\\n")
    >>> [(name, stamp[0]) for name, stamp in stamps(folder, ["a.csv", "b.csv"]).items()]
    [('a.csv', 3)]
    """
    found = {}
    for name in sorted(names):
        try:
            status = (folder / name).stat()
        except OSError:
            continue
        found[name] = [status.st_size, status.st_mtime_ns]
    return found


def refuse_changed(folder: Path, written: dict) -> None:
    """Raise a `CellsegError` naming the first of the files ``written`` (their `stamps` when
    cellseg wrote them) that has changed since; one removed since is passed over."""
    for name, stamp in stamps(folder, written).items():
        if stamp != list(written[name]):
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
