"""Score a trained model on annotated images; tune its post-processing on validation images."""

from dataclasses import dataclass, field

import numpy as np

from cellseg.errors import CellsegError
from cellseg.image_io import read_image, read_picture
from cellseg.metrics import SCORE_NAMES, image_scores


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
        image_scores(array(truth), model.segment(array(image, read_picture), scale=1).labels)
        for image, truth in pairs
    ]
    return model.thresholds, mean_scores(rows)


@dataclass
class Scores:
    """What `score_pairs` measured: a row of scores per image scored, the errors of the
    images it could not score, and, pooled over every cell found whose confidence is known,
    each cell's confidence and whether it is a real nucleus
    (`cellseg.postprocessing.confidence.real_cells`)."""

    rows: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    confidence: list = field(default_factory=list)
    real: list = field(default_factory=list)

    def reliability(self, bins: int = 10) -> tuple[float, list[dict]]:
        """The confidence's calibration error and its reliability diagram's points."""
        from cellseg.postprocessing.confidence import calibration_error, reliability

        if not self.confidence:
            return float("nan"), []
        confidence, real = np.concatenate(self.confidence), np.concatenate(self.real)
        return calibration_error(confidence, real, bins), reliability(confidence, real, bins)


def score_pairs(model, pairs, style=None, *, scale="auto") -> Scores:
    """Score the cells predicted for each (image, annotation) pair, as ``cellseg predict``
    finds them (`TrainedModel.segment_file`).

    Annotations are red-outline layers or label images (`cellseg.annotations`). A pair
    that cannot be scored (an unreadable file, an annotation of another size than its
    image) does not stop the others.
    """
    from tqdm import tqdm

    from cellseg.annotations import check_same_size, read_annotation_labels
    from cellseg.image_io import read_image_shape
    from cellseg.postprocessing.confidence import real_cells

    scores = Scores()
    for pair in tqdm(pairs, desc="cellseg evaluate", unit="image", disable=None):
        try:
            truth = read_annotation_labels(pair.annotation, style)
            check_same_size(pair.annotation, truth.shape, pair.image, read_image_shape(pair.image))
            result = model.segment_file(pair.image, scale=scale)
            found = result.whole_labels()
        except CellsegError as error:
            scores.failures.append(error)
            continue
        scores.rows.append({"image": pair.image.name, **image_scores(truth, found)})
        if getattr(result, "confidence", None) is not None:
            scores.confidence.append(result.confidence)
            scores.real.append(real_cells(truth, found))
    return scores


def seen_in_training(model, pairs) -> dict[str, int]:
    """How many of the images of ``pairs`` the model was trained or validated on, by split
    (``{"training": 3, "validation": 1}``), told by their SHA-256 in its configuration."""
    from cellseg.neural_network.dataset import file_digest

    splits = {entry["image_sha256"]: entry["split"] for entry in model.config.training_files}
    seen: dict[str, int] = {}
    for pair in pairs:
        try:
            split = splits.get(file_digest(pair.image))
        except OSError:  # unreadable: scoring it will say so, naming it
            continue
        if split is not None:
            seen[split] = seen.get(split, 0) + 1
    return seen


def mean_scores(rows: list[dict]) -> dict[str, float]:
    """The mean of each score over images, rounded to 4 decimals (a whole number of cells
    as a whole number: 402, not 402.0).

    Examples
    --------
    >>> mean_scores([{name: 1 for name in SCORE_NAMES}, {name: 2 for name in SCORE_NAMES}])["aji"]
    1.5
    >>> mean_scores([{name: 402 for name in SCORE_NAMES}])["true_count"]
    402
    """
    means = {name: round(float(np.mean([row[name] for row in rows])), 4) for name in SCORE_NAMES}
    return {
        name: int(value) if isinstance(rows[0][name], int) and value.is_integer() else value
        for name, value in means.items()
    }
