"""The default model against the classical pipeline, on the same held-out images, in one run.

For each image both methods find the cells (the model: network and post-processing; the
classical pipeline: colour deconvolution, Otsu threshold, distance-transform watershed) and
are scored against the exact labels with every metric of `cellseg evaluate`; the time per
image covers reading the image and finding its cells (model loading excluded).

    python benchmarks/default_vs_classical.py [--model default] [--images DIR --labels DIR]

Without folders it uses the MoNuSeg images held out from the default model's training
(scripts/default_model/held_out_images.txt) in ../shared/datasets/monuseg/train.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from cellseg.tensorflow_import import import_tensorflow

ROOT = Path(__file__).resolve().parents[1]
MONUSEG = ROOT.parent / "shared" / "datasets" / "monuseg" / "train"
HELD_OUT = ROOT / "scripts" / "default_model" / "held_out_images.txt"
#: Scores where higher is better; the others (count error, merged, split, missed, spurious)
#: are better lower.
HIGHER_IS_BETTER = ("aji", "f1", "panoptic_quality", "dice", "iou", "precision", "recall")


def held_out_pairs(images: Path | None, labels: Path | None) -> list[tuple[Path, Path]]:
    """(image, labels) paths: each PNG of ``images`` with its namesake in ``labels``, or
    without folders the held-out MoNuSeg images. No image, or one without labels, ends the
    script with one line naming the path, not a table of nothing."""
    if images is None:
        names = [
            line.strip()
            for line in HELD_OUT.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        images, labels = MONUSEG / "images", MONUSEG / "labels"
        pairs = [(images / f"{name}.png", labels / f"{name}.png") for name in names]
    elif labels is None:
        sys.exit(f"{Path(sys.argv[0]).name}: {images}: images need a labels folder too")
    else:
        pairs = [(path, labels / path.name) for path in sorted(images.glob("*.png"))]
    if not pairs:
        sys.exit(f"{Path(sys.argv[0]).name}: {images}: no .png images")
    for pair in pairs:
        for path in pair:
            if not path.is_file():
                sys.exit(f"{Path(sys.argv[0]).name}: {path}: no such file")
    return pairs


def held_out_arguments(description: str) -> argparse.Namespace:
    """``--model`` (default ``default``), and ``--images`` and ``--labels`` folders
    (default: the held-out images, `held_out_pairs`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", default="default")
    parser.add_argument("--images", type=Path)
    parser.add_argument("--labels", type=Path)
    return parser.parse_args()


def load_model(reference: str):
    """The model folder, network and configuration of ``reference`` (a name or a folder).

    A missing or broken model ends the script with one line naming it, not a traceback.
    """
    from cellseg.errors import CellsegError
    from cellseg.neural_network.model_folder import load_network, resolve_model

    try:
        folder = resolve_model(reference)
        return folder, load_network(folder), folder.read_config()
    except CellsegError as error:
        sys.exit(f"{Path(sys.argv[0]).name}: {error}")


def main() -> None:
    arguments = held_out_arguments(__doc__.split("\n\n")[0])
    import_tensorflow()

    from cellseg.image_io import read_image
    from cellseg.metrics import SCORE_NAMES, image_scores
    from cellseg.neural_network.evaluation import mean_scores
    from cellseg.neural_network.prediction import segment
    from cellseg.postprocessing.classical import classical_segmentation

    folder, model, config = load_model(arguments.model)
    methods = {
        "model": lambda image: segment(model, image, config, scale="auto"),  # as predict
        "classical": classical_segmentation,
    }
    pairs = held_out_pairs(arguments.images, arguments.labels)
    segment(model, read_image(pairs[0][0]), config)  # warm-up: trace the network once
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
    print(f"\n{len(pairs)} held-out images, model '{folder.name}'\n")
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
