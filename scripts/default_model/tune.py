"""Fit the shipped default model's post-processing to its validation images again.

    python scripts/default_model/tune.py [MONUSEG_TRAIN_DIR] [--count-spread-only]

Training ends with this step (`cellseg.neural_network.tuning.tuned_on`): the thresholds
that find the cells of the validation images best, the calibration of each cell's
confidence and the least confidence a cell needs to be counted, and how strong the training
images' haematoxylin is (`counterstain_reference`, by which paler counterstains are
strengthened). This runs it alone, on the same validation images
(named in the model's config.json; MONUSEG_TRAIN_DIR, default ../shared/datasets/monuseg/train,
holds them), when the tuning itself changed: the network is not touched. It writes the
model's config.json and prints the validation scores before and after.
``--count-spread-only`` measures only how far the model's counts of those images are from
their drawn nuclei (``count_spread``, which widens the count's interval) and writes that
alone, leaving the rest of the tuning as it is.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "monuseg", nargs="?", type=Path, default=ROOT.parent / "shared/datasets/monuseg/train"
    )
    parser.add_argument("--count-spread-only", action="store_true", help="only count_spread")
    arguments = parser.parse_args()

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    from cellseg.image_io import read_image
    from cellseg.neural_network.model import TrainedModel
    from cellseg.neural_network.model_folder import ModelFolder
    from cellseg.neural_network.tuning import count_spread_on, tuned_on
    from cellseg.preprocessing.colour import (
        counterstain_reference,
        counterstain_strength,
        is_brightfield,
    )

    folder = ModelFolder(ROOT / "trained_models" / "default")
    model = TrainedModel.from_folder(folder)
    files = model.config.training_files
    missing = [
        entry["image"]
        for entry in files
        if not (arguments.monuseg / "images" / entry["image"]).is_file()
    ]
    if missing:
        sys.exit(f"tune.py: {arguments.monuseg}: no {', '.join(missing)}")
    names = [entry["image"] for entry in files if entry["split"] == "validation"]
    images = [read_image(arguments.monuseg / "images" / name) for name in names]
    truths = [read_image(arguments.monuseg / "labels" / name) for name in names]
    if arguments.count_spread_only:
        spread = count_spread_on(model, images, truths)
        print(
            f"count_spread on {len(names)} validation images: "
            f"{model.config.count_spread} -> {spread}"
        )
        folder.write_config(model.config.with_changes(count_spread=spread))
        return
    strengths = []
    for entry in files:
        image = read_image(arguments.monuseg / "images" / entry["image"])
        if entry["split"] == "training" and is_brightfield(image):
            strengths.append(counterstain_strength(image)[0])
    haematoxylin = counterstain_reference(strengths)
    model = model.with_config(haematoxylin=haematoxylin)
    tuned, scores = tuned_on(model, images, truths)
    print(f"{len(names)} validation images: {', '.join(names)}")
    print(f"thresholds: {model.thresholds} -> {tuned.thresholds}")
    print(f"calibration: {tuned.config.calibration}")
    print(f"haematoxylin of the {len(strengths)} training images: {haematoxylin}")
    before = model.config.validation or {}
    for name, value in scores.items():
        print(f"{name:<20} {before.get(name, float('nan')):>9.4f} -> {value:.4f}")
    folder.write_config(tuned.config.with_changes(validation=scores))


if __name__ == "__main__":
    main()
