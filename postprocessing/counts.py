"""An image's counts, a row of ``counts.csv``: how many cells, how many of them real nuclei
and the interval that holds them, how many DAB-positive, and their mean size.

`cellseg.prediction_files` writes them from each image's cell table, and the browser page
(``web/tables.js``, ``countRow``) computes the same from its cells.
"""

from collections.abc import Sequence

import numpy as np

from cellseg.postprocessing.confidence import count_interval


def image_counts(
    areas: Sequence[float],
    confidences: Sequence[float] | None = None,
    positives: Sequence[bool] | None = None,
    *,
    count_spread: float | None = None,
    pixel_size: float | None = None,
    interval: bool = True,
) -> dict:
    """The counts of one image's cells, of these ``areas`` (pixels).

    Parameters
    ----------
    areas : sequence of float
        Each cell's area in pixels; their number is the ``count``.
    confidences : sequence of float, optional
        Each cell's confidence (`cellseg.postprocessing.confidence`): gives ``expected``,
        the real nuclei expected among the cells, and ``count_low`` to ``count_high``, the
        95% interval of the nuclei the image holds (`count_interval`, widened by the
        model's ``count_spread``). None where the model gave none.
    positives : sequence of bool, optional
        Whether each cell is DAB-positive: gives ``positive`` and ``positive_percent`` (of
        all cells, 0.0 of none). None when positivity was not asked for.
    pixel_size : float, optional
        Micrometres per pixel: gives ``mean_area_um2``.
    interval : bool
        False: ``count_low`` and ``count_high`` are None, the interval not known (cells
        kept by another minimum confidence than the one the model's count error was
        measured at).

    Returns
    -------
    dict
        ``count``, then what the arguments give, and ``mean_area`` (pixels; None without
        cells, as ``mean_area_um2`` is left out).

    Examples
    --------
    >>> image_counts([100.0, 300.0], [0.9, 0.8], [True, False], pixel_size=0.5)
    {'count': 2, 'expected': 1.7, 'count_low': 1, 'count_high': 3, 'positive': 1, \
'positive_percent': 50.0, 'mean_area': 200.0, 'mean_area_um2': 50.0}
    >>> image_counts([100.0], [0.9], interval=False)
    {'count': 1, 'expected': 0.9, 'count_low': None, 'count_high': None, 'mean_area': 100.0}
    >>> image_counts([], [], [])
    {'count': 0, 'expected': 0.0, 'count_low': 0, 'count_high': 0, 'positive': 0, \
'positive_percent': 0.0, 'mean_area': None}
    """
    counts: dict = {"count": len(areas)}
    if confidences is not None:
        if len(confidences) != len(areas):
            raise ValueError(f"{len(confidences)} confidences for {len(areas)} cells")
        expected, low, high = count_interval(np.asarray(confidences, float), count_spread)
        counts["expected"] = expected
        counts["count_low"], counts["count_high"] = (low, high) if interval else (None, None)
    if positives is not None:
        if len(positives) != len(areas):
            raise ValueError(f"{len(positives)} positivity flags for {len(areas)} cells")
        found = int(np.count_nonzero(positives))
        counts["positive"] = found
        counts["positive_percent"] = round(100.0 * found / len(areas), 2) if len(areas) else 0.0
    mean = float(np.mean(areas)) if len(areas) else None
    counts["mean_area"] = None if mean is None else round(mean, 2)
    if pixel_size and mean is not None:
        counts["mean_area_um2"] = round(mean * pixel_size**2, 3)
    return counts
