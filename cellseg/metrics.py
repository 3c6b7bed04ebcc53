"""Segmentation quality: pixel overlap, instance matching, AJI, F1, panoptic quality, counts.

Every function takes two label images of the same shape, ``truth`` and ``prediction``
(0 is background, every other value one object). They follow the definitions used by the
MoNuSeg challenge (AJI, Kumar et al. 2017) and by Kirillov et al. 2019 (panoptic quality).
Counting the pixels every pair of objects shares is most of their time on a large image:
`overlaps` counts them once, and its `Overlaps` gives the AJI, the matching and the errors
from that one count.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class Overlaps:
    """Pixel counts shared by every truth object and every predicted object.

    Attributes
    ----------
    intersection : ndarray, shape (n_truth, n_predicted)
        Pixels in truth object ``i`` and predicted object ``j``.
    truth_areas, predicted_areas : ndarray
        Pixels in each object.
    """

    intersection: np.ndarray
    truth_areas: np.ndarray
    predicted_areas: np.ndarray

    @property
    def union(self) -> np.ndarray:
        """Pixels in truth object ``i`` or predicted object ``j``."""
        return self.truth_areas[:, None] + self.predicted_areas[None, :] - self.intersection

    @property
    def iou(self) -> np.ndarray:
        """Intersection over union of every truth / predicted pair."""
        union = self.union
        return np.divide(
            self.intersection, union, out=np.zeros(union.shape, dtype=float), where=union > 0
        )

    def aji(self) -> float:
        """The aggregated Jaccard index (`aggregated_jaccard_index`) of these overlaps."""
        if self.truth_areas.size == 0:
            return 1.0 if self.predicted_areas.size == 0 else 0.0
        if self.predicted_areas.size == 0:
            return 0.0
        iou = self.iou
        best = iou.argmax(axis=1)
        paired = iou[np.arange(iou.shape[0]), best] > 0
        rows = np.flatnonzero(paired)
        intersection = self.intersection[rows, best[rows]].sum()
        union = self.union[rows, best[rows]].sum() + self.truth_areas[~paired].sum()
        unused = np.ones(self.predicted_areas.size, dtype=bool)
        unused[best[rows]] = False
        union += self.predicted_areas[unused].sum()
        return float(intersection / union)

    def match(self, iou_threshold: float = 0.5) -> "Matching":
        """The one-to-one pairing (`match`) of these overlaps."""
        iou = self.iou
        if iou.size:
            candidate = np.where(iou > iou_threshold, iou, 0.0)
            rows, columns = linear_sum_assignment(candidate, maximize=True)
            kept = candidate[rows, columns] > 0
            matched = candidate[rows[kept], columns[kept]]
        else:
            matched = np.zeros(0)
        true_positives = int(matched.size)
        return Matching(
            true_positives=true_positives,
            false_positives=int(self.predicted_areas.size - true_positives),
            false_negatives=int(self.truth_areas.size - true_positives),
            matched_iou_sum=float(matched.sum()),
        )

    def errors(self) -> "Errors":
        """The unmatched objects sorted by what went wrong (`errors`)."""
        iou = self.iou
        if iou.size == 0:
            return Errors(0, 0, int(self.truth_areas.size), int(self.predicted_areas.size))
        truth_lost = _merged(self.intersection, self.truth_areas, iou)
        pieces = _merged(self.intersection.T, self.predicted_areas, iou.T)
        return Errors(
            merged=int(truth_lost.sum()),
            split=int(pieces.sum()),
            missed=int(((iou.max(axis=1) < NOTHING_IOU) & ~truth_lost).sum()),
            spurious=int(((iou.max(axis=0) < NOTHING_IOU) & ~pieces).sum()),
        )


def overlaps(truth: np.ndarray, prediction: np.ndarray) -> Overlaps:
    """Count the pixels each truth object shares with each predicted object.

    Examples
    --------
    >>> truth = np.array([[1, 1, 0], [0, 2, 2]])
    >>> prediction = np.array([[3, 0, 0], [0, 3, 3]])
    >>> overlaps(truth, prediction).intersection
    array([[1],
           [2]])
    """
    truth, prediction = _checked_pair(truth, prediction)
    truth_ids, truth_index = np.unique(truth, return_inverse=True)
    predicted_ids, predicted_index = np.unique(prediction, return_inverse=True)
    # Index 0 is background only when the image has some; shift so that it always is.
    truth_index = truth_index.ravel() + (truth_ids[0] != 0)
    predicted_index = predicted_index.ravel() + (predicted_ids[0] != 0)
    n_truth = int(np.count_nonzero(truth_ids)) + 1
    n_predicted = int(np.count_nonzero(predicted_ids)) + 1
    table = np.bincount(
        truth_index * n_predicted + predicted_index, minlength=n_truth * n_predicted
    ).reshape(n_truth, n_predicted)
    return Overlaps(
        intersection=table[1:, 1:],
        truth_areas=table[1:, :].sum(axis=1),
        predicted_areas=table[:, 1:].sum(axis=0),
    )


def dice(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Pixel Dice coefficient of the foregrounds (any non-zero label); 1.0 when both are empty."""
    truth, prediction = _checked_pair(truth, prediction)
    truth, prediction = truth > 0, prediction > 0
    total = truth.sum() + prediction.sum()
    return 1.0 if total == 0 else float(2 * np.logical_and(truth, prediction).sum() / total)


def pixel_iou(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Pixel intersection over union of the foregrounds; 1.0 when both are empty."""
    truth, prediction = _checked_pair(truth, prediction)
    truth, prediction = truth > 0, prediction > 0
    union = np.logical_or(truth, prediction).sum()
    return 1.0 if union == 0 else float(np.logical_and(truth, prediction).sum() / union)


def aggregated_jaccard_index(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Aggregated Jaccard index (AJI) of Kumar et al. 2017, as in the MoNuSeg evaluation.

    Each truth object is paired with the predicted object of highest IoU; the index is the
    sum of the paired intersections over the sum of the paired unions, plus the areas of
    truth objects that overlap nothing and of predicted objects never paired.

    Examples
    --------
    >>> truth = np.array([[1, 1, 0, 0]])
    >>> aggregated_jaccard_index(truth, np.array([[1, 0, 0, 2]]))  # 1 / (2 + 1)
    0.3333333333333333
    """
    return overlaps(truth, prediction).aji()


@dataclass(frozen=True)
class Matching:
    """One-to-one pairing of truth and predicted objects at an IoU threshold."""

    true_positives: int
    false_positives: int
    false_negatives: int
    matched_iou_sum: float

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return 1.0 if predicted == 0 else self.true_positives / predicted

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return 1.0 if actual == 0 else self.true_positives / actual

    @property
    def f1(self) -> float:
        denominator = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 1.0 if denominator == 0 else 2 * self.true_positives / denominator

    @property
    def panoptic_quality(self) -> float:
        """Segmentation quality (mean matched IoU) times recognition quality (F1)."""
        denominator = self.true_positives + 0.5 * self.false_positives + 0.5 * self.false_negatives
        return 1.0 if denominator == 0 else self.matched_iou_sum / denominator


def match(truth: np.ndarray, prediction: np.ndarray, *, iou_threshold: float = 0.5) -> Matching:
    """Pair objects one to one, maximising the total IoU among pairs above ``iou_threshold``.

    Above 0.5 a pair is unique by construction; below it the optimal assignment decides.

    Examples
    --------
    >>> truth = np.array([[1, 1, 0, 2]])
    >>> m = match(truth, np.array([[1, 1, 0, 0]]))
    >>> m.true_positives, m.false_positives, m.false_negatives
    (1, 0, 1)
    """
    return overlaps(truth, prediction).match(iou_threshold)


@dataclass(frozen=True)
class Errors:
    """Why objects go unmatched at IoU 0.5, counted per kind (see `errors`)."""

    merged: int
    split: int
    missed: int
    spurious: int


#: Below this IoU with every object of the other image, an object overlaps nothing there.
NOTHING_IOU = 0.1


def errors(truth: np.ndarray, prediction: np.ndarray) -> Errors:
    """Sort the objects left unmatched at IoU 0.5 by what went wrong, as Caicedo et al.
    2019 (Cytometry A 95(9)) count merges, splits, missed and extra objects.

    - ``merged``: truth objects unmatched because more than half of each lies in one
      predicted object that also holds more than half of another truth object (touching
      cells found as one: counts run low);
    - ``split``: predicted objects unmatched because more than half of each lies in one
      truth object that also holds more than half of another predicted object (one cell
      found in pieces: counts run high);
    - ``missed``: other truth objects that no predicted object overlaps at IoU
      `NOTHING_IOU`;
    - ``spurious``: other predicted objects that overlap no truth object at IoU
      `NOTHING_IOU`.

    The other unmatched objects were found, but outlined too loosely or too tightly.
    Swapping ``truth`` and ``prediction`` swaps merged with split and missed with spurious.

    Examples
    --------
    >>> truth = np.array([[1, 1, 2, 2, 0, 3, 3, 3, 3, 0, 4]])
    >>> found = np.array([[5, 5, 5, 5, 0, 6, 6, 7, 7, 0, 0]])
    >>> errors(truth, found)
    Errors(merged=2, split=2, missed=1, spurious=0)
    """
    return overlaps(truth, prediction).errors()


def _merged(intersection: np.ndarray, areas: np.ndarray, iou: np.ndarray) -> np.ndarray:
    """Which objects of the rows are unmatched and lie mostly in a column object that
    holds most of another row object too."""
    share = intersection / np.maximum(areas, 1)[:, None]
    holder = share.argmax(axis=1)
    mostly_in = share[np.arange(share.shape[0]), holder] > 0.5
    held = np.bincount(holder[mostly_in], minlength=share.shape[1])
    return mostly_in & (held[holder] >= 2) & (iou.max(axis=1) <= 0.5)


def count_objects(labels: np.ndarray) -> int:
    """Number of distinct non-zero labels."""
    return int(np.count_nonzero(np.unique(labels)))


def _checked_pair(truth: np.ndarray, prediction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    truth, prediction = np.asarray(truth), np.asarray(prediction)
    if truth.shape != prediction.shape:
        raise ValueError(f"truth {truth.shape} and prediction {prediction.shape} differ in shape")
    return truth, prediction


#: The columns of `image_scores`, in the order reports print them.
SCORE_NAMES = (
    "aji",
    "f1",
    "panoptic_quality",
    "dice",
    "iou",
    "precision",
    "recall",
    "true_count",
    "predicted_count",
    "count_error",
    "merged",
    "split",
    "missed",
    "spurious",
)


def image_scores(truth: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """Every score of one image: AJI, F1 / precision / recall / PQ at IoU 0.5, pixel Dice and
    IoU, the counts, the count error relative to the true count, and the unmatched objects
    sorted by what went wrong (`errors`).

    A score that would divide by 0 (`undefined_scores`) is given a number all the same, so
    that tuning has one for every image: 1 for a ratio of nothing to nothing, and the count
    error of an image without true objects is the number found. Evaluations blank them
    instead (`without_undefined`)."""
    table = overlaps(truth, prediction)  # once: it is most of the time on a large image
    matching, kinds = table.match(), table.errors()
    true_count, predicted_count = table.truth_areas.size, table.predicted_areas.size
    return {
        "aji": table.aji(),
        "f1": matching.f1,
        "panoptic_quality": matching.panoptic_quality,
        "dice": dice(truth, prediction),
        "iou": pixel_iou(truth, prediction),
        "precision": matching.precision,
        "recall": matching.recall,
        "true_count": int(true_count),
        "predicted_count": int(predicted_count),
        "count_error": abs(predicted_count - true_count) / max(true_count, 1),
        "merged": int(kinds.merged),
        "split": int(kinds.split),
        "missed": int(kinds.missed),
        "spurious": int(kinds.spurious),
    }


#: The scores of `image_scores` that divide by the true count (0 without true objects) and
#: by the predicted count (0 without predicted objects); the other ratios, AJI, F1, panoptic
#: quality, pixel Dice and IoU, divide by 0 only when neither image has an object.
BY_TRUE_COUNT, BY_PREDICTED_COUNT = ("recall", "count_error"), ("precision",)


def undefined_scores(true_count: int, predicted_count: int) -> tuple[str, ...]:
    """The scores of `image_scores` whose denominator is 0 for an image of these counts, so
    that they are undefined (as scikit-learn's ``zero_division=np.nan`` makes them, rather
    than StarDist's 0): recall and the relative count error without true objects, precision
    without predicted ones, and every ratio of the two when neither has any. Without true
    objects, predicted ones still score 0 in AJI, F1, PQ, Dice and IoU.

    Examples
    --------
    >>> undefined_scores(36, 0)
    ('precision',)
    >>> undefined_scores(0, 27)
    ('recall', 'count_error')
    >>> undefined_scores(0, 0)
    ('aji', 'f1', 'panoptic_quality', 'dice', 'iou', 'precision', 'recall', 'count_error')
    >>> undefined_scores(3, 4)
    ()
    """
    undefined = set()
    if true_count == 0:
        undefined.update(BY_TRUE_COUNT)
    if predicted_count == 0:
        undefined.update(BY_PREDICTED_COUNT)
    if true_count == 0 and predicted_count == 0:
        undefined.update(("aji", "f1", "panoptic_quality", "dice", "iou"))
    return tuple(name for name in SCORE_NAMES if name in undefined)


def without_undefined(scores: dict) -> dict:
    """The scores of one image (`image_scores`) with those undefined for its counts
    (`undefined_scores`) set to None, as evaluations write them: blank, and left out of
    the means (`cellseg.neural_network.evaluation.mean_scores`).

    Examples
    --------
    >>> scores = image_scores(np.zeros((2, 2), int), np.array([[0, 1], [0, 0]]))
    >>> scores["recall"], scores["count_error"]
    (1.0, 1.0)
    >>> defined = without_undefined(scores)
    >>> defined["recall"], defined["count_error"], defined["f1"], defined["spurious"]
    (None, None, 0.0, 1)
    """
    undefined = undefined_scores(scores["true_count"], scores["predicted_count"])
    return {name: None if name in undefined else value for name, value in scores.items()}
