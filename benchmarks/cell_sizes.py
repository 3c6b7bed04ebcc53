"""Whether a cell's size tells a real nucleus from a false one, on three sources: a size
prior for the count (issue #29), measured before it is built.

    python benchmarks/cell_sizes.py [--model default]

Finds the cells of the model's validation images, of the MoNuSeg images held out from its
training and of the Data Science Bowl 2018's stained brightfield tissue as `cellseg predict`
does (``--scale auto``), keeping those of any confidence, and marks the real ones
(`real_cells`). Per source and per band of cell area (at the network's scale, against the
training cells' median, the model's ``cell_area``), among the cells the model counts: how
many, the share of them real, and their mean confidence. Then the calibration is fitted
again on the validation cells, on the confidence alone and with the cell's log area as a
second input (logistic regression), and each source is scored with it as the model counts
(its minimum confidence): the calibration error over 10 bins and the mean absolute count
error per image. A size prior helps only where small cells are false on every source.
"""

import argparse

import numpy as np
from held_out import brightfield_tissue_pairs, held_out_pairs, load_model, validation_pairs
from scipy.optimize import minimize
from scipy.special import expit, logit

from cellseg.postprocessing.confidence import CONFIDENCE_EDGE, calibration_error

#: Bands of cell area, as multiples of the training cells' median area.
BANDS = (0.0, 0.35, 0.55, 0.75, 1.2, np.inf)
#: The calibrations compared: the model's own, and two fitted again on the validation cells,
#: with the cells' log area as a second input or without (None: the model's).
CALIBRATIONS = (("as shipped", None), ("confidence", False), ("confidence and log area", True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    arguments = parser.parse_args()

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    model = load_model(arguments.model)
    sources = {
        "validation": validation_pairs(model.config),
        "monuseg": held_out_pairs(None, None),
        "dsb": brightfield_tissue_pairs(),
    }
    found = {source: cells_of(model, pairs) for source, pairs in sources.items()}
    minimum = model.thresholds.min_confidence
    print(
        f"Cells counted (confidence >= {minimum:g}) by area, as a multiple of the training "
        f"cells' median ({model.config.cell_area:g} pixels): cells, share real, mean confidence"
    )
    print(f"{'source':<11}" + "".join(f"{band_name(i):>22}" for i in range(len(BANDS) - 1)))
    for source, images in found.items():
        confidence, area, real = (
            np.concatenate([image[key] for image in images])
            for key in ("confidence", "area", "real")
        )
        counted = confidence >= minimum
        band = np.digitize(area / model.config.cell_area, BANDS[1:-1])
        line = f"{source:<11}"
        for index in range(len(BANDS) - 1):
            inside = counted & (band == index)
            share = f"{real[inside].mean():.2f}" if inside.any() else "-"
            mean = f"{confidence[inside].mean():.2f}" if inside.any() else "-"
            line += f"{f'{inside.sum()}, {share}, {mean}':>22}"
        print(line)
    print(
        "The model's calibration, and one fitted again on the validation cells: calibration "
        f"error, and mean absolute count error at a minimum confidence of {minimum:g}"
    )
    cell_area = model.config.cell_area
    for name, with_area in CALIBRATIONS:
        if with_area is None:  # the identity on the model's own confidence
            with_area, weights = False, [1.0, 0.0]
        else:
            weights = fitted(found["validation"], cell_area, with_area)
        scores = []
        for source, images in found.items():
            sure = [expit(design(image, cell_area, with_area) @ weights) for image in images]
            pooled = np.concatenate(sure)
            real = np.concatenate([image["real"] for image in images])
            kept = pooled >= minimum
            errors = [
                abs(int((p >= minimum).sum()) - image["drawn"]) / image["drawn"]
                for p, image in zip(sure, images, strict=True)
            ]
            scores.append(
                f"{source} {calibration_error(pooled[kept], real[kept]):.3f}, {np.mean(errors):.1%}"
            )
        print(f"  {name:<24} " + "; ".join(scores))


def cells_of(model, pairs) -> list[dict]:
    """Each image's cells of any confidence: their ``confidence``, ``area`` at the
    network's scale and whether each is ``real``, and the nuclei ``drawn``."""
    from dataclasses import replace

    from cellseg.image_io import read_image
    from cellseg.metrics import count_objects
    from cellseg.postprocessing.confidence import real_cells

    every = model.with_config(thresholds=replace(model.thresholds, min_confidence=0.0))
    images = []
    for image_path, labels_path in pairs:
        image, truth = read_image(image_path)[..., :3], read_image(labels_path)
        cells = every.segment(image)
        area = np.bincount(cells.labels.ravel(), minlength=len(cells.confidence) + 1)[1:]
        images.append(
            {
                "confidence": cells.confidence,
                "area": area * cells.scale**2,
                "real": real_cells(truth, cells.labels),
                "drawn": max(count_objects(truth), 1),
            }
        )
    return images


def band_name(index: int) -> str:
    """``"under 0.35x"``, ``"0.35-0.55x"``, ... ``"1.2x and over"``."""
    low, high = BANDS[index], BANDS[index + 1]
    if low == 0:
        return f"under {high:g}x"
    return f"{low:g}x and over" if high == np.inf else f"{low:g}-{high:g}x"


def design(image: dict, cell_area: float, with_area: bool) -> np.ndarray:
    """The inputs of the logistic regression, one row per cell: the confidence's logit,
    ``with_area`` the log of its area against the training cells', and 1."""
    confidence = np.clip(image["confidence"], CONFIDENCE_EDGE, 1 - CONFIDENCE_EDGE)
    columns = [logit(confidence)]
    if with_area:
        columns.append(np.log(np.maximum(image["area"], 1) / cell_area))
    return np.stack([*columns, np.ones(len(confidence))], axis=1)


def fitted(images: list[dict], cell_area: float, with_area: bool) -> np.ndarray:
    """The weights of the logistic regression of real on `design`, by maximum likelihood."""
    x = np.concatenate([design(image, cell_area, with_area) for image in images])
    y = np.concatenate([image["real"] for image in images]).astype(float)

    def loss(weights):
        z = x @ weights
        return np.sum(np.logaddexp(0, z) - y * z), x.T @ (expit(z) - y)

    return minimize(loss, np.zeros(x.shape[1]), jac=True, method="BFGS").x


if __name__ == "__main__":
    main()
