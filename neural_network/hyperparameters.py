"""Training hyperparameters: each one's definition, and reading them from a user's file.

A hyperparameters file is plain Python assigning upper-case names, e.g. ``BATCH_SIZE = 8``.
Each name is defined in one place, its field of `Hyperparameters`: the name in the file,
the default, the values allowed, whether a file must set it and one line saying what it
does. `DEFINITIONS` lists them; ``cellseg train --help`` names them from it, and the
README's table of hyperparameters (which explains each at more length) and
``scripts/examples/hyperparameters.py`` are tested against it. Every problem in a file is
reported, each in a few words, before anything is trained.
"""

import difflib
import math
import numbers
import types
from dataclasses import asdict, dataclass, field, fields

#: The widest layer of the default U-Net, ``BASE_FILTERS * 2**DEPTH`` filters at its deepest
#: level, allowed (256 by default): beyond it the weights alone fill a GPU's memory.
WIDEST_UNET_LAYER = 4096

#: The side in pixels of the window the most zoomed-out training tiles are cut from,
#: ``TILE_SIZE * (1 + ZOOM * AUGMENTATION)``, allowed (320 by default): each such window is
#: converted to float32 for every tile, several at a time.
WIDEST_TILE_WINDOW = 8192


def _hyperparameter(
    default,
    name: str,
    description: str,
    *,
    lowest=None,
    highest=None,
    choices: tuple = (),
    required: bool = False,
):
    """A field of `Hyperparameters` carrying its definition (see `Definition`)."""
    metadata = {
        "name": name,
        "description": description,
        "lowest": lowest,
        "highest": highest,
        "choices": choices,
        "required": required,
    }
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Hyperparameters:
    """Everything that shapes a training run besides the data, the loss and the network."""

    batch_size: int = _hyperparameter(
        8,
        "BATCH_SIZE",
        "tiles per training step, shared among the devices",
        lowest=1,
        highest=1024,
        required=True,
    )
    epochs: int = _hyperparameter(
        40,
        "EPOCHS",
        "training epochs, each of STEPS_PER_EPOCH steps",
        lowest=1,
        highest=100_000,
        required=True,
    )
    learning_rate: float = _hyperparameter(
        1e-3,
        "LEARNING_RATE",
        "Adam's initial step size, decaying along a cosine to 5% of it over the epochs",
        lowest=1e-12,
        highest=10.0,
        required=True,
    )
    validation_split: float = _hyperparameter(
        0.2,
        "VALIDATION_SPLIT",
        "fraction of the images held out, whole, for validation",
        lowest=0.0,
        highest=0.9,
        required=True,
    )
    tile_size: int = _hyperparameter(
        256,
        "TILE_SIZE",
        "side in pixels of the square training tiles, a multiple of 2**DEPTH",
        lowest=16,
        highest=4096,
    )
    steps_per_epoch: int | None = _hyperparameter(
        None,
        "STEPS_PER_EPOCH",
        "training steps per epoch; None: about every training pixel once per epoch",
        lowest=1,
        highest=1_000_000,
    )
    augmentation: float = _hyperparameter(
        1.0,
        "AUGMENTATION",
        "strength of the random zoom, flips, rotations and stain jitter; 0 turns them off",
        lowest=0.0,
        highest=10.0,
    )
    base_filters: int = _hyperparameter(
        16,
        "BASE_FILTERS",
        "filters of the default U-Net's first level, doubled at each level down",
        lowest=1,
        highest=512,
    )
    depth: int = _hyperparameter(4, "DEPTH", "poolings of the default U-Net", lowest=1, highest=8)
    test_time_flips: int = _hyperparameter(
        1,
        "TEST_TIME_FLIPS",
        "flipped views of an image averaged when predicting: 1, 2 or 4, each slower",
        choices=(1, 2, 4),
    )
    separation_weight: float = _hyperparameter(
        0.0,
        "SEPARATION_WEIGHT",
        "added to the default 3class loss's weight of the pixels between touching cells",
        lowest=0.0,
        highest=1000.0,
    )
    class_balance: float = _hyperparameter(
        1.0,
        "CLASS_BALANCE",
        "the default loss weighs each class by its inverse frequency to this power",
        lowest=0.0,
        highest=1.0,
    )
    dice_weight: float = _hyperparameter(
        1.0,
        "DICE_WEIGHT",
        "weight of the default loss's soft Dice term against its cross-entropy",
        lowest=0.0,
        highest=100.0,
    )
    boundary_width: int = _hyperparameter(
        1,
        "BOUNDARY_WIDTH",
        "width in pixels of the 3class target's cell boundary",
        lowest=1,
        highest=8,
    )
    zoom: float = _hyperparameter(
        0.25,
        "ZOOM",
        "training tiles are zoomed by a random factor from 1/(1 + ZOOM) to 1 + ZOOM",
        lowest=0.0,
        highest=3.0,
    )
    stain: float = _hyperparameter(
        0.15,
        "STAIN",
        "each stain's density in a training tile is multiplied by a random 1 +- STAIN",
        lowest=0.0,
        highest=0.9,
    )
    pale: float = _hyperparameter(
        0.7,
        "PALE",
        "half the training tiles lose up to this fraction of their haematoxylin",
        lowest=0.0,
        highest=0.9,
    )
    dab: float = _hyperparameter(
        0.5,
        "DAB",
        "the chance that a training tile's eosin is re-coloured as DAB brown",
        lowest=0.0,
        highest=1.0,
    )
    blur: float = _hyperparameter(
        0.0,
        "BLUR",
        "half the training tiles are blurred by a Gaussian of up to this many pixels",
        lowest=0.0,
        highest=5.0,
    )
    noise: float = _hyperparameter(
        0.0,
        "NOISE",
        "noise of up to this fraction of the 0-255 range is added to the training tiles",
        lowest=0.0,
        highest=0.5,
    )
    rotation: float = _hyperparameter(
        0.0,
        "ROTATION",
        "training tiles are also turned by up to this many degrees either way",
        lowest=0.0,
        highest=180.0,
    )
    elastic: float = _hyperparameter(
        0.0,
        "ELASTIC",
        "training tiles are bent smoothly by random displacements of this many pixels",
        lowest=0.0,
        highest=20.0,
    )
    crowded: float = _hyperparameter(
        0.0,
        "CROWDED",
        "the share of training tiles centred near a pixel where two cells touch",
        lowest=0.0,
        highest=1.0,
    )
    precision: str = _hyperparameter(
        "float32",
        "PRECISION",
        "Keras' dtype policy while training",
        choices=("float32", "mixed_bfloat16", "mixed_float16"),
    )
    weight_average: float = _hyperparameter(
        0.0,
        "WEIGHT_AVERAGE",
        "momentum of a moving average of the weights, which validation and the saved "
        "networks use; 0 keeps none",
        lowest=0.0,
        highest=0.99999,
    )

    def to_dict(self) -> dict:
        """The values by field name, as a model folder's ``config.json`` stores them."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Hyperparameters":
        """Hyperparameters from `to_dict`'s values; names since removed are ignored and
        names added since take their defaults, so older model folders keep loading."""
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


@dataclass(frozen=True)
class Definition:
    """One hyperparameter as users write it, read from its field of `Hyperparameters`.

    Attributes
    ----------
    name : str
        The upper-case name in a hyperparameters file, e.g. ``"BATCH_SIZE"``.
    attribute : str
        The field of `Hyperparameters` it sets, e.g. ``"batch_size"``.
    kind : {int, float, str}
        The type of its values.
    default : int, float, str or None
        Its value when a file does not set it, and without a file.
    description : str
        What it does, in one line.
    lowest, highest : int, float or None
        The values allowed, both included; None: no bound.
    choices : tuple
        The only values allowed, when not empty.
    required : bool
        Whether every hyperparameters file must set it.
    accepts_none : bool
        Whether None is a value (its default is None).
    """

    name: str
    attribute: str
    kind: type
    default: object
    description: str
    lowest: object = None
    highest: object = None
    choices: tuple = ()
    required: bool = False
    accepts_none: bool = False


def _definition(attribute) -> Definition:
    """The `Definition` that a field of `Hyperparameters` carries."""
    kinds = getattr(attribute.type, "__args__", (attribute.type,))  # int | None: both
    accepts_none = isinstance(attribute.type, types.UnionType) and type(None) in kinds
    kind = next(kind for kind in kinds if kind is not type(None))
    return Definition(
        attribute=attribute.name,
        kind=kind,
        default=attribute.default,
        accepts_none=accepts_none,
        **attribute.metadata,
    )


#: Every hyperparameter, in the order of the README's table.
DEFINITIONS: tuple[Definition, ...] = tuple(map(_definition, fields(Hyperparameters)))

if Hyperparameters.__doc__:  # None under python -OO
    # help(Hyperparameters) lists the fields as numpydoc does, from their definitions.
    Hyperparameters.__doc__ += "\n\n    Attributes\n    ----------\n" + "".join(
        f"    {definition.attribute} : {definition.kind.__name__}"
        f"{' or None' if definition.accepts_none else ''}\n"
        f"        ``{definition.name}`` in a file: {definition.description}.\n"
        for definition in DEFINITIONS
    )


def hyperparameters_from_names(names: dict) -> tuple[Hyperparameters, list[str]]:
    """Build hyperparameters from the upper-case names of a user's file.

    Parameters
    ----------
    names : dict
        Name -> value, e.g. ``{"BATCH_SIZE": 8, "EPOCHS": 40}``. Names starting with an
        underscore are the file's own helpers, and ignored.

    Returns
    -------
    (Hyperparameters, list of str)
        The hyperparameters, only meaningful when the list is empty, and every problem:
        missing required names, unknown names (with the close ones), wrong types,
        values out of range, and combinations the default U-Net or the tiles cannot take.

    Examples
    --------
    >>> hyperparameters, problems = hyperparameters_from_names(
    ...     {"BATCH_SIZE": 4, "EPOCHS": 2, "LEARNING_RATE": 1e-3, "VALIDATION_SPLIT": 0.2}
    ... )
    >>> hyperparameters.batch_size, problems
    (4, [])
    >>> hyperparameters_from_names({"BATCH_SIZE": 4, "EPOCH": 2})[1][-1]
    'EPOCH is not a hyperparameter; did you mean EPOCHS?'
    """
    problems, values, invalid = [], {}, set()
    for definition in DEFINITIONS:
        if definition.name not in names:
            if definition.required:
                problems.append(f"{definition.name} is missing")
            continue
        value = names[definition.name]
        problem = _problem(definition, value)
        if problem:
            problems.append(f"{definition.name} {problem}")
            invalid.add(definition.name)
        else:
            values[definition.attribute] = None if value is None else definition.kind(value)
    problems.extend(_unknown_names(names))
    hyperparameters = Hyperparameters(**values)
    problems.extend(_combination_problems(hyperparameters, invalid))
    return hyperparameters, problems


def _problem(definition: Definition, value) -> str | None:
    """What is wrong with one value, e.g. ``"must be >= 1, not -2"``; None if nothing."""
    if value is None and definition.accepts_none:
        return None
    if definition.kind is int and (
        isinstance(value, bool) or not isinstance(value, numbers.Integral)
    ):
        return f"must be a whole number, not {value!r}"
    if definition.kind is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"must be a number, not {value!r}"
        # A NaN passes every comparison with a bound, and an infinity would reach the
        # network; whole numbers are finite (and may be too large for a float).
        if not isinstance(value, numbers.Integral) and not math.isfinite(value):
            return f"must be a finite number, not {value!r}"
    if definition.kind is str and not isinstance(value, str):
        return f"must be a string, not {value!r}"
    lowest, highest = definition.lowest, definition.highest
    if (lowest is not None and value < lowest) or (highest is not None and value > highest):
        bound = f"between {lowest} and {highest}" if highest is not None else f">= {lowest}"
        return f"must be {bound}, not {value!r}"
    if definition.choices and value not in definition.choices:
        return f"must be one of {', '.join(map(str, definition.choices))}, not {value!r}"
    return None


def _unknown_names(names: dict) -> list[str]:
    """A problem for each upper-case name that is no hyperparameter, naming the close ones."""
    known = [definition.name for definition in DEFINITIONS]
    problems = []
    for name in names:
        if name in known or name.startswith("_"):
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = (
            f"did you mean {close[0]}?"
            if close
            else "the names are listed by cellseg train --help (helpers may start with _)"
        )
        problems.append(f"{name} is not a hyperparameter; {hint}")
    return problems


def _combination_problems(hyperparameters: Hyperparameters, invalid: set[str]) -> list[str]:
    """Problems of values allowed alone but not together; a combination with an ``invalid``
    name (already reported, and replaced by its default) is not checked."""
    tile, depth = hyperparameters.tile_size, hyperparameters.depth
    filters = hyperparameters.base_filters
    problems = []
    if not {"TILE_SIZE", "DEPTH"} & invalid and tile % 2**depth:
        problems.append(
            f"TILE_SIZE must be a multiple of 2**DEPTH = {2**depth} (the default U-Net halves "
            f"its tiles DEPTH times), not {tile}"
        )
    if not {"BASE_FILTERS", "DEPTH"} & invalid and filters * 2**depth > WIDEST_UNET_LAYER:
        problems.append(
            f"BASE_FILTERS × 2**DEPTH, the filters of the default U-Net's deepest level, must "
            f"be at most {WIDEST_UNET_LAYER}, not {filters} × {2**depth}"
        )
    window = tile * (1 + hyperparameters.zoom * hyperparameters.augmentation)
    if not {"TILE_SIZE", "ZOOM", "AUGMENTATION"} & invalid and window > WIDEST_TILE_WINDOW:
        problems.append(
            f"TILE_SIZE × (1 + ZOOM × AUGMENTATION), the side of the image window the most "
            f"zoomed-out training tiles are cut from, must be at most {WIDEST_TILE_WINDOW} "
            f"pixels, not {window:g}"
        )
    return problems
