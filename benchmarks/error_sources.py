"""Where a model's errors come from: finding and separating the cells, or their outlines.

A model's cells come from two things it predicts: one core per cell (the marker its cell
grows from) and the foreground the cores grow over. This scores, on images with exact
labels, the model's cells three ways:

- **network**: as `cellseg evaluate --scale 1` finds them, before the model's minimum
  confidence leaves any out (the other two rows have no confidences to filter by);
- **true centres**: the network's foreground, but grown from the annotated nuclei, one
  marker each (the pixel of each nucleus farthest from its edge): what perfect detection and
  separation would score with this foreground;
- **true foreground**: the network's cores, grown over the annotated foreground: what
  perfect outlines would score with these cores.

The gap between the first row and each other is what that half of the problem costs.
Per image it also compares the sizes drawn and found: the share of the image's pixels that
are nucleus, and how large each nucleus matched at IoU 0.5 is found (the median of found
area over drawn area): how far off the areas that `cellseg predict` reports run.

    python benchmarks/error_sources.py [--model default] [--images DIR --labels DIR]

Without folders it uses the MoNuSeg images held out from the default model's training
(`benchmarks/held_out.py`), as `benchmarks/default_vs_classical.py` does. Images are scored
at their own scale (no ``--scale auto`` enlargement), so the first row is
`cellseg evaluate --scale 1`'s.
"""

import numpy as np
from held_out import held_out_arguments, held_out_pairs, load_model
from scipy import ndimage as ndi

from cellseg.metrics import overlaps
from cellseg.neural_network.targets import cells_from_output, get_target
from cellseg.postprocessing.instances import Thresholds
from cellseg.tensorflow_import import import_tensorflow

#: The rows of the report, in order.
SOURCES = ("network", "true centres", "true foreground")
#: Columns of the report: scores (then counts per image) of `cellseg.metrics.image_scores`.
COLUMNS = ("aji", "f1", "panoptic_quality", "dice", "count_error")
COUNTS = ("merged", "split", "missed", "spurious")


def centre_markers(labels: np.ndarray) -> np.ndarray:
    """One marker pixel per cell of ``labels``, labelled as its cell: the pixel farthest from
    the cell's edge, inside the cell even where the cell is curved round its centroid."""
    from skimage.segmentation import find_boundaries

    ids = np.unique(labels)
    ids = ids[ids != 0]
    inside = (labels > 0) & ~find_boundaries(labels, mode="inner")
    depth = ndi.distance_transform_edt(inside)
    markers = np.zeros(labels.shape, np.int32)
    for cell, (row, column) in zip(ids, ndi.maximum_position(depth, labels, ids), strict=True):
        markers[row, column] = cell
    return markers


def size_comparison(truth: np.ndarray, found: np.ndarray) -> dict[str, float]:
    """How the sizes of the ``found`` cells compare with the ``truth``: the share of pixels
    each calls nucleus (``drawn``, ``found``), and the median of found area over drawn area
    among the nuclei matched at IoU 0.5 (``matched_area_ratio``, nan when none match).

    Examples
    --------
    >>> truth = np.zeros((4, 10), int); truth[:, :4] = 1; truth[:, 5:] = 2
    >>> found = np.zeros((4, 10), int); found[:, :3] = 1; found[1:, 5:] = 2
    >>> size_comparison(truth, found)
    {'drawn': 0.9, 'found': 0.675, 'matched_area_ratio': 0.75}
    """
    pairs = overlaps(truth, found)
    iou = pairs.iou
    ratio = np.nan
    if iou.size:
        best = iou.argmax(axis=1)
        matched = iou[np.arange(best.size), best] > 0.5  # unique above 0.5
        if matched.any():
            areas = pairs.predicted_areas[best[matched]] / pairs.truth_areas[matched]
            ratio = float(np.median(areas))
    return {
        "drawn": float(np.mean(truth > 0)),
        "found": float(np.mean(found > 0)),
        "matched_area_ratio": ratio,
    }


def error_sources(
    output: np.ndarray, truth: np.ndarray, target: str, thresholds: Thresholds
) -> dict[str, np.ndarray]:
    """The cells of a class ``output`` (see `SOURCES`): the network's own, grown from the
    true centres, and grown over the true foreground."""
    if not get_target(target).classes:
        raise ValueError(f"only class outputs have cores, not {target}")
    return {
        "network": cells_from_output(output, target, thresholds),
        "true centres": cells_from_output(
            output, target, thresholds, markers=centre_markers(truth)
        ),
        "true foreground": cells_from_output(output, target, thresholds, foreground=truth > 0),
    }


def main() -> None:
    arguments = held_out_arguments(__doc__.split("\n\n")[0])
    import_tensorflow()

    from cellseg.image_io import read_image
    from cellseg.metrics import image_scores
    from cellseg.neural_network.evaluation import mean_scores

    model = load_model(arguments.model)
    rows = {source: [] for source in SOURCES}
    pairs = held_out_pairs(arguments.images, arguments.labels)
    for image_path, labels_path in pairs:
        truth = read_image(labels_path)
        output = model.output(read_image(image_path))
        found = error_sources(output, truth, model.target, model.thresholds)
        for source in SOURCES:
            rows[source].append(image_scores(truth, found[source]))
        sizes = size_comparison(truth, found["network"])
        print(
            f"{image_path.stem}: AJI "
            + ", ".join(f"{source} {rows[source][-1]['aji']:.3f}" for source in SOURCES)
            + f"; nucleus pixels drawn {sizes['drawn']:.1%}, found {sizes['found']:.1%}"
            + f"; matched nuclei found at {sizes['matched_area_ratio']:.2f}x their area"
        )
    print(f"\n{len(pairs)} images, model '{model.name}', scale 1; counts per image\n")
    header = [*COLUMNS, *COUNTS]
    print(f"{'cells from':<16}" + "".join(f"{name:>17}" for name in header))
    for source in SOURCES:
        means = mean_scores(rows[source])
        print(f"{source:<16}" + "".join(f"{means[name]:>17.3f}" for name in header))


if __name__ == "__main__":
    main()
