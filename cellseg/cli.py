"""The ``cellseg`` command: one subcommand per step, each in its own module.

A subcommand's module is imported only when it runs, so ``cellseg --help`` and the
preprocessing commands start without loading TensorFlow.
"""

import importlib
import sys
import warnings

from cellseg import __version__, interruption
from cellseg.errors import CellsegError, CellsegWarning

#: name -> (module, one-line summary). Each module has ``build_parser()`` and ``main(argv)``.
COMMANDS = {
    "split": ("cellseg.commands.split", "cut images into overlapping tiles"),
    "merge": ("cellseg.commands.merge", "stitch tiles back into whole images"),
    "blur": ("cellseg.commands.blur", "Gaussian-blur images, keeping dtype and channels"),
    "reduce": ("cellseg.commands.reduce", "red-outline annotation layers to binary outline masks"),
    "labels": ("cellseg.commands.labels", "red-outline annotations to cell labels or targets"),
    "synth": ("cellseg.commands.synth", "make synthetic annotated images for tests and demos"),
    "train": ("cellseg.commands.train", "train a network on annotated images"),
    "predict": ("cellseg.commands.predict", "find and count the cells of images with a model"),
    "evaluate": ("cellseg.commands.evaluate", "score a model on annotated images"),
    "leaderboard": ("cellseg.commands.leaderboard", "rank trained models by validation scores"),
    "report": ("cellseg.commands.report", "an offline HTML report of a model"),
    "export": ("cellseg.commands.export", "a web page that runs a model in the browser"),
    "serve": ("cellseg.commands.serve", "serve an exported page on this computer"),
    "demo": ("cellseg.commands.demo", "run the main job on a bundled stained-tissue image"),
    "examples": ("cellseg.commands.examples", "write the example loss, network and settings files"),
}


def usage() -> str:
    """The top-level help text."""
    width = max(map(len, COMMANDS))
    lines = [
        "usage: cellseg COMMAND [ARGUMENTS...]",
        "",
        "Segment and count cells in microscopy images.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()),
        "",
        "Run 'cellseg COMMAND --help' for a command's arguments.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run ``cellseg COMMAND ...``; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"cellseg {__version__}")
        return 0
    name, arguments = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"cellseg: error: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    with interruption.watching():
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _one_line_warnings(name, warnings.showwarning)
                return module.main(arguments)
        except CellsegError as error:
            from cellseg.batch import one_line

            print(f"cellseg {name}: error: {one_line(error)}", file=sys.stderr)
            return 1
        except Exception:
            if not interruption.interrupted():
                raise
            # What TensorFlow made of a KeyboardInterrupt in the middle of its work.
            return _interrupted(name, module)
        except KeyboardInterrupt:
            return _interrupted(name, module)


def _interrupted(command: str, module) -> int:
    """Say that ``command`` was interrupted, and what to do next; the exit code of Ctrl-C."""
    hint = getattr(module, "INTERRUPTED", None)
    how = "terminated (SIGTERM)" if interruption.terminated() else "interrupted"
    print(f"cellseg {command}: {how}{f'; {hint}' if hint else ''}", file=sys.stderr)
    return 143 if interruption.terminated() else 130


def _one_line_warnings(command: str, show):
    """A `warnings.showwarning` that prints cellseg's own warnings about a file as one line,
    ``cellseg CMD: warning: <file>: ...``, and leaves the others to ``show``."""

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, CellsegWarning):
            from cellseg.batch import one_line

            print(f"cellseg {command}: warning: {one_line(message)}", file=sys.stderr)
        else:
            show(message, category, filename, lineno, file, line)

    return showwarning
