"""A trained model's post-processing fitted to annotated images (its validation images,
as every training ends): the thresholds that find their cells best, the calibration of the
cells' confidence, the least confidence a cell needs to be counted, and how far its counts
stray (`count_spread_on`). The network is left as it is.

    tuned, scores = tuned_on(model, images, truths)
"""

import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from cellseg.errors import CellsegWarning
from cellseg.neural_network.targets import get_target, tune_thresholds
from cellseg.postprocessing.confidence import cell_scores
from cellseg.postprocessing.instances import Thresholds

#: The least confidences a cell may need to be counted, tried when a model is tuned.
MIN_CONFIDENCES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
#: The fewest real cells, and false ones, a calibration of the confidence is fitted to:
#: fewer, and a few cells make it certain of everything (a model checked against its own
#: predictions, corrected, has hardly any false cell).
LEAST_CELLS_TO_CALIBRATE = 20
#: The fewest images a count's spread is measured on: one image's error is no spread.
LEAST_IMAGES_FOR_SPREAD = 3


def count_score(rows: Sequence[dict]) -> float:
    """How well cells were found and counted on annotated images, from their scores
    (`cellseg.metrics.image_scores`, None where undefined: `without_undefined`): the mean
    of the outlines' aggregated Jaccard index, the matches' F1 and one less the count's
    relative error, each image alike, of those of the three it defines (an image without
    cells drawn has no relative count error; one without cells either way, none of them,
    and is passed over). 0 when no image defines any.

    Examples
    --------
    >>> count_score([{"aji": 0.6, "f1": 0.8, "count_error": 0.1}])
    0.7667
    >>> count_score([{"aji": 0.6, "f1": 0.8, "count_error": 0.1},
    ...              {"aji": 0.0, "f1": 0.0, "count_error": None}])
    0.3833
    """
    per_image = []
    for row in rows:
        terms = [
            row["aji"],
            row["f1"],
            None if row["count_error"] is None else 1 - row["count_error"],
        ]
        defined = [term for term in terms if term is not None]
        if defined:
            per_image.append(np.mean(defined))
    return round(float(np.mean(per_image)), 4) if per_image else 0.0


def count_spread_on(model, images: Sequence[np.ndarray], truths: Sequence[np.ndarray]) -> float:
    """`cellseg.postprocessing.confidence.count_spread` of annotated images counted as
    predict counts them, at the scale ``"auto"`` chooses (some may be 20x images)."""
    from cellseg.metrics import count_objects
    from cellseg.postprocessing.confidence import count_spread

    found = [count_objects(model.segment(image).labels) for image in images]
    return count_spread(found, [count_objects(truth) for truth in truths])


def few_images_note(images: int, spread: float | None) -> str:
    """What tuning on fewer than `LEAST_IMAGES_FOR_SPREAD` ``images`` leaves unsure: the
    thresholds fit them, and the scores measured on them flatter the model; the count's
    ``spread`` is kept as it was (a parent's), or there is none.

    Examples
    --------
    >>> few_images_note(1, 0.095)  # doctest: +ELLIPSIS
    "1 image to tune the model on, fewer than 3: its thresholds fit it, ...; the count's spread is kept as it was, 0.095, not measured on this model"
    """  # noqa: E501
    from cellseg.batch import counted

    them = "it" if images == 1 else "them"
    kept = (
        f"the count's spread is kept as it was, {spread:g}, not measured on this model"
        if spread
        else "no count's spread is measured: the count's interval is the cells' doubt alone"
    )
    return (
        f"{counted(images, 'image')} to tune the model on, fewer than "
        f"{LEAST_IMAGES_FOR_SPREAD}: its thresholds fit {them}, and the scores measured on "
        f"{them} flatter it (score it on images it has not seen: cellseg evaluate); {kept}"
    )


def tuned_on(model, images: Sequence[np.ndarray], truths: Sequence[np.ndarray]):
    """``model`` (a `cellseg.neural_network.model.TrainedModel`) with its post-processing
    fitted to annotated images: the thresholds that find their cells best
    (`cellseg.neural_network.targets.tune_thresholds`), the calibration of the cells'
    confidence (`cellseg.postprocessing.confidence.Calibration.fit`), the least confidence
    a cell needs to be counted, chosen for the count as much as for outlines and matches
    (`MIN_CONFIDENCES`, `count_score`), and its `count_spread_on` them. With fewer than
    `LEAST_CELLS_TO_CALIBRATE` real or false cells, only the intercept of the model's own
    calibration (its parent's, fine-tuning) is fitted (`Calibration.refit_intercept`), and
    with fewer cells in all or none of one kind, that calibration is kept; with fewer than
    `LEAST_IMAGES_FOR_SPREAD` images its spread is kept. A `CellsegWarning` says so.

    Returns
    -------
    (TrainedModel, dict)
        The tuned model, and its mean scores on the images
        (`cellseg.metrics.image_scores`, with ``calibration_error``).
    """
    from cellseg.metrics import image_scores, without_undefined
    from cellseg.neural_network.evaluation import mean_scores
    from cellseg.postprocessing.confidence import Calibration, calibration_error, real_cells

    record = get_target(model.target)
    outputs = [model.output(image) for image in images]
    untuned = Thresholds()  # as training always did: from the defaults
    thresholds, _ = tune_thresholds(outputs, truths, model.target, start=untuned)
    found = [record.decode(output, thresholds) for output in outputs]
    scores = np.concatenate(
        [cell_scores(record.cell_probability(o), f) for o, f in zip(outputs, found, strict=True)]
    )
    real = np.concatenate([real_cells(t, f) for t, f in zip(truths, found, strict=True)])
    calibration = model.config.calibration
    fitted = calibration != Calibration()  # a model trained from scratch has none yet
    found_cells = f"{real.sum()} real and {(~real).sum()} false cells found on the images "
    if min(real.sum(), (~real).sum()) >= LEAST_CELLS_TO_CALIBRATE:
        calibration = Calibration.fit(scores, real)
    elif real.size >= LEAST_CELLS_TO_CALIBRATE and real.any() and not real.all():
        calibration = calibration.refit_intercept(scores, real)
        warnings.warn(
            CellsegWarning(
                f"{found_cells}the model is tuned on, fewer than {LEAST_CELLS_TO_CALIBRATE} "
                f"{'real' if real.sum() < (~real).sum() else 'false'} ones: its confidence "
                f"is recalibrated as a whole (its slope {'kept' if fitted else 'left at 1'}, "
                "its confidences summing to the real cells), not fitted anew"
            ),
            stacklevel=2,
        )
    else:
        warnings.warn(
            CellsegWarning(
                f"{found_cells}the model is tuned on, too few to calibrate its confidence "
                "on: "
                + (
                    "the calibration it had is kept"
                    if fitted
                    else "its confidences are the network's cell scores as they are, uncalibrated"
                )
            ),
            stacklevel=2,
        )
    tuned = model.with_config(thresholds=thresholds, calibration=calibration)

    def rows(minimum):
        at_least = tuned.with_config(thresholds=replace(thresholds, min_confidence=minimum))
        cells = [at_least.find_cells(output) for output in outputs]
        pairs = zip(truths, cells, strict=True)
        return at_least, [
            without_undefined(image_scores(truth, labels)) for truth, (labels, _) in pairs
        ]

    best = max(MIN_CONFIDENCES, key=lambda minimum: count_score(rows(minimum)[1]))
    tuned, results = rows(best)
    if len(images) >= LEAST_IMAGES_FOR_SPREAD:
        tuned = tuned.with_config(count_spread=count_spread_on(tuned, images, truths))
    else:
        note = few_images_note(len(images), tuned.config.count_spread)
        warnings.warn(CellsegWarning(note), stacklevel=2)
    confidence = tuned.config.calibration.confidence(scores)
    means = mean_scores(results)
    means["calibration_error"] = round(calibration_error(confidence, real), 4)
    return tuned, means
