"""More test-time views, or several networks averaged: do they find better cells?

For a trained model, the network's output on each image is averaged over 1, 2 or 4 views
(the image flipped and turned: `cellseg.neural_network.prediction.network_output`'s
``flips``), and over one network (the one the model predicts with, ``best.keras``) or more:
with ``model.keras``, the network after the last epoch (a snapshot ensemble), or with the
networks of the models given by ``--with`` (an ensemble of runs, such as the same recipe
trained with another seed on the same split). For each candidate the post-processing
thresholds are tuned on the model's validation images, as ``cellseg train`` tunes them, then
the cells are scored on the held-out images at scale 1 (`cellseg evaluate --scale 1`), next
to the network's seconds per held-out image.

    python benchmarks/prediction_views.py [--model default] [--with MODEL ...]
        [--images DIR --labels DIR] [--validation-images DIR --validation-labels DIR]

Without folders: the MoNuSeg images held out from the default model's training, as
`benchmarks/default_vs_classical.py` uses, and the model's own validation images (named in
its config.json) from ../shared/datasets/monuseg/train.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from default_vs_classical import MONUSEG, held_out_pairs, load_model

from cellseg.tensorflow_import import import_tensorflow

#: (views, networks) compared: "best" is the network the model predicts with, "last" the
#: one after the last epoch, "with" the networks of the ``--with`` models. The default model
#: predicts as the second.
CANDIDATES = (
    (1, ("best",)),
    (2, ("best",)),
    (4, ("best",)),
    (2, ("best", "last")),
    (4, ("best", "last")),
    (1, ("best", "with")),
    (2, ("best", "with")),
)
#: Columns of the held-out scores (`cellseg.metrics.image_scores`).
COLUMNS = ("aji", "f1", "panoptic_quality", "dice", "count_error", "merged")


def averaged_output(networks, image: np.ndarray, config: dict, flips: int) -> np.ndarray:
    """The mean of the outputs of ``networks`` for ``image``, each averaged over ``flips``
    views, with the model's size divisor and target."""
    from cellseg.neural_network.prediction import network_output

    outputs = [
        network_output(
            network, image, divisor=config.get("divisor", 32), flips=flips, target=config["target"]
        )
        for network in networks
    ]
    return np.mean(outputs, axis=0)


def validation_pairs(config: dict) -> list[tuple[Path, Path]]:
    """The model's validation images, by the names its config.json records, in MoNuSeg."""
    names = [
        entry["image"]
        for entry in config.get("settings", {}).get("data", {}).get("files", [])
        if entry["split"] == "validation"
    ]
    return [(MONUSEG / "images" / name, MONUSEG / "labels" / name) for name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument(
        "--with",
        dest="others",
        nargs="+",
        default=[],
        metavar="MODEL",
        help="models whose networks are averaged with the model's (thresholds, validation "
        "images and divisor are the model's)",
    )
    for prefix in ("", "validation-"):
        parser.add_argument(f"--{prefix}images", type=Path)
        parser.add_argument(f"--{prefix}labels", type=Path)
    arguments = parser.parse_args()
    import_tensorflow()

    from cellseg.image_io import read_image
    from cellseg.metrics import image_scores
    from cellseg.neural_network.evaluation import mean_scores
    from cellseg.neural_network.model_folder import load_network
    from cellseg.neural_network.targets import cells_from_output, tune_thresholds
    from cellseg.postprocessing.instances import Thresholds

    folder, best, config = load_model(arguments.model)
    networks = {"best": [best], "with": [load_model(other)[1] for other in arguments.others]}
    if folder.model_path.is_file() and folder.prediction_path() != folder.model_path:
        networks["last"] = [load_network(folder, folder.model_path)]
    validation = (
        held_out_pairs(arguments.validation_images, arguments.validation_labels)
        if arguments.validation_images
        else validation_pairs(config)
    )
    held_out = held_out_pairs(arguments.images, arguments.labels)
    if not validation:
        parser.error("the model records no validation images: pass --validation-images")
    read = {path: read_image(path) for pair in validation + held_out for path in pair}
    start = Thresholds.from_dict(config.get("postprocessing", {}))
    averaged_output(networks["best"], read[held_out[0][0]], config, 1)  # warm-up

    print(f"{'views':>5} {'networks':<10} {'val AJI':>8} {'val F1':>7}", end="")
    print("".join(f"{name[:11]:>12}" for name in COLUMNS) + f"{'s/image':>9}")
    for flips, names in CANDIDATES:
        if not all(networks.get(name) for name in names):
            continue
        chosen = [network for name in names for network in networks[name]]
        outputs = [averaged_output(chosen, read[image], config, flips) for image, _ in validation]
        truths = [read[labels] for _, labels in validation]
        thresholds, _ = tune_thresholds(outputs, truths, config["target"], start=start)
        tuned = mean_scores(
            [
                image_scores(truth, cells_from_output(output, config["target"], thresholds))
                for output, truth in zip(outputs, truths, strict=True)
            ]
        )
        rows, seconds = [], []
        for image, labels in held_out:
            began = time.perf_counter()
            output = averaged_output(chosen, read[image], config, flips)
            seconds.append(time.perf_counter() - began)
            cells = cells_from_output(output, config["target"], thresholds)
            rows.append(image_scores(read[labels], cells))
        means = mean_scores(rows)
        print(
            f"{flips:>5} {'+'.join(names):<10} {tuned['aji']:>8.3f} {tuned['f1']:>7.3f}"
            + "".join(f"{means[name]:>12.3f}" for name in COLUMNS)
            + f"{np.median(seconds):>9.2f}",
            flush=True,
        )
    print(
        f"\nmodel '{folder.name}': thresholds tuned on {len(validation)} validation images, "
        f"scored on {len(held_out)} held-out images at scale 1; s/image: the network alone"
        + (f"; with: {', '.join(arguments.others)}" if arguments.others else "")
    )


if __name__ == "__main__":
    main()
