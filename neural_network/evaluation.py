"""Score a trained network on annotated images; tune its post-processing on validation images."""

import numpy as np

from cellseg.image_io import read_image
from cellseg.metrics import SCORE_NAMES, image_scores
from cellseg.neural_network.prediction import model_output
from cellseg.neural_network.targets import cells_from_output, tune_thresholds
from cellseg.postprocessing.instances import Thresholds


def evaluate_images(model, config: dict, pairs, *, tune: bool = False):
    """Predict every image, optionally tune the thresholds, and score the cells found.

    Parameters
    ----------
    pairs : list of (image, labels)
        Each an image path or an array.
    tune : bool
        Choose the post-processing thresholds that maximise the mean AJI first.

    Returns
    -------
    (Thresholds, dict)
        The thresholds used and the mean of every score (`cellseg.metrics.image_scores`).
    """

    def array(item):
        return item if isinstance(item, np.ndarray) else read_image(item)

    outputs, truths = [], []
    for image, truth in pairs:
        outputs.append(model_output(model, array(image), config))
        truths.append(array(truth))
    if tune:
        thresholds, _ = tune_thresholds(outputs, truths, config["target"])
    else:
        thresholds = Thresholds.from_dict(config.get("postprocessing", {}))
    rows = [
        image_scores(truth, cells_from_output(output, config["target"], thresholds))
        for output, truth in zip(outputs, truths, strict=True)
    ]
    return thresholds, mean_scores(rows)


def score_pairs(model, config: dict, pairs, style=None, *, scale="auto") -> list[dict]:
    """Score the cells predicted for each (image, annotation) pair; one row per image.

    Annotations are red-outline layers or label images (`cellseg.annotations`); one whose
    size differs from its image is a `CellsegError` naming it. ``scale`` is `segment`'s:
    by default chosen per image as ``cellseg predict`` does.
    """
    from tqdm import tqdm

    from cellseg.annotations import check_same_size, read_annotation_labels
    from cellseg.neural_network.prediction import segment

    rows = []
    for pair in tqdm(pairs, desc="cellseg evaluate", unit="image", disable=None):
        truth = read_annotation_labels(pair.annotation, style)
        image = read_image(pair.image)
        check_same_size(pair.annotation, truth.shape, pair.image, image.shape)
        rows.append(
            {
                "image": pair.image.name,
                **image_scores(truth, segment(model, image, config, scale=scale)),
            }
        )
    return rows


def mean_scores(rows: list[dict]) -> dict[str, float]:
    """The mean of each score over images, rounded to 4 decimals."""
    return {name: round(float(np.mean([row[name] for row in rows])), 4) for name in SCORE_NAMES}
