"""Check the hyperparameters a user's file sets, against their definitions.

Every problem in a file is reported, each in a few words, before anything is trained:
missing required names, unknown names (with the close one suggested: the same name in upper
case, or a misspelt one), wrong types, values out of range or not finite, and values allowed
alone but not together (a warm-up as long as training among them).
"""

import difflib
import math
import numbers
from dataclasses import replace

from cellseg.neural_network.hyperparameters import DEFINITIONS, Definition, Hyperparameters

#: The widest layer of the default U-Net, ``BASE_FILTERS * 2**DEPTH`` filters at its deepest
#: level, allowed (256 by default): beyond it the weights alone fill a GPU's memory.
WIDEST_UNET_LAYER = 4096

#: The side in pixels of the window the most zoomed-out training tiles are cut from,
#: ``TILE_SIZE * (1 + ZOOM * AUGMENTATION)``, allowed (320 by default): each such window is
#: converted to float32 for every tile, several at a time.
WIDEST_TILE_WINDOW = 8192


def hyperparameters_from_names(
    names: dict, *, defaults: Hyperparameters | None = None
) -> tuple[Hyperparameters, list[str]]:
    """Build hyperparameters from the upper-case names of a user's file.

    Parameters
    ----------
    names : dict
        Name -> value, e.g. ``{"BATCH_SIZE": 8, "EPOCHS": 40}``. Names starting with an
        underscore are the file's own helpers, and ignored.
    defaults : Hyperparameters, optional
        The values of the names the file leaves out (when fine-tuning, the fine-tuning
        ones: `fine_tuning_hyperparameters`); by default each one's own default.

    Returns
    -------
    (Hyperparameters, list of str)
        The hyperparameters, only meaningful when the list is empty, and every problem:
        required names missing (without ``defaults``), unknown names (with the close
        ones), wrong types, values out of range, and combinations the default U-Net or the
        tiles cannot take.

    Examples
    --------
    >>> hyperparameters, problems = hyperparameters_from_names(
    ...     {"BATCH_SIZE": 4, "EPOCHS": 2, "LEARNING_RATE": 1e-3, "VALIDATION_SPLIT": 0.2}
    ... )
    >>> hyperparameters.batch_size, problems
    (4, [])
    >>> hyperparameters_from_names({"BATCH_SIZE": 4, "EPOCH": 2})[1][-1]
    'EPOCH is not a hyperparameter; did you mean EPOCHS?'
    >>> hyperparameters_from_names({"EPOCHS": 3}, defaults=hyperparameters)[0].batch_size
    4
    """
    problems, values, invalid = [], {}, set()
    for definition in DEFINITIONS:
        if definition.name not in names:
            if definition.required and defaults is None:
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
    hyperparameters = replace(defaults or Hyperparameters(), **values)
    problems.extend(_combination_problems(hyperparameters, invalid, names))
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
        close = (
            [name.upper()] if name.upper() in known else difflib.get_close_matches(name, known, n=1)
        )
        hint = (
            f"did you mean {close[0]}?"
            if close
            else "the names are listed by cellseg train --help (helpers may start with _)"
        )
        problems.append(f"{name} is not a hyperparameter; {hint}")
    return problems


def _combination_problems(
    hyperparameters: Hyperparameters, invalid: set[str], names: dict
) -> list[str]:
    """Problems of values allowed alone but not together; a combination with an ``invalid``
    name (already reported, and replaced by its default) is not checked.

    The warm-up is checked only where the file (its ``names``) sets it: fine-tuning's own
    warm-up of one epoch stays allowed in a file asking for ``EPOCHS = 1``.
    """
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
    warmup, epochs = hyperparameters.warmup_epochs, hyperparameters.epochs
    if "WARMUP_EPOCHS" in names and not {"WARMUP_EPOCHS", "EPOCHS"} & invalid and warmup >= epochs:
        problems.append(
            f"WARMUP_EPOCHS must be fewer than EPOCHS (the warm-up is the start of training), "
            f"not {warmup} with EPOCHS = {epochs}"
        )
    return problems
