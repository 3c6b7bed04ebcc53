"""Write files atomically and never overwrite unless asked.

A file is written to a hidden temporary file in the destination folder, then moved into
place in one step, so a crash or a full disk never leaves a half-written output behind. The
temporary file is named after its process (``.<name>.<host>-<pid>-<random>.tmp``), so that
one left by a process that was killed is recognised, and removed by the next write into
its folder.

One rule for every command run twice: an output that exists with exactly the content it
would be given is kept as it is (the command goes on); one that differs is refused unless
``--overwrite``. So a command that was interrupted, or is simply run again, finishes with
the same result, and nothing a user changed or put there is replaced silently.
"""

import contextlib
import filecmp
import os
import re
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

from cellseg.errors import file_error


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def write_atomically(path, write: Callable[[Path], None], *, overwrite: bool = False) -> bool:
    """Create ``path`` by calling ``write(temporary_path)``, then moving the result into place.

    Parameters
    ----------
    path : path-like
        The file to create. Its folder must exist.
    write : callable
        Writes the whole content to the temporary path it is given.
    overwrite : bool
        Replace ``path`` if it exists. Without it an existing file is kept when its content
        is exactly the new one, and is otherwise an error, checked both before writing and
        at the moment of the move, so a file that appears in between is not clobbered.

    Returns
    -------
    bool
        True if the file was written, False if an identical one was already there.

    Raises
    ------
    CellsegError
        When ``path`` exists with other content and ``overwrite`` is false, or the write
        fails (full disk, read-only folder); no temporary file is left behind.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise file_error(path, "exists and is not a file")
    remove_abandoned_temporaries(path.parent)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.{_HOST}-{os.getpid()}-", suffix=".tmp", dir=path.parent
        )
    except OSError as error:
        raise file_error(path, f"cannot write: {error.strerror or error}") from None
    os.close(handle)
    temporary = Path(temporary)
    try:
        write(temporary)
        if not overwrite and path.exists():
            if _same_content(temporary, path):
                return False
            raise file_error(path, _DIFFERS)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(temporary, ordinary_mode())
        _move_into_place(temporary, path, overwrite=overwrite)
        return True
    except OSError as error:
        raise file_error(path, f"cannot write: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


#: This computer's name, in the names of temporary files: a process of another computer
#: writing into a shared folder is never taken for a killed one of this computer.
_HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"
#: Folders already cleared of abandoned temporary files by this process.
_SWEPT: set[str] = set()


def remove_abandoned_temporaries(folder) -> None:
    """Remove the temporary files that processes of this computer which no longer run
    (killed in the middle of a write) left in ``folder``; once per folder and process."""
    folder = Path(folder)
    key = os.path.abspath(folder)
    if key in _SWEPT:
        return
    _SWEPT.add(key)
    pattern = re.compile(rf"\..+\.{re.escape(_HOST)}-(\d+)-\w+\.tmp")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return  # a folder that cannot be listed is reported when written to
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match and not _running(int(match[1])) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process; or no process id: keep the file
    return True


#: Why an existing output is not replaced.
_DIFFERS = "already exists with other content (use --overwrite to replace it)"


def _same_content(first: Path, second: Path) -> bool:
    """Whether two files hold the same bytes."""
    return filecmp.cmp(first, second, shallow=False)


def ordinary_mode() -> int:
    """The permissions a plain open() gives a new file: 0o666 less the umask."""
    return 0o666 & ~_UMASK


def folder_mode() -> int:
    """The permissions a plain mkdir() gives a new folder: 0o777 less the umask."""
    return 0o777 & ~_UMASK


def write_bytes_atomically(path, data: bytes, *, overwrite: bool = False) -> bool:
    """Write ``data`` to ``path`` atomically (see `write_atomically`)."""
    return write_atomically(
        path, lambda temporary: temporary.write_bytes(data), overwrite=overwrite
    )


def write_text_atomically(path, text: str, *, overwrite: bool = False) -> bool:
    """Write UTF-8 ``text`` to ``path`` atomically (see `write_atomically`)."""
    return write_bytes_atomically(path, text.encode("utf-8"), overwrite=overwrite)


def _move_into_place(temporary: Path, path: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(temporary, path)
        return
    # A hard link creates the name only if it does not exist yet: no window in which
    # another process's file could be replaced. Filesystems without hard links fall back.
    try:
        os.link(temporary, path)
    except FileExistsError:
        if _same_content(temporary, path):
            return
        raise file_error(path, _DIFFERS) from None
    except OSError:
        if path.exists():
            raise file_error(path, _DIFFERS) from None
        os.replace(temporary, path)
