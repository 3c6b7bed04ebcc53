"""Which cells are DAB-positive: by a threshold on their mean DAB optical density, given or
told from the image's own cells.

A haematoxylin + DAB section's positive nuclei read 0.3 to 1 and more in mean DAB optical
density (`cellseg.postprocessing.measurements.stain_densities`), its negative ones under
0.1. In H&E there is no DAB, and colour deconvolution reads 0.1 to 0.4 of "DAB" in every
nucleus: positivity is counted only when asked.
"""

import numpy as np

#: The threshold when none is given (the demo, the browser page, ``--positive-threshold``
#: without a value).
DEFAULT_POSITIVE_THRESHOLD = 0.15
#: `auto_positive_threshold` makes two groups only when they explain the cells' densities
#: better than one group by this much (the Bayesian information criterion)...
BIC_MARGIN = 10.0
#: ...and the two groups' typical DAB densities differ by this much.
LEAST_DAB_GAP = 0.15
#: DAB densities below this count as this, before their logarithm.
LOWEST_DAB = 0.01


def positive(measurements, threshold: float) -> np.ndarray:
    """Which cells are DAB-positive: mean DAB optical density at or above ``threshold``.

    Parameters
    ----------
    measurements : list of `cellseg.postprocessing.measurements.CellMeasurement`
    threshold : float
        Mean DAB optical density from which a cell counts as positive.

    Returns
    -------
    ndarray of bool, shape (cells,)

    Examples
    --------
    >>> from cellseg.postprocessing.measurements import CellMeasurement
    >>> cells = [CellMeasurement(1, 0.0, 0.0, 1, 0.0, 0.0, 0.5, dab) for dab in (0.1, 0.2)]
    >>> positive(cells, 0.2)
    array([False,  True])
    """
    dab = np.array([cell.dab for cell in measurements], dtype=float)
    return dab >= threshold


def auto_positive_threshold(dab: np.ndarray) -> float | None:
    """A DAB threshold told from one image's cells, or None when they make one group.

    In log units the cells' mean DAB densities make two groups in a stained section, the
    positive one spread over a range as wide as the negative one's: a mixture of two
    normal groups is fitted (`two_groups`), and the threshold is where a cell has even odds
    of belonging to either. None when one group explains the densities about as well (by
    the Bayesian information criterion, `BIC_MARGIN`), or the groups are less than
    `LEAST_DAB_GAP` apart: all negative, as in H&E, or (rarely) all positive, which no
    threshold can tell.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> mixed = np.exp(np.concatenate([rng.normal(-2.7, 0.3, 300), rng.normal(-0.3, 0.3, 100)]))
    >>> 0.1 < auto_positive_threshold(mixed) < 0.5
    True
    >>> auto_positive_threshold(rng.normal(0.3, 0.05, 400)) is None  # H&E: one group
    True
    """
    dab = np.asarray(dab, dtype=np.float64)
    dab = dab[np.isfinite(dab)]
    if dab.size < 10 or np.ptp(dab) == 0:
        return None
    values = np.log(np.maximum(dab, LOWEST_DAB))
    weights, means, spreads, likelihood = two_groups(values)
    one = _one_group_likelihood(values)
    gained = 2 * (likelihood - one) - 3 * np.log(values.size)  # 3 more parameters
    low, high = np.argsort(means)
    if gained < BIC_MARGIN or np.exp(means[high]) - np.exp(means[low]) < LEAST_DAB_GAP:
        return None
    places = np.linspace(means[low], means[high], 2001)
    odds = _log_densities(places, weights, means, spreads)
    even = places[np.argmin(np.abs(odds[low] - odds[high]))]
    return round(float(np.exp(even)), 4)


def positive_threshold_for(setting: float | str, dab) -> float | None:
    """The DAB threshold for one image's cells of mean DAB densities ``dab``: ``setting``
    itself, or for ``"auto"`` the one told from them (`auto_positive_threshold`; None when
    they make one group).

    Examples
    --------
    >>> positive_threshold_for(0.15, []), positive_threshold_for("auto", [0.01] * 20)
    (0.15, None)
    """
    if setting == "auto":
        return auto_positive_threshold(np.asarray(dab, dtype=float))
    return setting


def two_groups(values: np.ndarray, iterations: int = 300):
    """A mixture of two normal groups fitted to ``values`` by expectation maximisation,
    started from splits at several quantiles (a small group is found too), the likeliest
    kept: its weights, means, standard deviations and log-likelihood."""
    values = np.asarray(values, dtype=np.float64)
    floor = max(1e-3, 0.01 * float(np.std(values)))
    best = None
    for share in (0.05, 0.25, 0.5, 0.75, 0.95):
        lower = values <= np.quantile(values, share)
        if lower.all() or not lower.any():
            continue
        weights = np.array([lower.mean(), 1 - lower.mean()])
        means = np.array([values[lower].mean(), values[~lower].mean()])
        spreads = np.maximum([values[lower].std(), values[~lower].std()], floor)
        for _ in range(iterations):
            parts = _log_densities(values, weights, means, spreads)
            responsibility = np.exp(parts - parts.max(axis=0))
            responsibility /= responsibility.sum(axis=0)
            totals = responsibility.sum(axis=1) + 1e-12
            weights = totals / values.size
            means = responsibility @ values / totals
            deviation = (values[None] - means[:, None]) ** 2
            spreads = np.maximum(np.sqrt((responsibility * deviation).sum(axis=1) / totals), floor)
        parts = _log_densities(values, weights, means, spreads)
        peak = parts.max(axis=0)
        likelihood = float(np.sum(peak + np.log(np.exp(parts - peak).sum(axis=0))))
        if best is None or likelihood > best[3]:
            best = (weights, means, spreads, likelihood)
    return best


def _log_densities(values, weights, means, spreads) -> np.ndarray:
    """log(weight x normal density) of each value in each group, shape (2, values)."""
    distance = (np.asarray(values)[None] - means[:, None]) / spreads[:, None]
    return (
        np.log(weights)[:, None]
        - np.log(spreads)[:, None]
        - 0.5 * distance**2
        - 0.5 * np.log(2 * np.pi)
    )


def _one_group_likelihood(values: np.ndarray) -> float:
    spread = max(float(np.std(values)), 1e-3)
    return float(
        np.sum(_log_densities(values, np.ones(1), np.array([values.mean()]), np.array([spread])))
    )
