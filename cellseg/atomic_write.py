"""Write files atomically and never overwrite unless asked.

A file is written to a hidden temporary file in the destination folder, then moved into
place in one step, so a crash or a full disk never leaves a half-written output behind.
"""

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from cellseg.errors import file_error


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def write_atomically(path, write: Callable[[Path], None], *, overwrite: bool = False) -> None:
    """Create ``path`` by calling ``write(temporary_path)``, then moving the result into place.

    Parameters
    ----------
    path : path-like
        The file to create. Its folder must exist.
    write : callable
        Writes the whole content to the temporary path it is given.
    overwrite : bool
        Replace ``path`` if it exists. Without it an existing file is an error, checked
        both before writing and at the moment of the move, so a file that appears in
        between is not clobbered either.

    Raises
    ------
    CellsegError
        When ``path`` exists and ``overwrite`` is false, or the write fails (full disk,
        read-only folder); no temporary file is left behind.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise file_error(path, "already exists (use --overwrite to replace it)")
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as error:
        raise file_error(path, f"cannot write: {error.strerror or error}") from None
    os.close(handle)
    temporary = Path(temporary)
    try:
        write(temporary)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(temporary, ordinary_mode())
        _move_into_place(temporary, path, overwrite=overwrite)
    except OSError as error:
        raise file_error(path, f"cannot write: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def ordinary_mode() -> int:
    """The permissions a plain open() gives a new file: 0o666 less the umask."""
    return 0o666 & ~_UMASK


def write_bytes_atomically(path, data: bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (see `write_atomically`)."""
    write_atomically(path, lambda temporary: temporary.write_bytes(data), overwrite=overwrite)


def write_text_atomically(path, text: str, *, overwrite: bool = False) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (see `write_atomically`)."""
    write_bytes_atomically(path, text.encode("utf-8"), overwrite=overwrite)


def _move_into_place(temporary: Path, path: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(temporary, path)
        return
    # A hard link creates the name only if it does not exist yet: no window in which
    # another process's file could be replaced. Filesystems without hard links fall back.
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise file_error(path, "already exists (use --overwrite to replace it)") from None
    except OSError:
        if path.exists():
            raise file_error(path, "already exists (use --overwrite to replace it)") from None
        os.replace(temporary, path)
