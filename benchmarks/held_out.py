"""The images a benchmark scores a model on, and the model, for the scripts that score one.

By default the MoNuSeg images held out from the default model's training
(scripts/default_model/held_out_images.txt) in ../shared/datasets/monuseg/train, with their
exact labels; ``--images DIR --labels DIR`` gives each PNG of DIR with its namesake labels
instead. `default_vs_classical.py`, `error_sources.py`, `prediction_views.py`,
`separation.py` and `stain_robustness.py` import from here (the model's validation images
too, `validation_pairs`); run as a script, it lists the pairs it finds:

    python benchmarks/held_out.py [--images DIR --labels DIR]
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONUSEG = ROOT.parent / "shared" / "datasets" / "monuseg" / "train"
DSB2018 = ROOT.parent / "shared" / "datasets" / "dsb2018" / "train"
HELD_OUT = ROOT / "scripts" / "default_model" / "held_out_images.txt"


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
        sys.exit(f"{_script()}: {images}: images need a labels folder too")
    else:
        pairs = [(path, labels / path.name) for path in sorted(images.glob("*.png"))]
    if not pairs:
        sys.exit(f"{_script()}: {images}: no .png images")
    for pair in pairs:
        for path in pair:
            if not path.is_file():
                sys.exit(f"{_script()}: {path}: no such file")
    return pairs


def validation_pairs(config) -> list[tuple[Path, Path]]:
    """The validation images of a model's configuration (`ModelConfig`), by the names its
    config.json records, in MoNuSeg."""
    names = [entry["image"] for entry in config.training_files if entry["split"] == "validation"]
    return [(MONUSEG / "images" / name, MONUSEG / "labels" / name) for name in names]


def brightfield_tissue_pairs(folder: Path = DSB2018) -> list[tuple[Path, Path]]:
    """(image, labels) paths of the Data Science Bowl 2018's stained brightfield tissue: its
    colour images on a light background (mean brightness 100 or more, a mean spread of
    more than 20 between their colour channels), which no cellseg model shipped trains on:
    a second source of held-out images, from other labs and microscopes than MoNuSeg's."""
    from cellseg.image_io import read_image

    pairs = []
    for path in sorted((folder / "images").glob("*.png")):
        image = read_image(path)
        if image.ndim != 3:
            continue
        rgb = image[..., :3].astype(int)
        if rgb.mean() >= 100 and (rgb.max(axis=-1) - rgb.min(axis=-1)).mean() > 20:
            pairs.append((path, folder / "labels" / path.name))
    if not pairs:
        sys.exit(f"{_script()}: {folder}: no brightfield tissue images")
    return pairs


def add_pair_arguments(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """``--{prefix}images`` and ``--{prefix}labels`` folders, as `held_out_pairs` takes."""
    parser.add_argument(
        f"--{prefix}images",
        type=Path,
        metavar="DIR",
        help="PNG images (default: the held-out MoNuSeg images)",
    )
    parser.add_argument(
        f"--{prefix}labels", type=Path, metavar="DIR", help="their labels, of the same names"
    )


def held_out_arguments(description: str) -> argparse.Namespace:
    """``--model`` (default ``default``), and ``--images`` and ``--labels`` folders
    (default: the held-out images, `held_out_pairs`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", default="default", help="a model's name or folder (default)")
    add_pair_arguments(parser)
    return parser.parse_args()


def compared_models_arguments(description: str) -> argparse.Namespace:
    """``--model``, given once per model to compare (``models``: ``["default"]`` without
    it), and ``--images`` and ``--labels`` folders (default: the held-out images)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", action="append", help="model(s) to compare (default)")
    add_pair_arguments(parser)
    arguments = parser.parse_args()
    arguments.models = arguments.model or ["default"]
    return arguments


def load_model(reference: str):
    """The `TrainedModel` of ``reference`` (a name or a folder).

    A missing or broken model ends the script with one line naming it, not a traceback.
    """
    from cellseg.errors import CellsegError
    from cellseg.neural_network.model import TrainedModel

    try:
        return TrainedModel.load(reference)
    except CellsegError as error:
        sys.exit(f"{_script()}: {error}")


def _script() -> str:
    """The name of the script that runs, as its one-line errors begin."""
    return Path(sys.argv[0]).name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_pair_arguments(parser)
    arguments = parser.parse_args()
    pairs = held_out_pairs(arguments.images, arguments.labels)
    for image, labels in pairs:
        print(f"{image}\t{labels}")
    print(f"{len(pairs)} image pairs")


if __name__ == "__main__":
    main()
