"""The one error type that the command line prints as a single line, without a traceback."""


class CellsegError(Exception):
    """A problem with the user's input or output, explained in one line.

    The message names the file it is about, e.g. ``"scans/a.png: truncated PNG"``. Anything
    else that escapes a command is a bug in cellseg and keeps its traceback.
    """


def file_error(path, reason: str) -> CellsegError:
    """Build the error for one file: ``"<path>: <reason>"``."""
    return CellsegError(f"{path}: {reason}")


class CellsegWarning(UserWarning):
    """Something wrong in one file that does not stop it being used, explained in one line
    naming the file: the command line prints it as ``cellseg CMD: warning: ...``."""
