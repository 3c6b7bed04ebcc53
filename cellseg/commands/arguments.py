"""The command line's shared options and argument types (argparse), for the commands alone.

The layers below the commands (image I/O, preprocessing, networks) never import argparse:
they take plain values, such as an `OutlineStyle`, which these helpers build.
"""

import argparse

from cellseg.annotations import OutlineStyle

#: Largest blur, in pixels of standard deviation: the kernel reaches 4 sigma each way, and
#: its cost grows with it (1e6 took more than 10 minutes on a 256 x 256 image).
MAX_SIGMA = 200
#: Range of the enlargement before the network (``--scale``): beyond it cells are a pixel
#: across or larger than the network sees, and are not found.
SCALE_RANGE = (0.1, 10)
#: Largest DAB-positive threshold, in optical density: black reads 2.41 (see
#: `cellseg.postprocessing.measurements`).
MAX_OPTICAL_DENSITY = 3
#: Largest tile side, in pixels (a larger tile than the image is the image itself).
MAX_TILE = 65536
#: Largest synthetic image side, in pixels, and number of synthetic images.
MAX_SYNTHETIC_SIDE = 4096
MAX_SYNTHETIC_COUNT = 10000
#: Seeds of numpy's generators: whole numbers that fit 32 bits.
MAX_SEED = 2**32 - 1
#: TCP ports; 0 asks for any free one.
MAX_PORT = 65535


#: How a model is named on the command line.
MODEL_HELP = (
    "the model: 'default' (shipped with cellseg), the name of a model you trained (in the "
    "models folder, --models-dir), or a model folder"
)


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """The ``MODEL`` argument and ``--models-dir``, for commands that use a trained model."""
    parser.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    add_models_dir_argument(parser)


def add_models_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--models-dir``: where the user's models are (see `models_folder`)."""
    parser.add_argument(
        "--models-dir",
        metavar="DIR",
        help="folder of your models (default: the folder the CELLSEG_MODELS environment "
        "variable names, else trained_models/ in the working folder or in the nearest "
        "folder above it that has one)",
    )


def add_overwrite_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--overwrite`` flag that every writing command shares."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace output files that already exist (by default they are kept and reported)",
    )


def blur_sigma(text: str) -> float:
    """argparse type: a Gaussian's standard deviation in pixels, 0 to `MAX_SIGMA`."""
    return _number_between(text, 0, MAX_SIGMA)


def scale_factor(text: str) -> float:
    """argparse type: an enlargement factor within `SCALE_RANGE`."""
    return _number_between(text, *SCALE_RANGE)


def scale_or_auto(text: str) -> float | str:
    """argparse type: ``auto``, or an enlargement factor within `SCALE_RANGE` (`scale_factor`)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be auto or a number, got {text}") from None
    return scale_factor(text)


def optical_density(text: str) -> float:
    """argparse type: an optical density from 0 to `MAX_OPTICAL_DENSITY`."""
    return _number_between(text, 0, MAX_OPTICAL_DENSITY)


def threshold_or_auto(text: str) -> float | str:
    """argparse type: ``auto``, or an optical density (`optical_density`)."""
    if text.strip().lower() == "auto":
        return "auto"
    return optical_density(text)


def confidence_level(text: str) -> float:
    """argparse type: a confidence from 0 to 1."""
    return _number_between(text, 0, 1)


def pixel_size(text: str) -> float:
    """argparse type: micrometres per pixel, 0.01 to 100."""
    return _number_between(text, 0.01, 100)


def add_positivity_argument(parser: argparse.ArgumentParser) -> None:
    """``--positive-threshold [OD|auto]``: count DAB-positive cells, only when asked."""
    from cellseg.postprocessing.positivity import DEFAULT_POSITIVE_THRESHOLD

    parser.add_argument(
        "--positive-threshold",
        type=threshold_or_auto,
        nargs="?",
        const=DEFAULT_POSITIVE_THRESHOLD,
        metavar="OD|auto",
        help="count DAB-positive cells (haematoxylin + DAB sections): those whose mean DAB "
        "optical density reaches OD (QuPath's scale; without a value "
        f"{DEFAULT_POSITIVE_THRESHOLD}), or 'auto': a threshold told from each image's "
        "cells, when they make a DAB-positive group. Without it, no positivity is counted "
        "(in H&E it means nothing)",
    )


def fraction(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    return _number_between(text, 0, 1)


def tile_side(text: str) -> int:
    """argparse type: a tile side in pixels, 1 to `MAX_TILE`."""
    return _number_between(text, 1, MAX_TILE, whole=True)


def tile_overlap(text: str) -> int:
    """argparse type: pixels shared by neighbouring tiles, 0 to `MAX_TILE` - 1."""
    return _number_between(text, 0, MAX_TILE - 1, whole=True)


def synthetic_side(text: str) -> int:
    """argparse type: a synthetic image's side in pixels, 1 to `MAX_SYNTHETIC_SIDE`."""
    return _number_between(text, 1, MAX_SYNTHETIC_SIDE, whole=True)


def synthetic_count(text: str) -> int:
    """argparse type: a number of synthetic images, 1 to `MAX_SYNTHETIC_COUNT`."""
    return _number_between(text, 1, MAX_SYNTHETIC_COUNT, whole=True)


def random_seed(text: str) -> int:
    """argparse type: a random seed, 0 to `MAX_SEED`."""
    return _number_between(text, 0, MAX_SEED, whole=True)


def port_number(text: str) -> int:
    """argparse type: a TCP port, 1 to `MAX_PORT`, or 0 for any free port."""
    return _number_between(text, 0, MAX_PORT, whole=True, note=" (0: any free port)")


def outline_width(text: str) -> int:
    """argparse type: an outline's width in pixels, 1 to 20."""
    return _number_between(text, 1, 20, whole=True)


def _number_between(text: str, low, high, *, whole: bool = False, note: str = ""):
    """``text`` as a finite number from ``low`` to ``high`` (both included), or the usage
    error that says that range: ``must be a number between 0 and 200, got 1e6``."""
    kind = "a whole number" if whole else "a number"
    between = f"between {_shown(low)} and {_shown(high)}"
    problem = f"must be {kind} {between}{note}, got {text}"
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None
    if low > 0 and value <= 0:  # the commonest slip, said as such
        problem = f"must be above 0 ({kind} {between}), got {text}"
    if not low <= value <= high:  # also refuses NaN
        raise argparse.ArgumentTypeError(problem)
    return value


def _shown(bound) -> str:
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


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
    return _number_between(text, 0, 255, whole=True)


#: Colours an outline may be given by name (or as ``#rrggbb``).
COLOURS = {
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "cyan": (0, 255, 255),
    "magenta": (255, 0, 255),
    "white": (255, 255, 255),
    "black": (0, 0, 0),
}


def colour(text: str) -> tuple[int, int, int]:
    """argparse type: a colour name of `COLOURS`, or ``#rrggbb``."""
    name = text.strip().lower()
    if name in COLOURS:
        return COLOURS[name]
    if len(name) == 7 and name.startswith("#"):
        try:
            return tuple(int(name[index : index + 2], 16) for index in (1, 3, 5))
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(
        f"must be one of {', '.join(COLOURS)} or #rrggbb, got {text!r}"
    )


def add_overlay_arguments(parser: argparse.ArgumentParser) -> None:
    """How cells are drawn over the image in ``<stem>_overlay.png``."""
    from cellseg.postprocessing.drawing import OverlayStyle

    default = OverlayStyle()
    group = parser.add_argument_group("overlay")
    group.add_argument(
        "--outline-width",
        type=outline_width,
        default=default.width,
        metavar="PIXELS",
        help=f"width of the outlines drawn over the image ({default.width}); the outline "
        "layer <stem>_outlines.png stays one pixel, the annotation format",
    )
    group.add_argument(
        "--outline-colour",
        type=colour,
        default=default.colour,
        metavar="COLOUR",
        help="their colour: a name (red, green, blue, yellow, cyan, magenta, white, black) "
        "or #rrggbb (red). With --positive-threshold, positive cells are drawn red and "
        "negative ones blue, as QuPath draws its classes",
    )


def overlay_style(arguments: argparse.Namespace):
    """The `OverlayStyle` from parsed `add_overlay_arguments` options."""
    from cellseg.postprocessing.drawing import OverlayStyle

    return OverlayStyle(width=arguments.outline_width, colour=arguments.outline_colour)
