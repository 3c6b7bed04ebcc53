"""How sure a model is of each cell, and of a count: per-cell confidence, calibrated.

Every cell found gets a raw score, the mean of the network's cell probability over its
pixels (`cell_scores`). A `Calibration` fitted on the validation images maps it to the
probability that the cell is a real nucleus, counted once (`real_cells`): on those
images, of the cells given a confidence of 0.8, about 80% are real. Their sum is the
number of real nuclei expected among the cells found. The count's interval
(`count_interval`) is the number of nuclei the image holds, at 95%: the count, give or take
the cells' own doubt and how far the model's counts were from the drawn nuclei on its
validation images (`count_spread`), where nuclei missed, merged or split and false cells
show.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from math import ceil, floor

import numpy as np
from scipy import ndimage as ndi
from scipy.special import expit, logit, ndtri

#: Scores are kept away from 0 and 1 before their logit, where a sure network saturates.
CONFIDENCE_EDGE = 1e-4


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of raw cell scores: ``confidence = sigmoid(slope * logit(score) +
    intercept)``. The identity (slope 1, intercept 0) leaves the scores as they are.

    Examples
    --------
    >>> Calibration().confidence(np.array([0.2, 0.9])).round(3)
    array([0.2, 0.9])
    >>> Calibration(slope=2.0, intercept=0.0).confidence(np.array([0.5, 0.9])).round(3)
    array([0.5  , 0.988])
    """

    slope: float = 1.0
    intercept: float = 0.0

    def confidence(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated confidences (float64) of raw scores in 0..1."""
        clipped = np.clip(
            np.asarray(scores, dtype=np.float64), CONFIDENCE_EDGE, 1 - CONFIDENCE_EDGE
        )
        return expit(self.slope * logit(clipped) + self.intercept)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> "Calibration":
        return cls(float(values["slope"]), float(values["intercept"]))

    @classmethod
    def fit(cls, scores: np.ndarray, real: np.ndarray) -> "Calibration":
        """The calibration that best predicts ``real`` (bool per cell) from ``scores``:
        logistic regression on the scores' logit (maximum likelihood, Newton's method).
        Without both real and false cells to learn from, the identity."""
        real = np.asarray(real, dtype=np.float64)
        if real.size < 2 or real.min() == real.max():
            return cls()
        x = logit(
            np.clip(np.asarray(scores, dtype=np.float64), CONFIDENCE_EDGE, 1 - CONFIDENCE_EDGE)
        )
        design = np.stack([x, np.ones_like(x)], axis=1)
        weights = np.zeros(2)
        for _ in range(50):
            predicted = expit(design @ weights)
            gradient = design.T @ (real - predicted)
            # A small ridge keeps a perfectly separating score from growing without bound.
            hessian = design.T @ (design * (predicted * (1 - predicted))[:, None])
            step = np.linalg.solve(hessian + 1e-6 * np.eye(2), gradient)
            weights += step
            if np.abs(step).max() < 1e-9:
                break
        return cls(float(weights[0]), float(weights[1]))

    def refit_intercept(self, scores: np.ndarray, real: np.ndarray) -> "Calibration":
        """This calibration's slope with the intercept that best predicts ``real`` from
        ``scores`` (maximum likelihood: the intercept at which the confidences sum to the
        number of real cells). One number, where a few false cells cannot fit two (a
        fine-tuned network whose cells are surer or less sure than its parent's).
        Without both real and false cells, this calibration as it is.

        Examples
        --------
        >>> scores, real = np.array([0.2, 0.4, 0.6, 0.8]), np.array([0, 1, 1, 1], bool)
        >>> refitted = Calibration(slope=2.0, intercept=-3.0).refit_intercept(scores, real)
        >>> round(refitted.slope, 3), round(float(refitted.confidence(scores).sum()), 6)
        (2.0, 3.0)
        """
        real = np.asarray(real, dtype=np.float64)
        if real.size < 2 or real.min() == real.max():
            return self
        from scipy.optimize import brentq

        x = self.slope * logit(
            np.clip(np.asarray(scores, dtype=np.float64), CONFIDENCE_EDGE, 1 - CONFIDENCE_EDGE)
        )
        # The confidences' sum grows with the intercept: from 0 to all the cells, past
        # either end of this bracket; one root, which Brent's method finds.
        reach = float(np.abs(x).max()) + 50.0
        intercept = brentq(lambda b: expit(x + b).sum() - real.sum(), -reach, reach, xtol=1e-12)
        return Calibration(self.slope, float(intercept))


def cell_scores(probability: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The mean of ``probability`` (the network's cell probability, 0..1) over each cell of
    ``labels``, for the ids 1..N (N the largest id); 0 for an id with no pixel.

    Examples
    --------
    >>> labels = np.array([[1, 1, 0, 2]])
    >>> cell_scores(np.array([[0.9, 0.7, 0.0, 0.4]]), labels)
    array([0.8, 0.4])
    """
    labels = np.asarray(labels)
    count = int(labels.max(initial=0))
    if count == 0:
        return np.zeros(0)
    ids = np.arange(1, count + 1)
    means = ndi.mean(np.asarray(probability, dtype=np.float64), labels, ids)
    return np.nan_to_num(np.asarray(means, dtype=np.float64))


def real_cells(truth: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Which found cells (ids 1..N of ``labels``) are real nuclei, counted once: those that
    a drawn nucleus of ``truth`` overlaps most among the found cells, and that lie mostly
    (more than half their pixels) inside it. A nucleus found in two pieces has one real
    piece; a speck where none is drawn, none.

    Examples
    --------
    >>> truth = np.array([[1, 1, 1, 1, 0, 0, 0]])
    >>> found = np.array([[1, 1, 1, 2, 0, 3, 3]])     # a nucleus in two, and a speck
    >>> real_cells(truth, found)
    array([ True, False, False])
    """
    from cellseg.metrics import overlaps

    labels = np.asarray(labels)
    count = int(labels.max(initial=0))
    real = np.zeros(count, dtype=bool)
    table = overlaps(truth, labels)
    if table.intersection.size == 0:
        return real
    found_ids = np.unique(labels[labels > 0])  # the columns of the table, in order
    best = table.intersection.argmax(axis=1)
    shared = table.intersection[np.arange(best.size), best]
    inside = shared > table.predicted_areas[best] / 2
    real[found_ids[best[inside & (shared > 0)]] - 1] = True
    return real


def count_interval(
    confidence: np.ndarray, spread: float | None = None, level: float = 0.95
) -> tuple[float, int, int]:
    """The expected number of real nuclei among cells of these ``confidence`` values (their
    sum, to 2 decimals), and the interval that holds the number of nuclei in the image with
    probability ``level``: the count (the cells' number), give or take two errors taken as
    independent and normal, each cell real or not on its own (variance ``sum(p (1 - p))``),
    and the model's relative count error, of root mean square ``spread`` on its validation
    images (`count_spread`; None, a model that did not measure it, or 0: the cells' doubt
    alone).

    Examples
    --------
    >>> count_interval(np.full(100, 0.9))
    (90.0, 94, 106)
    >>> count_interval(np.full(100, 0.9), spread=0.1)
    (90.0, 79, 121)
    >>> count_interval(np.ones(7))
    (7.0, 7, 7)
    """
    confidence = np.clip(np.asarray(confidence, dtype=np.float64), 0, 1)
    count = confidence.size
    variance = float(np.sum(confidence * (1 - confidence))) + ((spread or 0.0) * count) ** 2
    half = ndtri(1 - (1 - level) / 2) * np.sqrt(variance)
    low, high = max(floor(count - half), 0), ceil(count + half)
    return round(float(confidence.sum()), 2), low, high


def count_spread(found: Sequence[int], drawn: Sequence[int]) -> float | None:
    """The root mean square of the relative count errors of images with ``found`` cells
    where ``drawn`` nuclei were drawn (to 4 decimals): how far a model's count strays from
    the truth on such images, its bias included. An image without nuclei drawn has no
    relative error and is passed over; None when no image has any.

    Examples
    --------
    >>> count_spread([110, 90], [100, 100]), count_spread([110, 5], [100, 0])
    (0.1, 0.1)
    >>> count_spread([5], [0]) is None
    True
    """
    found, drawn = np.asarray(found, dtype=float), np.asarray(drawn, dtype=float)
    some = drawn > 0
    if not some.any():
        return None
    errors = (found[some] - drawn[some]) / drawn[some]
    return round(float(np.sqrt(np.mean(errors**2))), 4)


def calibration_error(confidence: np.ndarray, real: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: over ``bins`` equal bins of confidence, the mean gap
    between the confidence and the share of real cells, weighted by the cells in each.

    Examples
    --------
    >>> round(calibration_error(np.array([0.9, 0.9, 0.1, 0.1]), np.array([1, 1, 0, 0], bool)), 4)
    0.1
    """
    return float(
        sum(
            row["cells"] * abs(row["confidence"] - row["real"])
            for row in reliability(confidence, real, bins)
        )
        / max(len(confidence), 1)
    )


def reliability(confidence: np.ndarray, real: np.ndarray, bins: int = 10) -> list[dict]:
    """Per bin of confidence: its cells, their mean confidence and the share that is real
    (the points of a reliability diagram); empty bins are left out."""
    confidence = np.asarray(confidence, dtype=np.float64)
    real = np.asarray(real, dtype=np.float64)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    rows = []
    for index in range(bins):
        chosen = which == index
        if chosen.any():
            rows.append(
                {
                    "bin": (index / bins, (index + 1) / bins),
                    "cells": int(chosen.sum()),
                    "confidence": round(float(confidence[chosen].mean()), 4),
                    "real": round(float(real[chosen].mean()), 4),
                }
            )
    return rows
