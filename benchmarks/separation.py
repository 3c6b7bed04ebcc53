"""Splitting merged nuclei after the network: two rules against the shipped post-processing.

    python benchmarks/separation.py [--model default] [--images DIR --labels DIR]
                                    [--validation-images DIR --validation-labels DIR]

The default model counts low, mostly because touching nuclei come out as one cell (the
`merged` column of `cellseg evaluate`). Two rules split the cells the network left whole,
before the model's minimum confidence, and are scored against the model's own cells on its
validation images (those that would choose a rule and its settings) and on the held-out
images (`held_out.py`), at scale 1:

- **deeper cores**: a core (interior probability above the model's ``seed``) holding two
  or more pieces above a higher LEVEL, each of PIECE pixels or more, grows as those pieces
  instead, level after level: the cores split where the network is less sure between them,
  as the h-maxima of the interior probability would split them;
- **shape**: a cell of more than AREA times the training cells' median area (the model's
  ``cell_area``) and solidity under SOLIDITY is cut along its distance transform (the
  maxima of height 1 as markers, then a watershed): the classical split of touching round
  nuclei.

Each row: the mean AJI, F1 at IoU 0.5 and absolute and signed count errors, and the nuclei
merged and split per image (`cellseg.metrics.image_scores`).
"""

import numpy as np
from held_out import add_pair_arguments, held_out_pairs, load_model, validation_pairs
from scipy import ndimage as ndi

from cellseg.postprocessing.instances import Thresholds, cells_from_classes

#: The rules' settings scored: (name, rule, settings).
RULES = (
    ("deeper cores", "cores", {"levels": (0.9,), "piece": 10}),
    ("deeper cores", "cores", {"levels": (0.9,), "piece": 20}),
    ("deeper cores", "cores", {"levels": (0.9, 0.95), "piece": 20}),
    ("shape", "shape", {"area": 1.0, "solidity": 0.9}),
    ("shape", "shape", {"area": 1.5, "solidity": 0.95}),
)
#: Columns of the report, from `cellseg.metrics.image_scores`; "signed" is the count error
#: with its sign (found above drawn: positive).
COLUMNS = ("aji", "f1", "count_error", "signed", "merged", "split")


def deeper_cores(core: np.ndarray, mask: np.ndarray, seed: float, levels, piece: int):
    """Markers: the connected cores of ``core`` above ``seed`` within ``mask``, each
    replaced by its pieces above the next of ``levels`` when it holds two or more of at
    least ``piece`` pixels (smaller pieces and the rest of the core are left to the
    watershed to reach).

    Examples
    --------
    >>> core = np.array([[.85, .95, .85, .95, .85, 0, .95, .85]])
    >>> deeper_cores(core, core > 0, 0.8, (0.9,), 1)
    array([[0, 2, 0, 3, 0, 0, 1, 1]], dtype=int32)
    """
    from skimage.segmentation import relabel_sequential

    markers, _ = ndi.label((core > seed) & mask)
    for level in levels:
        pieces, count = ndi.label((core > level) & mask)
        if not count:
            break
        large = np.bincount(pieces.ravel(), minlength=count + 1) >= piece
        large[0] = False
        parent = np.zeros(count + 1, np.int64)
        parent[pieces[pieces > 0]] = markers[pieces > 0]
        split = np.bincount(parent[large], minlength=markers.max() + 1) >= 2
        split[0] = False
        chosen = large & split[parent]
        if not chosen.any():
            continue
        markers = np.where(split[markers], 0, markers)
        lookup = np.zeros(count + 1, np.int64)
        lookup[chosen] = markers.max() + np.arange(1, chosen.sum() + 1)
        markers = np.where(lookup[pieces] > 0, lookup[pieces], markers)
        markers = relabel_sequential(markers)[0]
    return markers.astype(np.int32)


def shape_split(labels: np.ndarray, cell_area: float, area: float, solidity: float):
    """``labels`` with each cell of more than ``area`` x ``cell_area`` pixels and solidity
    under ``solidity`` cut along its distance transform (h-maxima of height 1 as markers).

    Examples
    --------
    >>> rows, columns = np.ogrid[:21, :40]
    >>> two = ((rows - 10) ** 2 + (columns - 10) ** 2 < 81) | (
    ...     (rows - 10) ** 2 + (columns - 26) ** 2 < 81)
    >>> int(shape_split(two.astype(int), 100, 1.0, 0.95).max())  # solidity 0.94
    2
    """
    from skimage.measure import regionprops
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    split = labels.copy()
    following = int(labels.max()) + 1
    for cell in regionprops(labels):
        if cell.area < area * cell_area or cell.solidity > solidity:
            continue
        mask = np.pad(cell.image, 1)
        depth = ndi.distance_transform_edt(mask)
        peaks = ndi.label(h_maxima(depth, 1))[0]
        if peaks.max() < 2:
            continue
        parts = watershed(-depth, peaks, mask=mask)[1:-1, 1:-1]
        window = split[cell.slice]
        for part in range(2, int(parts.max()) + 1):
            window[(parts == part) & cell.image] = following
            following += 1
    return split


def cells(model, output: np.ndarray, rule: str | None = None, **settings) -> np.ndarray:
    """The model's cells of a 3-class ``output``, split by ``rule`` (None: as the model
    finds them), then those under its minimum confidence left out (`TrainedModel.find_cells`)."""
    thresholds: Thresholds = model.thresholds
    markers = None
    if rule == "cores":
        smoothed = ndi.gaussian_filter(output, (thresholds.smoothing,) * 2 + (0,))
        mask = smoothed[..., 1] + smoothed[..., 2] > thresholds.foreground
        markers = deeper_cores(
            smoothed[..., 1], mask, thresholds.seed, settings["levels"], settings["piece"]
        )
    labels = cells_from_classes(output, thresholds, markers=markers)
    if rule == "shape":
        labels = shape_split(labels, model.config.cell_area, **settings)
    return model.find_cells(output, labels=labels)[0]


def described(settings: dict) -> str:
    """A rule's settings in words.

    Examples
    --------
    >>> described({"levels": (0.9, 0.95), "piece": 20})
    'levels 0.9 0.95, pieces of 20+'
    >>> described({"area": 1.5, "solidity": 0.95})
    'area over 1.5x, solidity under 0.95'
    """
    if "levels" in settings:
        levels = " ".join(f"{level:g}" for level in settings["levels"])
        return f"levels {levels}, pieces of {settings['piece']}+"
    return f"area over {settings['area']:g}x, solidity under {settings['solidity']:g}"


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", help="a model's name or folder (default)")
    for prefix in ("", "validation-"):
        add_pair_arguments(parser, prefix)
    arguments = parser.parse_args()

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()
    from cellseg.image_io import read_image
    from cellseg.metrics import image_scores

    model = load_model(arguments.model)
    if model.target != "3class":
        parser.error(f"only 3-class models have cores to split, not {model.target}")
    sets = {
        "validation": (
            held_out_pairs(arguments.validation_images, arguments.validation_labels)
            if arguments.validation_images
            else validation_pairs(model.config)
        ),
        "held out": held_out_pairs(arguments.images, arguments.labels),
    }
    rows = [("the model's own", None, {}), *RULES]
    print(f"{'images':<11}{'cells':<46}" + "".join(f"{name:>12}" for name in COLUMNS))
    for name, pairs in sets.items():
        found = [(read_image(truth), model.output(read_image(image))) for image, truth in pairs]
        for title, rule, settings in rows:
            scores = []
            for truth, output in found:
                score = image_scores(truth, cells(model, output, rule, **settings))
                score["signed"] = (score["predicted_count"] - score["true_count"]) / max(
                    score["true_count"], 1
                )
                scores.append(score)
            label = f"{title}: {described(settings)}" if settings else title
            means = [np.mean([score[column] for score in scores]) for column in COLUMNS]
            print(f"{name:<11}{label:<46}" + "".join(f"{mean:>12.3f}" for mean in means))


if __name__ == "__main__":
    main()
