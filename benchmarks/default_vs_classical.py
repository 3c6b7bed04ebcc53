"""The default model against the classical pipeline, on the same held-out images, in one run.

For each image both methods find the cells (the model: network and post-processing; the
classical pipeline: colour deconvolution, Otsu threshold, distance-transform watershed) and
are scored against the exact labels with every metric of `cellseg evaluate`; the time per
image covers reading the image and finding its cells (model loading excluded).

    python benchmarks/default_vs_classical.py [--model default] [--images DIR --labels DIR]

Without folders it uses the MoNuSeg images held out from the default model's training
(scripts/default_model/held_out_images.txt) in ../shared/datasets/monuseg/train
(`benchmarks/held_out.py`).
"""

import time

import numpy as np
from held_out import held_out_arguments, held_out_pairs, load_model

from cellseg.tensorflow_import import import_tensorflow

#: Scores where higher is better; the others (count error, merged, split, missed, spurious)
#: are better lower.
HIGHER_IS_BETTER = ("aji", "f1", "panoptic_quality", "dice", "iou", "precision", "recall")


def main() -> None:
    arguments = held_out_arguments(__doc__.split("\n\n")[0])
    import_tensorflow()

    from cellseg.image_io import read_image
    from cellseg.metrics import SCORE_NAMES, image_scores
    from cellseg.neural_network.evaluation import mean_scores
    from cellseg.postprocessing.classical import classical_segmentation

    model = load_model(arguments.model)
    methods = {
        "model": lambda image: model.segment(image, scale="auto").labels,  # as predict
        "classical": classical_segmentation,
    }
    pairs = held_out_pairs(arguments.images, arguments.labels)
    model.segment(read_image(pairs[0][0]), scale=1)  # warm-up: trace the network once
    rows = {name: [] for name in methods}
    seconds = {name: [] for name in methods}
    for image_path, labels_path in pairs:
        truth = read_image(labels_path)
        for name, method in methods.items():
            start = time.perf_counter()
            found = method(read_image(image_path))
            seconds[name].append(time.perf_counter() - start)
            rows[name].append(image_scores(truth, found))
        print(
            f"{image_path.stem}: AJI model {rows['model'][-1]['aji']:.3f}, "
            f"classical {rows['classical'][-1]['aji']:.3f}"
        )
    means = {name: mean_scores(rows[name]) for name in methods}
    print(f"\n{len(pairs)} held-out images, model '{model.name}'\n")
    print(f"{'score':<17} {'model':>8} {'classical':>10}  better")
    wins = compared = 0
    for score in (*SCORE_NAMES, "seconds per image"):
        if score == "seconds per image":
            model_value, classical_value = (
                np.median(seconds["model"]),
                np.median(seconds["classical"]),
            )
        else:
            model_value, classical_value = means["model"][score], means["classical"][score]
        if score in ("true_count", "predicted_count"):
            print(f"{score:<17} {model_value:>8.1f} {classical_value:>10.1f}")
            continue
        higher = score in HIGHER_IS_BETTER
        model_better = model_value > classical_value if higher else model_value < classical_value
        if score != "seconds per image":
            wins, compared = wins + model_better, compared + 1
        print(
            f"{score:<17} {model_value:>8.4f} {classical_value:>10.4f}  "
            f"{'model' if model_better else 'classical'}"
        )
    print(f"\nthe model is better on {wins} of {compared} quality scores")


if __name__ == "__main__":
    main()
