"""Training hyperparameters: their defaults, and reading them from a user's Python file.

A hyperparameters file is plain Python assigning upper-case names::

    BATCH_SIZE = 8
    EPOCHS = 40
    LEARNING_RATE = 1e-3
    VALIDATION_SPLIT = 0.2
    TILE_SIZE = 256          # optional names below
    STEPS_PER_EPOCH = 100
    AUGMENTATION = 1.0
    BASE_FILTERS = 16
    DEPTH = 4
    TEST_TIME_FLIPS = 1      # 1, 2 or 4 flipped views averaged at prediction
    SEPARATION_WEIGHT = 0.0  # extra loss weight of the pixels between touching cells
    CLASS_BALANCE = 1.0      # loss weights: inverse class frequency to this power
    BOUNDARY_WIDTH = 1       # pixels of the 3class target's cell boundary
    ZOOM = 0.25              # tiles zoomed by 1/(1 + ZOOM) to 1 + ZOOM
    STAIN = 0.15             # each stain's density multiplied by 1 +- STAIN
    PALE = 0.7               # half the tiles lose up to this fraction of haematoxylin
    DAB = 0.5                # chance a tile's eosin is re-coloured as DAB brown
    PRECISION = "float32"    # or "mixed_bfloat16", "mixed_float16": faster where supported
    WEIGHT_AVERAGE = 0.0     # e.g. 0.999: keep the weights' moving average (0: none)

The first four are required; every problem in the file is reported in one line.
"""

from dataclasses import asdict, dataclass, fields

#: File name -> (field, type, lowest value allowed, highest or None, required).
_NAMES = {
    "BATCH_SIZE": ("batch_size", int, 1, None, True),
    "EPOCHS": ("epochs", int, 1, None, True),
    "LEARNING_RATE": ("learning_rate", float, 1e-12, 10.0, True),
    "VALIDATION_SPLIT": ("validation_split", float, 0.0, 0.9, True),
    "TILE_SIZE": ("tile_size", int, 16, 4096, False),
    "STEPS_PER_EPOCH": ("steps_per_epoch", int, 1, None, False),
    "AUGMENTATION": ("augmentation", float, 0.0, 10.0, False),
    "BASE_FILTERS": ("base_filters", int, 1, 512, False),
    "DEPTH": ("depth", int, 1, 8, False),
    "TEST_TIME_FLIPS": ("test_time_flips", int, 1, 4, False),
    "SEPARATION_WEIGHT": ("separation_weight", float, 0.0, 1000.0, False),
    "CLASS_BALANCE": ("class_balance", float, 0.0, 1.0, False),
    "DICE_WEIGHT": ("dice_weight", float, 0.0, 100.0, False),
    "BOUNDARY_WIDTH": ("boundary_width", int, 1, 8, False),
    "ZOOM": ("zoom", float, 0.0, 3.0, False),
    "STAIN": ("stain", float, 0.0, 0.9, False),
    "PALE": ("pale", float, 0.0, 0.9, False),
    "DAB": ("dab", float, 0.0, 1.0, False),
    "BLUR": ("blur", float, 0.0, 5.0, False),
    "NOISE": ("noise", float, 0.0, 0.5, False),
    "ROTATION": ("rotation", float, 0.0, 180.0, False),
    "ELASTIC": ("elastic", float, 0.0, 20.0, False),
    "CROWDED": ("crowded", float, 0.0, 1.0, False),
    "PRECISION": ("precision", str, None, None, False),
    "WEIGHT_AVERAGE": ("weight_average", float, 0.0, 0.99999, False),
}

#: Names whose values must be one of a few.
_CHOICES = {
    "TEST_TIME_FLIPS": (1, 2, 4),
    "PRECISION": ("float32", "mixed_bfloat16", "mixed_float16"),
}


@dataclass(frozen=True)
class Hyperparameters:
    """Everything that shapes a training run besides the data, the loss and the network.

    Attributes
    ----------
    batch_size : int
        Tiles per step, over all devices.
    epochs : int
    learning_rate : float
        Adam's initial step size; it then decays along a cosine to 5% over the epochs.
    validation_split : float
        Fraction of the images (whole images) held out for validation.
    tile_size : int
        Side of the square training tiles.
    steps_per_epoch : int or None
        Steps per epoch; None sees about every training pixel once per epoch.
    augmentation : float
        Strength of the random zoom, flips, rotations and stain jitter; 0 turns them off.
        Stain and contrast factors stay within 1 +- 0.9 however strong, so that no tile's
        colours are inverted.
    base_filters, depth : int
        Width and depth of the default U-Net (ignored with a user's architecture).
    test_time_flips : {1, 2, 4}
        Flipped views of an image whose outputs are averaged when the model predicts (and
        when its post-processing thresholds are tuned on the validation images): more
        views, smoother output, proportionally slower prediction.
    separation_weight : float
        Added to the default ``3class`` loss's weight of the pixels between neighbouring
        cells (`cellseg.neural_network.losses.separation`), so that the network learns to
        keep touching cells apart; 0 for none. Ignored with a user's loss.
    class_balance : float
        The default loss weighs each class by the inverse of its frequency to this power:
        1 (the default) the inverse frequency, so that rare boundaries count as much as the
        background; 0.5 its square root, which predicts thinner boundaries; 0 no weighting.
        Ignored with a user's loss.
    dice_weight : float
        Weight of the default loss's soft Dice term against its cross-entropy: 1 (the
        default), 0 for the cross-entropy alone. Ignored with a user's loss.
    boundary_width : int
        Width in pixels of the boundary class of the ``3class`` target
        (`cellseg.preprocessing.targets.three_class`): wider leaves the interiors of
        crowded cells further apart, which prediction's watershed then grows back.
    zoom : float
        Training tiles are zoomed by a random factor from 1/(1 + zoom) to 1 + zoom (the
        range widened further by ``augmentation``), so that the network meets cells of
        more sizes than the training images hold.
    stain : float
        Each stain's optical density in a training tile (haematoxylin, eosin, DAB) is
        multiplied by a random 1 +- ``stain`` and shifted (colour augmentation in stain space,
        Tellez et al. 2018), for the colours of other labs and scanners; 0.15.
    pale : float
        Half the training tiles lose a random fraction, up to ``pale``, of their
        haematoxylin (`cellseg.preprocessing.augmentation.Augmentation`): the nuclei of
        immunohistochemistry sections are often much paler than those of H&E.
    dab : float
        The chance that a training tile's eosin is re-coloured as DAB brown, so that H&E
        tiles also look like haematoxylin + DAB sections (0.5, half of them; 0 never).
    blur : float
        Half the training tiles are blurred by a Gaussian of standard deviation up to
        ``blur`` pixels, as slides scanned slightly out of focus; 0 (the default) never.
    noise : float
        Gaussian noise of standard deviation up to ``noise`` of the 0-255 range is added to
        the training tiles; 0 (the default) none.
    rotation : float
        Training tiles are turned by a random angle of up to ``rotation`` degrees either
        way, besides their quarter turns and flips (45 reaches every angle); 0 (the
        default) quarter turns only.
    elastic : float
        Training tiles are bent smoothly by random displacements of this standard deviation
        in pixels, at a 5 x 5 grid of points over the tile, as in the U-Net paper; 0 (the
        default) none.
    crowded : float
        The share of training tiles centred near a pixel where two cells touch, drawn
        among all such pixels of the image, the rest placed anywhere: crowded regions,
        where touching cells must be told apart, are then seen more often; 0 (the default)
        none.
    precision : {"float32", "mixed_bfloat16", "mixed_float16"}
        Keras' dtype policy while training: the mixed ones compute in 16 bits and keep the
        weights in float32, faster on GPUs and on CPUs with bfloat16 instructions (see
        benchmarks/train_step_precision.py), much slower where they are emulated. The saved
        networks compute in float32 whatever the policy, so they predict alike everywhere.
    weight_average : float
        When above 0, the momentum of an exponential moving average of the weights, kept
        after every step (Polyak averaging; Keras' ``use_ema``): the validation loss is
        measured, and ``best.keras`` and ``model.keras`` saved, with the averaged weights,
        while training goes on with the raw ones. 0.999 averages over about the last
        thousand steps. The batch normalisation statistics are the raw weights', so early
        epochs, while the weights still move fast, validate worse than without the average.
        0 (the default) keeps no average.
    """

    batch_size: int = 8
    epochs: int = 40
    learning_rate: float = 1e-3
    validation_split: float = 0.2
    tile_size: int = 256
    steps_per_epoch: int | None = None
    augmentation: float = 1.0
    base_filters: int = 16
    depth: int = 4
    test_time_flips: int = 1
    separation_weight: float = 0.0
    class_balance: float = 1.0
    dice_weight: float = 1.0
    boundary_width: int = 1
    zoom: float = 0.25
    stain: float = 0.15
    pale: float = 0.7
    dab: float = 0.5
    blur: float = 0.0
    noise: float = 0.0
    rotation: float = 0.0
    elastic: float = 0.0
    crowded: float = 0.0
    precision: str = "float32"
    weight_average: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Hyperparameters":
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


def hyperparameters_from_names(names: dict) -> tuple[Hyperparameters, list[str]]:
    """Build hyperparameters from a module's upper-case names.

    Returns the hyperparameters and the list of problems (missing required names, wrong
    types, values out of range); the hyperparameters are only meaningful when it is empty.
    """
    problems, values = [], {}
    for name, (field, kind, lowest, highest, required) in _NAMES.items():
        if name not in names:
            if required:
                problems.append(f"{name} is missing")
            continue
        value = names[name]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"{name} must be a whole number, not {value!r}")
            continue
        if kind is float and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"{name} must be a number, not {value!r}")
            continue
        if kind is str and not isinstance(value, str):
            problems.append(f"{name} must be a string, not {value!r}")
            continue
        if (lowest is not None and value < lowest) or (highest is not None and value > highest):
            bound = f"between {lowest} and {highest}" if highest is not None else f">= {lowest}"
            problems.append(f"{name} must be {bound}, not {value!r}")
            continue
        if name in _CHOICES and value not in _CHOICES[name]:
            choices = ", ".join(map(str, _CHOICES[name]))
            problems.append(f"{name} must be one of {choices}, not {value!r}")
            continue
        values[field] = kind(value)
    return Hyperparameters(**values), problems
