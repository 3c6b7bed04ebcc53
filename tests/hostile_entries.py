"""What a hostile input file is, and the registry of its kinds (issue #33).

A `Hostile` is one file and what cellseg must do with it; `kind` registers the builder of
one kind of file in `KINDS` (and the decompression bombs in `BOMBS` too). The kinds are
built in `hostile_files` (image files) and `hostile_layers_paths_bombs` (annotation
layers, file system oddities, bombs); `hostile_corpus` writes them into folders.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: The roles in which a file is read. IMAGE: an image to process (blur, split, predict, the
#: images of evaluate). OUTLINES: a red-outline annotation layer (reduce, labels).
#: ANNOTATION: an annotation as evaluate reads it (an outline layer, or a label image).
#: PAIRED: checked against a companion file of the same name and its `Hostile.shape`
#: (labels --images, evaluate).
IMAGE, OUTLINES, ANNOTATION, PAIRED = "image", "outlines", "annotation", "paired"
EVERY_ROLE = frozenset({IMAGE, OUTLINES, ANNOTATION, PAIRED})
#: A valid image that is no annotation layer: gray, or RGB without red outlines.
NOT_AN_ANNOTATION = frozenset({OUTLINES, ANNOTATION})

#: The size of a companion file when the hostile one declares none that can be used.
DEFAULT_SHAPE = (20, 30)


@dataclass(frozen=True)
class Hostile:
    """One hostile file and what cellseg must do with it."""

    kind: str
    path: Path
    #: The roles in which it is refused, one error line naming it; in the others it is an
    #: ordinary file whose output must exist.
    refused_as: frozenset = EVERY_ROLE
    #: (rows, columns) of the image it declares: a companion file of the same name gets it.
    shape: tuple[int, int] = DEFAULT_SHAPE
    #: False for what a folder scan passes by (a folder, a pipe, a .bmp): no error, no output.
    listed: bool = True
    #: The path as an error line shows it, where that is not ``str(path)`` (control
    #: characters in the name).
    shown_as: str | None = None

    @property
    def shown(self) -> str:
        return self.shown_as if self.shown_as is not None else str(self.path)

    def refused(self, *roles: str) -> bool:
        """Whether a command that reads it in these roles must refuse it."""
        return self.listed and bool(self.refused_as & set(roles))


class Run:
    """Exit code and standard error of a command run in a subprocess."""

    def __init__(self, code: int, err: str):
        self.code, self.err = code, err

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


#: kind -> builder: ``builder(folder) -> Hostile``, writing its file into ``folder``; in the
#: order the kinds were registered.
KINDS: dict[str, Callable[[Path], Hostile]] = {}
#: The kinds that declare sizes far above cellseg's caps (`write_bombs`).
BOMBS: list[str] = []


def kind(name: str, *, bomb: bool = False):
    """Register ``builder(name, folder) -> Hostile`` as the kind ``name``."""

    def register(builder):
        def build(folder: Path) -> Hostile:
            folder.mkdir(parents=True, exist_ok=True)
            return builder(name, folder)

        KINDS[name] = build
        if bomb:
            BOMBS.append(name)
        return builder

    return register


def written(name: str, folder: Path, file_name: str, data: bytes, **details) -> Hostile:
    """The `Hostile` of kind ``name``: ``data`` written to ``folder / file_name``."""
    path = folder / file_name
    path.write_bytes(data)
    return Hostile(name, path, **details)
