"""The command line's shared options and argument types (argparse), for the commands alone.

The layers below the commands (image I/O, preprocessing, networks) never import argparse:
they take plain values, such as an `OutlineStyle`, which these helpers build.
"""

import argparse

from cellseg.annotations import OutlineStyle


def add_overwrite_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--overwrite`` flag that every writing command shares."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace output files that already exist (by default they are kept and reported)",
    )


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a number of at least 0."""
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number above 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def scale_or_auto(text: str) -> float | str:
    """argparse type: ``auto``, or a number above 0 (`positive_float`)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return positive_float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be auto or a number, got {text}") from None


def add_outline_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say how outlines are drawn (`OutlineStyle`)."""
    group = parser.add_argument_group("outline colour")
    group.add_argument(
        "--channel",
        choices=("red", "green", "blue"),
        default="red",
        help="colour the outlines are drawn in (red)",
    )
    group.add_argument(
        "--threshold",
        type=_byte,
        default=128,
        help="0-255: the channel must reach this and the other colours stay below it (128)",
    )
    group.add_argument(
        "--alpha-threshold",
        type=_byte,
        default=128,
        help="0-255: least opacity of an outline pixel; ignored for RGB layers (128)",
    )


def outline_style(arguments: argparse.Namespace) -> OutlineStyle:
    """The `OutlineStyle` from parsed `add_outline_arguments` options."""
    return OutlineStyle(arguments.channel, arguments.threshold, arguments.alpha_threshold)


def shard(text: str) -> tuple[int, int]:
    """argparse type: 'K/N' with 1 <= K <= N."""
    try:
        part, total = (int(value) for value in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N such as 3/10, got {text!r}") from None
    if not 1 <= part <= total:
        raise argparse.ArgumentTypeError(f"K must be between 1 and N, got {text!r}")
    return part, total


def _byte(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 255:
        raise argparse.ArgumentTypeError(f"must be between 0 and 255, got {value}")
    return value
