"""A trained model's configuration (``config.json``): one typed object, one level of keys.

`ModelConfig` holds what is needed to use a model (its target, the size its network's
input must divide by, the test-time flips, the post-processing thresholds, the size of
the cells it learned and their pixel size) and the record of how it was trained (the
run's settings, data, class frequencies, validation scores, libraries, parent model).
Every default lives here. `ModelConfig.from_dict` takes what any earlier version of
cellseg wrote (`migrate`), and refuses an unknown key or a bad value with one line
naming it; `ModelConfig.to_dict` writes the current format.

Importing this module loads no TensorFlow.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from cellseg.neural_network.targets import DEFAULT_TARGET, TARGETS
from cellseg.postprocessing.confidence import Calibration
from cellseg.postprocessing.instances import Thresholds

#: The format `ModelConfig.to_dict` writes. 1: cellseg 0.1's files, which had no
#: ``format`` key, thresholds under ``postprocessing`` and the run under ``settings``.
FORMAT = 2

#: A run that has not finished yet, and a trained model.
STATUSES = ("training", "finished")


@dataclass(frozen=True)
class ModelConfig:
    """Everything a model folder says about its network, besides the weights.

    Attributes
    ----------
    target : str
        What the network outputs (`cellseg.neural_network.targets.TARGETS`).
    name : str
        The model's name when it was trained.
    status : {"training", "finished"}
        ``training`` while a run is unfinished (resumable).
    divisor : int
        The network's input rows and columns must be multiples of this (2 ** depth).
    test_time_flips : {1, 2, 4}
        Flipped views whose outputs are averaged when predicting.
    thresholds : Thresholds
        How the network's output becomes cells, tuned on the validation images.
    calibration : Calibration
        How a cell's raw score becomes the probability that it is a real nucleus
        (`cellseg.postprocessing.confidence`), fitted on the validation images.
    count_spread : float or None
        Root mean square of the relative count errors on the validation images
        (`cellseg.postprocessing.confidence.count_spread`): it widens the count's interval.
        None: not measured (the interval holds the cells' own doubt alone).
    cell_area : float or None
        Median area, in pixels, of the training cells: ``--scale auto`` enlarges images
        whose cells are much smaller.
    pixel_size : float or None
        Micrometres per pixel of the training images, when known.
    normalisation : mapping or None
        Per-channel ``mean`` and ``std`` of the training images (also inside the network).
    haematoxylin : mapping or None
        How strong the training images' haematoxylin is: the ``lowest`` and ``median`` of
        their `counterstain_strength`; a paler counterstain without eosin is strengthened
        to the median before the network (`cellseg.preprocessing.colour.counterstain_factor`).
    class_frequencies : tuple of float or None
        Share of each class of the target in the training data (the default loss's weights).
    best_epoch : int or None
        The epoch whose network is ``best.keras``.
    distribute : bool
        Trained with ``tf.distribute``.
    validation : mapping or None
        Mean scores on the validation images, with the tuned thresholds.
    training : mapping or None
        The run's settings: seed, hyperparameters, augmentation, the users' files, the
        outline style and the data (names and SHA-256); a run resumes only when they agree.
    parent : mapping or None
        The model this one was fine-tuned from: name, SHA-256 of its weights, its config.
    libraries : mapping or None
        Versions of Python and the libraries it was trained with.
    """

    target: str = DEFAULT_TARGET
    name: str = ""
    status: str = "finished"
    divisor: int = 32
    test_time_flips: int = 1
    thresholds: Thresholds = field(default_factory=Thresholds)
    calibration: Calibration = field(default_factory=Calibration)
    count_spread: float | None = None
    cell_area: float | None = None
    pixel_size: float | None = None
    normalisation: Mapping | None = None
    haematoxylin: Mapping | None = None
    class_frequencies: tuple[float, ...] | None = None
    best_epoch: int | None = None
    distribute: bool = False
    validation: Mapping | None = None
    training: Mapping | None = None
    parent: Mapping | None = None
    libraries: Mapping | None = None

    def __post_init__(self):
        problems = _problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_dict(cls, values: Mapping) -> "ModelConfig":
        """A configuration from ``config.json``'s content, of this or any earlier format.

        Raises
        ------
        ValueError
            One line naming each unknown key or bad value.
        """
        if not isinstance(values, Mapping):
            raise ValueError(f"expected a JSON object, got {type(values).__name__}")
        values = migrate(values)
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known - {"format"})
        if unknown:
            raise ValueError(f"unknown key {', '.join(map(repr, unknown))}")
        if "target" not in values:
            raise ValueError("no target: not a cellseg model configuration")
        values = dict(values)
        values.pop("format", None)
        thresholds = values.get("thresholds", {})
        if not isinstance(thresholds, Mapping):
            raise ValueError(f"thresholds must be an object, not {thresholds!r}")
        unknown = sorted(set(thresholds) - {item.name for item in fields(Thresholds)})
        if unknown:
            raise ValueError(f"unknown threshold {', '.join(map(repr, unknown))}")
        values["thresholds"] = Thresholds(**thresholds)
        calibration = values.get("calibration", {})
        if not isinstance(calibration, Mapping) or set(calibration) - {"slope", "intercept"}:
            raise ValueError(
                f"calibration must be an object of slope and intercept, not {calibration!r}"
            )
        values["calibration"] = Calibration(**calibration)
        if values.get("class_frequencies") is not None:
            values["class_frequencies"] = tuple(values["class_frequencies"])
        return cls(**values)

    def to_dict(self) -> dict:
        """The configuration as ``config.json`` holds it, in the current `FORMAT`."""
        values = {"format": FORMAT}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Thresholds | Calibration):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            values[item.name] = value
        return values

    def with_changes(self, **changes) -> "ModelConfig":
        """A copy with some fields changed (``dataclasses.replace``, checked again)."""
        return replace(self, **changes)

    @property
    def training_files(self) -> list[dict]:
        """The run's data files, each with its name, SHA-256 and split."""
        return list((self.training or {}).get("data", {}).get("files", []))


def migrate(values: Mapping) -> dict:
    """Bring a configuration written by any earlier cellseg to the current `FORMAT`.

    Examples
    --------
    >>> migrate({"target": "3class", "postprocessing": {"seed": 0.7}, "steps_per_epoch": 9,
    ...          "settings": {"target": "3class", "seed": 0}})
    {'target': '3class', 'thresholds': {'seed': 0.7}, 'training': {'seed': 0}, 'format': 2}
    """
    values = dict(values)
    version = values.get("format", 1)
    if not isinstance(version, int) or version > FORMAT:
        raise ValueError(f"format {version!r} is newer than this cellseg reads ({FORMAT})")
    if version == 1:
        if "postprocessing" in values:
            values["thresholds"] = values.pop("postprocessing")
        if "settings" in values:
            training = values.pop("settings")
            if isinstance(training, Mapping):
                training = {key: value for key, value in training.items() if key != "target"}
            values["training"] = training  # without its target: the model's own says it
        values.pop("steps_per_epoch", None)  # history.csv has the epochs' steps
        values["format"] = FORMAT
    return values


def _problems(config: ModelConfig) -> list[str]:
    """What is wrong with each field of ``config``, one phrase each."""
    problems = []
    if config.target not in TARGETS:
        problems.append(f"target {config.target!r} is none of {', '.join(TARGETS)}")
    if config.status not in STATUSES:
        problems.append(f"status {config.status!r} is none of {', '.join(STATUSES)}")
    if not _whole(config.divisor) or config.divisor < 1:
        problems.append(f"divisor must be a whole number of at least 1, not {config.divisor!r}")
    if config.test_time_flips not in (1, 2, 4):
        problems.append(f"test_time_flips must be 1, 2 or 4, not {config.test_time_flips!r}")
    for name in ("cell_area", "pixel_size"):
        value = getattr(config, name)
        if value is not None and not (_number(value) and value > 0):
            problems.append(f"{name} must be a number above 0, not {value!r}")
    if config.count_spread is not None and not (
        _number(config.count_spread) and config.count_spread >= 0
    ):
        problems.append(f"count_spread must be a number of at least 0, not {config.count_spread!r}")
    thresholds = config.thresholds
    for name in ("foreground", "seed"):
        value = getattr(thresholds, name)
        if not (_number(value) and 0 <= value <= 1):
            problems.append(f"thresholds.{name} must be a number from 0 to 1, not {value!r}")
    if not (_whole(thresholds.min_area) and thresholds.min_area >= 0):
        problems.append(f"thresholds.min_area must be a whole number, not {thresholds.min_area!r}")
    if not (_number(thresholds.min_confidence) and 0 <= thresholds.min_confidence <= 1):
        problems.append(
            f"thresholds.min_confidence must be a number from 0 to 1, not "
            f"{thresholds.min_confidence!r}"
        )
    for name in ("slope", "intercept"):
        value = getattr(config.calibration, name)
        if not _number(value):
            problems.append(f"calibration.{name} must be a number, not {value!r}")
    if not (_number(thresholds.smoothing) and 0 <= thresholds.smoothing <= 20):
        problems.append(
            f"thresholds.smoothing must be a number from 0 to 20, not {thresholds.smoothing!r}"
        )
    if config.haematoxylin is not None and not (
        isinstance(config.haematoxylin, Mapping)
        and all(_number(config.haematoxylin.get(key)) for key in ("lowest", "median"))
    ):
        problems.append(
            f"haematoxylin must hold numbers lowest and median, not {config.haematoxylin!r}"
        )
    for name in ("normalisation", "validation", "training", "parent", "libraries"):
        value = getattr(config, name)
        if value is not None and not isinstance(value, Mapping):
            problems.append(f"{name} must be an object, not {value!r}")
    return problems


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
