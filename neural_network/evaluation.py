"""Score a trained model on annotated images; tune its post-processing on validation images."""

from dataclasses import dataclass, field

import numpy as np

from cellseg.errors import CellsegError
from cellseg.image_io import read_image, read_picture
from cellseg.metrics import SCORE_NAMES, image_scores, without_undefined


def evaluate_images(model, pairs):
    """Predict every image at the model's own scale (1) and score the cells found.

    Parameters
    ----------
    model : cellseg.neural_network.model.TrainedModel
    pairs : list of (image, labels)
        Each an image path or an array.

    Returns
    -------
    (Thresholds, dict)
        The thresholds used and the mean of every score (`cellseg.metrics.image_scores`).
    """

    def array(item, read=read_image):
        return item if isinstance(item, np.ndarray) else read(item)

    rows = [
        without_undefined(
            image_scores(array(truth), model.segment(array(image, read_picture), scale=1).labels)
        )
        for image, truth in pairs
    ]
    return model.thresholds, mean_scores(rows)


@dataclass
class ScoredImage:
    """One annotated image's cells scored (`score_pair`): its ``row`` of scores (None where
    undefined) with its name and the ``scale`` it was predicted at, the annotation's labels
    (``truth``), the cells ``found`` and the prediction (``result``: a `Cells`)."""

    row: dict
    truth: np.ndarray
    found: np.ndarray
    result: object


@dataclass
class Scores:
    """What `score_pairs` measured: a row per image scored (its scores, None where
    undefined, and the ``scale`` it was predicted at), the errors of the images it could not
    score, the images whose haematoxylin was ``strengthened`` (name: factor) and, pooled over
    every cell found whose confidence is known, each cell's confidence and whether it is a
    real nucleus (`cellseg.postprocessing.confidence.real_cells`)."""

    rows: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    confidence: list = field(default_factory=list)
    real: list = field(default_factory=list)
    strengthened: dict = field(default_factory=dict)

    def add(self, scored: ScoredImage) -> None:
        """Keep an image's scores, and its cells' confidence against what they are."""
        from cellseg.postprocessing.confidence import real_cells

        self.rows.append(scored.row)
        result = scored.result
        if getattr(result, "counterstain", 1) != 1:
            self.strengthened[scored.row["image"]] = result.counterstain
        if getattr(result, "confidence", None) is not None:
            self.confidence.append(result.confidence)
            self.real.append(real_cells(scored.truth, scored.found))

    @property
    def cells(self) -> int | None:
        """How many cells have a known confidence; None when no image's is known."""
        return sum(map(len, self.confidence)) if self.confidence else None

    def reliability(self, bins: int = 10) -> tuple[float, list[dict]]:
        """The confidence's calibration error and its reliability diagram's points; NaN and
        no points without cells whose confidence is known (there is nothing to measure)."""
        from cellseg.postprocessing.confidence import calibration_error, reliability

        if not self.cells:
            return float("nan"), []
        confidence, real = np.concatenate(self.confidence), np.concatenate(self.real)
        return calibration_error(confidence, real, bins), reliability(confidence, real, bins)


def score_pair(model, pair, style=None, *, scale="auto") -> ScoredImage:
    """Find the cells of an (image, annotation) pair as ``cellseg predict`` does
    (`TrainedModel.segment_file`) at ``scale`` (a number, ``"auto"``, or a function of the
    image's path giving one) and score them; a score undefined on the image (its
    denominator 0: `cellseg.metrics.undefined_scores`) is None. Annotations are red-outline
    layers or label images (`cellseg.annotations`). Raises `CellsegError` for a pair that
    cannot be scored: an unreadable file, an annotation of another size than its image."""
    from cellseg.annotations import check_same_size, read_annotation_labels
    from cellseg.image_io import read_image_shape

    truth = read_annotation_labels(pair.annotation, style)
    check_same_size(pair.annotation, truth.shape, pair.image, read_image_shape(pair.image))
    scale = scale(pair.image) if callable(scale) else scale
    result = model.segment_file(pair.image, scale=scale)
    found = result.whole_labels()
    scores = without_undefined(image_scores(truth, found))
    row = {"image": pair.image.name, **scores, "scale": float(result.scale)}
    return ScoredImage(row, truth, found, result)


def score_pairs(model, pairs, style=None, *, scale="auto") -> Scores:
    """Score each (image, annotation) pair (`score_pair`); a pair that cannot be scored
    does not stop the others."""
    from tqdm import tqdm

    scores = Scores()
    for pair in tqdm(pairs, desc="cellseg evaluate", unit="image", disable=None):
        try:
            scores.add(score_pair(model, pair, style, scale=scale))
        except CellsegError as error:
            scores.failures.append(error)
    return scores


#: The row under the mean that says how many images each mean is of, when some are of fewer.
IMAGES_IN_THE_MEAN = "images in the mean"


def score_table(rows: list[dict]) -> list[dict]:
    """The images' ``rows``, their mean (`mean_scores`) and, when a mean is of fewer than
    all of them, a row of how many each is of (`scored_images`)."""
    table = [*rows, {"image": "mean", **mean_scores(rows)}]
    averaged = scored_images(rows)
    if min(averaged.values()) < len(rows):
        table.append({"image": IMAGES_IN_THE_MEAN, **averaged})
    return table


def seen_in_training(model, pairs) -> dict[str, int]:
    """How many of the images of ``pairs`` the model was trained or validated on, by split
    (``{"training": 3, "validation": 1}``), told by their SHA-256 in its configuration."""
    from cellseg.neural_network.label_cache import file_digest

    splits = {  # a run of an earlier cellseg may not have kept its files' digests
        entry["image_sha256"]: entry.get("split")
        for entry in model.config.training_files
        if isinstance(entry, dict) and entry.get("image_sha256")
    }
    seen: dict[str, int] = {}
    for pair in pairs:
        try:
            split = splits.get(file_digest(pair.image))
        except OSError:  # unreadable: scoring it will say so, naming it
            continue
        if split is not None:
            seen[split] = seen.get(split, 0) + 1
    return seen


def own_images_warning(model, pairs) -> str | None:
    """What to say when some of the annotated images of ``pairs`` are the model's own
    (`seen_in_training`): their scores flatter it. None when none is."""
    from cellseg.batch import counted

    seen = seen_in_training(model, pairs)
    if not seen:
        return None
    verbs = {"training": "trained", "validation": "validated"}
    said = ", ".join(
        f"{count} it was {verbs.get(split, split)} on" for split, count in seen.items()
    )
    return (
        f"{sum(seen.values())} of these {counted(len(pairs), 'image')} are the model's own "
        f"({said}): their scores flatter it; score it on images it has never seen"
    )


def mean_scores(rows: list[dict]) -> dict[str, float | None]:
    """The mean of each score over the images it is defined on (None in a row: undefined,
    `cellseg.metrics.without_undefined`), rounded to 4 decimals (a whole number of cells as
    a whole number: 402, not 402.0); None where no image defines it. `scored_images` says
    how many images each mean is of.

    Examples
    --------
    >>> mean_scores([{name: 1 for name in SCORE_NAMES}, {name: 2 for name in SCORE_NAMES}])["aji"]
    1.5
    >>> mean_scores([{name: 402 for name in SCORE_NAMES}])["true_count"]
    402
    >>> rows = [{name: 0.5 for name in SCORE_NAMES}, {name: None for name in SCORE_NAMES}]
    >>> mean_scores(rows)["recall"], mean_scores(rows[1:])["recall"]
    (0.5, None)
    """
    means: dict[str, float | None] = {}
    for name in SCORE_NAMES:
        values = [row[name] for row in rows if row[name] is not None]
        if not values:
            means[name] = None
            continue
        mean = round(float(np.mean(values)), 4)
        whole = isinstance(values[0], int) and mean.is_integer()
        means[name] = int(mean) if whole else mean
    return means


def scored_images(rows: list[dict]) -> dict[str, int]:
    """How many of the images (``rows``) define each score, so its mean (`mean_scores`)
    is of them.

    Examples
    --------
    >>> rows = [{name: 1.0 for name in SCORE_NAMES}, {name: 1.0 for name in SCORE_NAMES}]
    >>> rows[0]["recall"] = None
    >>> counts = scored_images(rows)
    >>> counts["recall"], counts["aji"]
    (1, 2)
    """
    return {name: sum(row[name] is not None for row in rows) for name in SCORE_NAMES}
