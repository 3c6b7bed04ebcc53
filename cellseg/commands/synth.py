"""``cellseg synth``: synthetic stained-tissue images with red-outline annotations."""

import argparse

from cellseg.commands.arguments import (
    MAX_SYNTHETIC_COUNT,
    MAX_SYNTHETIC_SIDE,
    add_overwrite_argument,
    fraction,
    random_seed,
    synthetic_count,
    synthetic_side,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg synth",
        description="Write synthetic H&E-like images of nuclei with their annotations, laid "
        "out like the users' data: OUTPUT_DIR/images/<id>.png (RGB), "
        "OUTPUT_DIR/outlines/<id>.png (red outlines on a transparent layer) and "
        "OUTPUT_DIR/labels/<id>.png (exact 16-bit labels).",
    )
    parser.add_argument("output", metavar="OUTPUT_DIR", help="folder to create the sets in")
    parser.add_argument(
        "--count",
        type=synthetic_count,
        default=4,
        help=f"number of images, 1 to {MAX_SYNTHETIC_COUNT} (4)",
    )
    parser.add_argument(
        "--size",
        type=synthetic_side,
        default=256,
        help=f"image side in pixels, 1 to {MAX_SYNTHETIC_SIDE} (256)",
    )
    parser.add_argument("--seed", type=random_seed, default=0, help="random seed (0)")
    parser.add_argument(
        "--positive-fraction",
        type=fraction,
        default=0.0,
        help="fraction of nuclei stained brown, DAB-positive (0)",
    )
    add_overwrite_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from pathlib import Path

    from cellseg.batch import Tally, counted, run_each
    from cellseg.errors import CellsegError
    from cellseg.image_io import write_image
    from cellseg.postprocessing.drawing import outline_layer
    from cellseg.preprocessing.synthetic import synthetic_tissue

    if arguments.positive_fraction > 1:
        raise CellsegError("--positive-fraction must be between 0 and 1")
    output = Path(arguments.output)
    folders = {kind: output / kind for kind in ("images", "outlines", "labels")}
    for folder in folders.values():
        if folder.exists() and not folder.is_dir():
            raise CellsegError(f"{folder}: exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)

    tally = Tally()

    def make_one(index):
        image, labels = synthetic_tissue(
            (arguments.size, arguments.size),
            seed=arguments.seed + index,
            positive_fraction=arguments.positive_fraction,
        )
        name = f"synthetic_{index:03d}.png"
        for kind, content in (
            ("images", image),
            ("outlines", outline_layer(labels)),
            ("labels", labels),
        ):
            tally.file(write_image(folders[kind] / name, content, overwrite=arguments.overwrite))
        tally.done += 1

    code = run_each(list(range(arguments.count)), make_one, command="synth")
    if tally.done:  # what failed is listed above
        print(
            f"cellseg synth: {counted(tally.done, 'synthetic image')} of {arguments.size} x "
            f"{arguments.size} pixels with their outlines and labels in {output} ({tally.files()})"
        )
    return code
