"""Training hyperparameters: each one's definition, and reading them from a user's file.

A hyperparameters file is plain Python assigning upper-case names, e.g. ``BATCH_SIZE = 8``.
Each name is defined in one place, its field of `Hyperparameters`: the name in the file,
the default, the values allowed, whether a file must set it and one line saying what it
does. `DEFINITIONS` lists them; ``cellseg train --help`` names them from it, and the
README's table of hyperparameters (which explains each at more length) and
``scripts/examples/hyperparameters.py`` are tested against it. `hyperparameter_checks`
reads a user's file against these definitions.

Each field also says what fine-tuning a trained model (``cellseg train --from``) sets it
to where no file does: its own value (a short schedule, a lower learning rate warmed up),
or `PARENT`, the parent model's (its augmentation, tiles and loss); see
`fine_tuning_hyperparameters`.
"""

import math
import types
from dataclasses import asdict, dataclass, field, fields, replace

#: A hyperparameter that fine-tuning takes from the parent model's training record.
PARENT = "the parent's"


def _hyperparameter(
    default,
    name: str,
    description: str,
    *,
    lowest=None,
    highest=None,
    choices: tuple = (),
    required: bool = False,
    fine_tuning=PARENT,
):
    """A field of `Hyperparameters` carrying its definition (see `Definition`)."""
    metadata = {
        "name": name,
        "description": description,
        "lowest": lowest,
        "highest": highest,
        "choices": choices,
        "required": required,
        "fine_tuning": fine_tuning,
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
        fine_tuning=10,
    )
    learning_rate: float = _hyperparameter(
        1e-3,
        "LEARNING_RATE",
        "Adam's initial step size, decaying along a cosine to 5% of it over the epochs",
        lowest=1e-12,
        highest=10.0,
        required=True,
        fine_tuning=2e-4,
    )
    validation_split: float = _hyperparameter(
        0.2,
        "VALIDATION_SPLIT",
        "fraction of the images held out, whole, for validation",
        lowest=0.0,
        highest=0.9,
        required=True,
        fine_tuning=0.2,
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
        "training steps per epoch; None: about every training pixel once per epoch "
        "(fine-tuning: 16 times, in 30 to 120 steps)",
        lowest=1,
        highest=1_000_000,
        fine_tuning=None,
    )
    warmup_epochs: int = _hyperparameter(
        0,
        "WARMUP_EPOCHS",
        "epochs over which the learning rate rises step by step from 0 to LEARNING_RATE",
        lowest=0,
        highest=100_000,
        fine_tuning=1,
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
        fine_tuning=0.0,
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
    fine_tuning : int, float, str or None
        Its value when fine-tuning a model (``--from``) and no file sets it; `PARENT`:
        the parent model's.
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
    fine_tuning: object = PARENT
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


#: Fine-tuning with ``STEPS_PER_EPOCH`` None: each epoch sees the training pixels this many
#: times, in steps within these bounds (one image of a few hundred thousand pixels gets as
#: many as the lower; ten of a megapixel take under 10 minutes on 2 CPU cores).
FINE_TUNING_PASSES = 16
FINE_TUNING_STEPS = (30, 120)


def epoch_steps(hyperparameters: Hyperparameters, pixels: int, *, fine_tuning: bool) -> int:
    """Steps per epoch: ``STEPS_PER_EPOCH``, or without it as many as cover ``pixels``
    (the training images') once, fine-tuning `FINE_TUNING_PASSES` times within
    `FINE_TUNING_STEPS`: more images, more steps.

    Examples
    --------
    >>> tiles = Hyperparameters(batch_size=8, tile_size=256)
    >>> [epoch_steps(tiles, 8 * 520 * 696, fine_tuning=tuning) for tuning in (False, True)]
    [6, 89]
    >>> [epoch_steps(tiles, pixels, fine_tuning=True) for pixels in (2 * 520 * 696, 8e6)]
    [30, 120]
    """
    if hyperparameters.steps_per_epoch:
        return hyperparameters.steps_per_epoch
    batches = pixels / (hyperparameters.tile_size**2 * hyperparameters.batch_size)
    if not fine_tuning:
        return max(1, math.ceil(batches))
    fewest, most = FINE_TUNING_STEPS
    return min(most, max(fewest, math.ceil(FINE_TUNING_PASSES * batches)))


def fine_tuning_hyperparameters(parent: Hyperparameters) -> Hyperparameters:
    """The hyperparameters of fine-tuning a model trained with ``parent``: the parent's,
    with the fine-tuning value of each hyperparameter that has one.

    Examples
    --------
    >>> tuned = fine_tuning_hyperparameters(Hyperparameters(zoom=0.5, epochs=70))
    >>> tuned.zoom, tuned.epochs, tuned.learning_rate, tuned.warmup_epochs
    (0.5, 10, 0.0002, 1)
    """
    changes = {
        definition.attribute: definition.fine_tuning
        for definition in DEFINITIONS
        if definition.fine_tuning != PARENT
    }
    return replace(parent, **changes)


if Hyperparameters.__doc__:  # None under python -OO
    # help(Hyperparameters) lists the fields as numpydoc does, from their definitions.
    Hyperparameters.__doc__ += "\n\n    Attributes\n    ----------\n" + "".join(
        f"    {definition.attribute} : {definition.kind.__name__}"
        f"{' or None' if definition.accepts_none else ''}\n"
        f"        ``{definition.name}`` in a file: {definition.description}.\n"
        for definition in DEFINITIONS
    )
