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

Without folders: the MoNuSeg images held out from the default model's training
(`benchmarks/held_out.py`), as `benchmarks/default_vs_classical.py` uses, and the model's own
validation images (named in its config.json) from ../shared/datasets/monuseg/train.
"""

import argparse
import time

import numpy as np
from held_out import add_pair_arguments, held_out_pairs, load_model, validation_pairs

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


def with_networks(model, networks, flips: int):
    """``model`` (a `TrainedModel`: its thresholds, size divisor and target) predicting with
    the mean of the outputs of ``networks``, each averaged over ``flips`` views."""
    from cellseg.neural_network.model import TrainedModel

    config = model.config.with_changes(test_time_flips=flips)
    return TrainedModel(networks, config, name=model.name, folder=model.folder)


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
        add_pair_arguments(parser, prefix)
    arguments = parser.parse_args()
    import_tensorflow()

    from cellseg.image_io import read_image
    from cellseg.metrics import image_scores
    from cellseg.neural_network.evaluation import mean_scores
    from cellseg.neural_network.model import TrainedModel
    from cellseg.neural_network.targets import tune_thresholds

    model = load_model(arguments.model)
    networks = {
        "best": model.networks,
        "with": [network for other in arguments.others for network in load_model(other).networks],
    }
    folder = model.folder
    if folder.model_path.is_file() and folder.prediction_path() != folder.model_path:
        networks["last"] = TrainedModel.from_folder(folder, network_path=folder.model_path).networks
    validation = (
        held_out_pairs(arguments.validation_images, arguments.validation_labels)
        if arguments.validation_images
        else validation_pairs(model.config)
    )
    held_out = held_out_pairs(arguments.images, arguments.labels)
    if not validation:
        parser.error("the model records no validation images: pass --validation-images")
    read = {path: read_image(path) for pair in validation + held_out for path in pair}
    model.output(read[held_out[0][0]], flips=1)  # warm-up

    print(f"{'views':>5} {'networks':<10} {'val AJI':>8} {'val F1':>7}", end="")
    print("".join(f"{name[:11]:>12}" for name in COLUMNS) + f"{'s/image':>9}")
    for flips, names in CANDIDATES:
        if not all(networks.get(name) for name in names):
            continue
        chosen = [network for name in names for network in networks[name]]
        candidate = with_networks(model, chosen, flips)
        outputs = [candidate.output(read[image]) for image, _ in validation]
        truths = [read[labels] for _, labels in validation]
        # The outputs serve both tuning and scoring (`TrainedModel.tune` would compute them
        # again).
        thresholds, _ = tune_thresholds(outputs, truths, model.target, start=model.thresholds)
        tuned = mean_scores(
            [
                image_scores(truth, candidate.cells_from_output(output, thresholds))
                for output, truth in zip(outputs, truths, strict=True)
            ]
        )
        rows, seconds = [], []
        for image, labels in held_out:
            began = time.perf_counter()
            output = candidate.output(read[image])
            seconds.append(time.perf_counter() - began)
            cells = candidate.cells_from_output(output, thresholds)
            rows.append(image_scores(read[labels], cells))
        means = mean_scores(rows)
        print(
            f"{flips:>5} {'+'.join(names):<10} {tuned['aji']:>8.3f} {tuned['f1']:>7.3f}"
            + "".join(f"{means[name]:>12.3f}" for name in COLUMNS)
            + f"{np.median(seconds):>9.2f}",
            flush=True,
        )
    print(
        f"\nmodel '{model.name}': thresholds tuned on {len(validation)} validation images, "
        f"scored on {len(held_out)} held-out images at scale 1; s/image: the network alone"
        + (f"; with: {', '.join(arguments.others)}" if arguments.others else "")
    )


if __name__ == "__main__":
    main()
