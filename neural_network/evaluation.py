"""Score a trained model on annotated images; tune its post-processing on validation images."""

import numpy as np

from cellseg.errors import CellsegError
from cellseg.image_io import read_image
from cellseg.metrics import SCORE_NAMES, image_scores


def evaluate_images(model, pairs, *, tune: bool = False):
    """Predict every image, optionally tune the thresholds, and score the cells found.

    Parameters
    ----------
    model : cellseg.neural_network.model.TrainedModel
    pairs : list of (image, labels)
        Each an image path or an array.
    tune : bool
        Choose the post-processing thresholds that maximise the mean of AJI and F1 first.

    Returns
    -------
    (Thresholds, dict)
        The thresholds used and the mean of every score (`cellseg.metrics.image_scores`).
    """

    def array(item):
        return item if isinstance(item, np.ndarray) else read_image(item)

    images = [array(image) for image, _ in pairs]
    truths = [array(truth) for _, truth in pairs]
    outputs = [model.output(image) for image in images]
    thresholds = model.thresholds
    if tune:
        from cellseg.neural_network.targets import tune_thresholds

        thresholds, _ = tune_thresholds(outputs, truths, model.target)
    rows = [
        image_scores(truth, model.cells_from_output(output, thresholds))
        for output, truth in zip(outputs, truths, strict=True)
    ]
    return thresholds, mean_scores(rows)


def score_pairs(model, pairs, style=None, *, scale="auto"):
    """Score the cells predicted for each (image, annotation) pair, as ``cellseg predict``
    finds them (`TrainedModel.segment_file`).

    Annotations are red-outline layers or label images (`cellseg.annotations`). A pair
    that cannot be scored (an unreadable file, an annotation of another size than its
    image) does not stop the others.

    Returns
    -------
    (list of dict, list of CellsegError)
        One row of scores per image scored, and the errors of the others.
    """
    from tqdm import tqdm

    from cellseg.annotations import check_same_size, read_annotation_labels
    from cellseg.image_io import read_image_shape

    rows, failures = [], []
    for pair in tqdm(pairs, desc="cellseg evaluate", unit="image", disable=None):
        try:
            truth = read_annotation_labels(pair.annotation, style)
            check_same_size(pair.annotation, truth.shape, pair.image, read_image_shape(pair.image))
            found = model.segment_file(pair.image, scale=scale).whole_labels()
        except CellsegError as error:
            failures.append(error)
            continue
        rows.append({"image": pair.image.name, **image_scores(truth, found)})
    return rows, failures


def seen_in_training(model, pairs) -> dict[str, int]:
    """How many of the images of ``pairs`` the model was trained or validated on, by split
    (``{"training": 3, "validation": 1}``), told by their SHA-256 in its configuration."""
    from cellseg.neural_network.dataset import file_digest

    splits = {entry["image_sha256"]: entry["split"] for entry in model.config.training_files}
    seen: dict[str, int] = {}
    for pair in pairs:
        split = splits.get(file_digest(pair.image))
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
