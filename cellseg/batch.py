"""Run a command over files and folders: gather inputs, guard the output folder, report.

Every folder command works the same way: the inputs are expanded into image files, the
output folder is checked (never an input folder, never inside one) and created, then each
file is processed in turn under a progress bar. A bad file does not stop the others; the
failures are listed at the end, one line each, and the exit code is 1.
"""

import hashlib
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cellseg.errors import CellsegError, CellsegWarning
from cellseg.image_io import IMAGE_SUFFIXES, OTHER_IMAGE_SUFFIXES, SLIDE_SUFFIXES


def image_files(
    paths: Iterable[str | Path], *, slides: bool = False, same_names: bool = False
) -> list[Path]:
    """Expand files and folders into the image files to process, in a stable order.

    A folder contributes its PNG, JPEG and TIFF files (not its subfolders, nor hidden
    files) and, with ``slides``, its whole slides (`cellseg.image_io.SLIDE_SUFFIXES`): a
    DICOM slide is a folder of files, one per level, so a folder's DICOM files are one
    slide, opened by the first. Images of other formats a folder holds (BMP, WebP, and
    slides without ``slides``) are named in a `CellsegWarning`. A file is taken as it is,
    so a wrong one is reported when it is read. With ``same_names``, files whose outputs
    would take the name of an earlier one's are kept, for `run_each` to refuse each
    (`name_clashes`) while it processes the others.

    Raises
    ------
    CellsegError
        For a path that does not exist, a folder without images, or (without
        ``same_names``) two inputs whose outputs would have the same name.
    """
    suffixes = IMAGE_SUFFIXES + (SLIDE_SUFFIXES if slides else ())
    files: list[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise CellsegError(f"{path}: no such file or folder")
        if path.is_dir():
            visible = sorted(entry for entry in path.iterdir() if not entry.name.startswith("."))
            # A link to nothing (a share not mounted) is taken, to fail naming it when read.
            entries = [entry for entry in visible if entry.is_file() or not entry.exists()]
            found = [entry for entry in entries if entry.suffix.lower() in suffixes]
            _note_skipped(path, [e for e in entries if e.suffix.lower() not in suffixes], slides)
            _note_subfolders(path, [entry for entry in visible if entry.is_dir()], found)
            dicom = [entry for entry in found if entry.suffix.lower() == ".dcm"]
            found = [entry for entry in found if entry not in dicom[1:]]
            if not found:
                kinds = "images or slides" if slides else "PNG, JPEG or TIFF images"
                raise CellsegError(f"{path}: folder holds no {kinds}")
            files.extend(found)
        else:
            files.append(path)
    files = _once_each(files)
    clashes = name_clashes(files)
    if clashes and not same_names:
        raise next(iter(clashes.values()))
    return files


def _once_each(files: list[Path]) -> list[Path]:
    """The files without the second and later mentions of one file (given in a folder and
    by its name, or by two paths), which would be counted again; a warning names them."""
    seen, unique, again = set(), [], []
    for path in files:
        key = os.path.realpath(path)
        if key in seen:
            again.append(path.name)
        else:
            seen.add(key)
            unique.append(path)
    if again:
        warnings.warn(
            f"{counted(len(again), 'image')} given more than once, taken once: {named(again)}",
            CellsegWarning,
            stacklevel=3,
        )
    return unique


def _note_subfolders(folder: Path, subfolders: list[Path], found: list[Path]) -> None:
    """Warn of the subfolders of ``folder``, which are not looked into; not of a MIRAX
    slide's folder of data, beside its ``.mrxs`` file."""
    slides = {entry.stem for entry in found if entry.suffix.lower() == ".mrxs"}
    skipped = [entry.name for entry in subfolders if entry.name not in slides]
    if skipped:
        warnings.warn(
            f"{folder}: {counted(len(skipped), 'subfolder')} not looked into: {named(skipped)}",
            CellsegWarning,
            stacklevel=3,
        )


#: Seconds between the lines that say how far a command is, when no terminal shows a bar.
LOG_EVERY = 60


def run_each(
    items: list,
    process: Callable[[object], None],
    *,
    command: str,
    unit: str = "image",
    refused: Mapping[object, CellsegError] | None = None,
) -> int:
    """Call ``process(item)`` for every item under a progress bar; report the failures.
    The items ``refused`` names fail with its error, not processed; by default, the files
    among the items whose outputs would take an earlier one's name (`name_clashes`).

    Returns 0 when every item succeeded, 1 otherwise. Only `CellsegError` counts as a
    failure of one item; anything else is a bug and propagates. Between items, a Ctrl-C
    held back (`cellseg.interruption.deferred`) stops it. Without a terminal (a cluster
    job's log), a line every `LOG_EVERY` seconds says how far it is instead of the bar.
    """
    import time

    from tqdm import tqdm

    from cellseg.interruption import raise_if_interrupted

    if refused is None:
        refused = name_clashes([item for item in items if isinstance(item, Path)])
    failures, start = [], time.monotonic()
    last = start
    with tqdm(items, desc=f"cellseg {command}", unit=unit, disable=None, file=sys.stderr) as bar:
        for done, item in enumerate(bar, start=1):
            try:
                if isinstance(item, Path) and item in refused:
                    raise refused[item]
                with _warnings_unless_failed():
                    process(item)
            except CellsegError as error:
                failures.append(error)
            if bar.disable and done < len(items) and time.monotonic() - last >= LOG_EVERY:
                last = time.monotonic()
                left = (len(items) - done) * (last - start) / done / 60
                print(
                    f"cellseg {command}: {done} of {counted(len(items), unit)}, "
                    f"about {left:.0f} min left",
                    flush=True,
                )
            raise_if_interrupted()
    for error in failures:
        print(f"cellseg {command}: error: {one_line(error)}", file=sys.stderr)
    if failures and len(items) > 1:
        others = len(items) - len(failures)
        print(
            f"cellseg {command}: all {len(items)} {unit}s failed, none processed"
            if not others
            else f"cellseg {command}: {len(failures)} of {len(items)} {unit}s failed; "
            f"the other {others} {'was' if others == 1 else 'were'} processed",
            file=sys.stderr,
        )
    return 1 if failures else 0


@contextmanager
def _warnings_unless_failed():
    """Hold back the warnings raised while one item is processed, and show them once it is
    done; but not cellseg's own when it fails, whose error says enough (tifffile's
    complaints about a truncated slide's tags, then the error that it is truncated, were
    three lines about one file)."""
    failed = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            yield
    except CellsegError:
        failed = True
        raise
    finally:
        for warning in caught:
            if not (failed and issubclass(warning.category, CellsegWarning)):
                warnings.showwarning(
                    warning.message, warning.category, warning.filename, warning.lineno
                )


#: Line breaks and tabs, with the spaces around them: a library's message may span lines.
_BREAKS = re.compile(r" *[\t\n\r\v\f][ \t\n\r\v\f]*")
#: Control characters (a file may be named with any), and the bytes of a file name that
#: are not UTF-8 (Python holds them as lone surrogates, which no terminal can print).
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\udc80-\udcff]")


def one_line(error: BaseException) -> str:
    """An error's message on one line that a terminal shows as it is.

    Line breaks and tabs become one space; other control characters and the undecodable
    bytes of a file name are written ``\\xNN``, so that no name rings a bell, moves the
    cursor or clears the screen.

    Examples
    --------
    >>> print(one_line(ValueError("scan\\x1b[2J.png: truncated\\n  PNG")))
    scan\\x1b[2J.png: truncated PNG
    """
    text = _BREAKS.sub(" ", str(error).strip())
    return _UNPRINTABLE.sub(lambda match: f"\\x{ord(match[0]) & 0xFF:02x}", text)


def _note_skipped(folder: Path, others: list[Path], slides: bool) -> None:
    """Warn of the images among ``others``, the files of ``folder`` a scan leaves out, that
    are of formats it does not read (the rest, a folder's notes and tables, are passed over
    in silence)."""
    skipped_suffixes = OTHER_IMAGE_SUFFIXES + (() if slides else SLIDE_SUFFIXES)
    skipped = [entry.name for entry in others if entry.suffix.lower() in skipped_suffixes]
    if skipped:
        kinds = "PNG, JPEG, TIFF or a slide format" if slides else "PNG, JPEG or TIFF"
        warnings.warn(
            f"{folder}: {counted(len(skipped), 'image')} skipped, not {kinds}: {named(skipped)}",
            CellsegWarning,
            stacklevel=3,
        )


def image_stem(path) -> str:
    """The name an image's outputs are named after: its file name without its suffix, nor
    the ``.ome`` of an OME-TIFF's ``.ome.tif``.

    Examples
    --------
    >>> image_stem("slides/case 7.ome.tiff"), image_stem("a.b.png"), image_stem("x.OME.TIF")
    ('case 7', 'a.b', 'x')
    """
    name = Path(path).name
    for suffix in (".ome.tif", ".ome.tiff"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem


def name_clashes(files: list[Path]) -> dict[Path, CellsegError]:
    """The files whose outputs would take the name of an earlier file's (``a.tif`` after
    ``a.png``), each with the error that says so."""
    seen: dict[str, Path] = {}
    clashes = {}
    for path in files:
        stem = image_stem(path)
        if stem in seen and seen[stem] != path:
            clashes[path] = CellsegError(
                f"{path}: has the same name as {seen[stem]}, so their outputs would "
                "collide; process it separately"
            )
        else:
            seen[stem] = path
    return clashes


@dataclass
class Tally:
    """What a command did: the items it finished, and the files it wrote or found already
    there with the same content (kept: a command run twice finishes with the same result).
    """

    done: int = 0
    written: int = 0
    kept: int = 0

    def file(self, written: bool) -> None:
        """Count one output file, as `cellseg.atomic_write.write_atomically` reports it."""
        if written:
            self.written += 1
        else:
            self.kept += 1

    def files(self) -> str:
        """The files in words: ``"12 files written"``, ``"all 12 files already there,
        unchanged"``...

        Examples
        --------
        >>> Tally(done=2, written=3, kept=1).files()
        '3 files written, 1 already there and unchanged'
        >>> Tally(done=1, kept=1).files()
        'its file already there, unchanged'
        """
        if not self.kept:
            return counted(self.written, "file") + " written"
        if not self.written:
            if self.kept == 1:
                return "its file already there, unchanged"
            return f"all {self.kept} files already there, unchanged"
        return f"{counted(self.written, 'file')} written, {self.kept} already there and unchanged"


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural when it is not 1: ``"1 image"``, ``"608 cells"``.

    Examples
    --------
    >>> counted(1, "image"), counted(608, "cell"), counted(0, "tile")
    ('1 image', '608 cells', '0 tiles')
    """
    return f"{count} {noun}{'' if count == 1 else 's'}"


def named(names: list[str], shown: int = 3) -> str:
    """The first ``shown`` of ``names``, and how many more: a note that names a folder's
    files stays one line however many they are.

    Examples
    --------
    >>> named(["a.png", "b.png"]), named(["a.png", "b.png", "c.png", "d.png", "e.png"])
    ('a.png, b.png', 'a.png, b.png, c.png and 2 more')
    """
    rest = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {rest} more" if rest > 0 else "")


def file_fingerprint(path: Path, sample: int = 1 << 18) -> str | None:
    """A digest of a file's size and its first and last ``sample`` bytes: it tells a file
    replaced by another of the same name (another image, a slide scanned again) from the
    same file, copied or not, without reading a slide's gigabytes. None for a file that
    cannot be read (the command that reads it says why).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "image.png"
    >>> _ = path.write_bytes(b"one image"); first = file_fingerprint(path)
    >>> _ = path.write_bytes(b"another image"); first == file_fingerprint(path), first[:2]
    (False, '9:')
    """
    try:
        size = path.stat().st_size
        digest = hashlib.sha256(str(size).encode())
        with open(path, "rb") as file:
            digest.update(file.read(sample))
            if size > sample:
                file.seek(max(sample, size - sample))
                digest.update(file.read())
    except OSError:
        return None
    return f"{size}:{digest.hexdigest()[:16]}"
