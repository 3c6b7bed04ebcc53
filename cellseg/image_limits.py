"""How large an image cellseg reads whole, and one line for any decoder's error.

A file's size is checked from its header, before anything is decoded or allocated, so a
tiny "decompression bomb" cannot exhaust memory; whatever a decoder raises for a truncated
or corrupt file becomes a `CellsegError` naming the file, and what it logs a warning naming
the file.
"""

import logging
import re
import warnings
from contextlib import contextmanager

from cellseg.errors import CellsegError, CellsegWarning, file_error

#: Largest image read whole, in pixels (about 11,600 x 11,600). A file that declares more is
#: refused before it is decoded, so a tiny "decompression bomb" cannot exhaust memory.
MAX_PIXELS = 2**27
#: Largest image read whole, in bytes once decoded (rows x columns x channels x bytes per
#: sample): 256 MiB, about 9,450 x 9,450 RGB at 8 bits. With `MAX_PIXELS` it keeps the few
#: working copies a command makes of an image within a few GB.
MAX_BYTES = 2**28


def check_image_size(
    path,
    rows: int,
    columns: int,
    *,
    channels: int = 1,
    bytes_per_sample: int = 1,
    claim: str = "declares",
) -> None:
    """Refuse an image too large to hold whole: above `MAX_PIXELS`, or `MAX_BYTES` decoded.

    Parameters
    ----------
    path : path-like
        The file the error names: the image, or what gave its size (a tile, a manifest).
    rows, columns, channels, bytes_per_sample : int
        The image's size, from a header, before anything is decoded or allocated.
    claim : str
        How the message says that ``path`` gives this size: ``"declares"``, ``"says"``...

    Raises
    ------
    CellsegError
        ``"<path>: declares 11000 x 11000 pixels of 4 channels of 8 bits (484,000,000
        bytes), more than the 268,435,456 bytes cellseg reads at once ..."``, or for an
        empty size.
    """
    if rows <= 0 or columns <= 0:
        raise file_error(path, f"{claim} an empty image ({columns} x {rows} pixels)")
    hint = "(a corrupt file or decompression bomb?)"
    if rows * columns > MAX_PIXELS:
        raise file_error(
            path,
            f"{claim} {columns} x {rows} pixels, more than the {MAX_PIXELS:,} pixels cellseg "
            f"reads at once {hint}",
        )
    size = rows * columns * channels * bytes_per_sample
    if size > MAX_BYTES:
        layout = f"{channels} channels of {8 * bytes_per_sample} bits"
        raise file_error(
            path,
            f"{claim} {columns} x {rows} pixels of {layout} ({size:,} bytes), more than the "
            f"{MAX_BYTES:,} bytes cellseg reads at once {hint}",
        )


@contextmanager
def decoding(path, kind: str):
    """Turn any error of a decoder into a `CellsegError` naming the file.

    imagecodecs raises a type per codec (``DeflateError``, ``Jpeg8Error``...), Pillow and
    tifffile many more, for a file that is truncated or corrupt anywhere. What tifffile
    logs about a file it reads all the same (a page that points back to itself) becomes a
    `CellsegWarning` naming the file; about a file that is refused, the error says enough.
    """
    with _tifffile_messages() as messages:
        with _as_file_error(path, kind):
            yield
    for message in messages:
        warnings.warn(CellsegWarning(f"{path}: {message}"), stacklevel=3)


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        # tifffile starts its messages with the object they are about: "<tifffile...> ".
        self.messages.append(re.sub(r"^<[^>]*> ", "", record.getMessage()))


@contextmanager
def _tifffile_messages():
    """Collect tifffile's log messages instead of letting them reach standard error as
    lines that name no file; nested readings collect into the outermost."""
    logger = logging.getLogger("tifffile")
    if any(isinstance(handler, _Collector) for handler in logger.handlers):
        yield []
        return
    collector, propagate = _Collector(), logger.propagate
    logger.addHandler(collector)
    logger.propagate = False
    try:
        yield collector.messages
    finally:
        logger.removeHandler(collector)
        logger.propagate = propagate


@contextmanager
def _as_file_error(path, kind: str):
    try:
        yield
    except CellsegError:
        raise
    except MemoryError:
        raise file_error(path, f"{kind} too large to decode in the memory left") from None
    except OSError as error:
        if error.errno is None:  # Pillow's "image file is truncated", and the like
            raise file_error(path, f"truncated or corrupt {kind} ({error})") from None
        raise file_error(path, f"cannot read ({error.strerror})") from None
    except Exception as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise file_error(path, f"truncated or corrupt {kind} ({reason})") from None
