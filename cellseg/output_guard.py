"""Which of a prediction's files cellseg may replace without ``--overwrite``: never one it
did not write, nor one changed since it wrote it (an outline layer corrected by hand, as the
fine-tuning loop asks, before another model predicts into the same folder).

A file's stamp is its size and modification time, which any edit changes; a copy of the
folder made without keeping times reads as changed, so the command refuses, never loses.
"""

from pathlib import Path

from cellseg.errors import file_error

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
