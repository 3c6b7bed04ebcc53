"""``cellseg predict``: find, outline, measure and count the cells of images with a model."""

import argparse

from cellseg.commands.arguments import (
    add_model_argument,
    add_overlay_arguments,
    optical_density,
    scale_or_auto,
    shard,
)
from cellseg.output_formats import FORMATS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg predict",
        description="Find the cells of images with a trained model. For each image <stem>: "
        "<stem>_labels.png (16-bit, one id per cell), <stem>_outlines.png (red outlines on a "
        "transparent layer, the annotation format: correct it and train again), "
        "<stem>_overlay.png (outlines over the image) and <stem>_cells.csv; for all images "
        "counts.csv (one row per image: count, mean area, the scale used) and cells.csv (one "
        "row per cell: position, area, perimeter, eccentricity, mean haematoxylin and DAB "
        "optical density). Running the same command again skips the images already done.",
    )
    add_model_argument(parser)
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    parser.add_argument("--output", required=True, metavar="DIR", help="folder for the results")
    parser.add_argument(
        "--format",
        nargs="+",
        choices=tuple(FORMATS),
        default=["png"],
        help="; ".join(f"{name}: {output.help}" for name, output in FORMATS.items()),
    )
    parser.add_argument(
        "--shard",
        type=shard,
        metavar="K/N",
        help="process only the K-th of N equal shares of the images (for cluster job "
        "arrays: scripts/predict_slurm.sh)",
    )
    parser.add_argument(
        "--scale",
        type=scale_or_auto,
        default="auto",
        metavar="FACTOR",
        help="enlarge (or shrink) the images by FACTOR before the network, so that their "
        "cells take the size the model was trained on: 2 for 20x images with a model "
        "trained at 40x such as the default; results keep the images' own size. 'auto' "
        "(the default) measures the cells found first and enlarges images whose cells are "
        "much smaller than the training cells, up to 2x; 1 turns it off",
    )
    parser.add_argument(
        "--positive-threshold",
        type=optical_density,
        metavar="OD",
        help="mean DAB optical density from which a cell counts as DAB-positive (QuPath's "
        "scale; 0.2 is a common start): adds positive counts and percentages",
    )
    add_overlay_arguments(parser)
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="predict images again even when their results are there (by default a re-run "
        "skips them, so an interrupted run resumes)",
    )
    return parser


#: What an interrupted prediction should do next (the command line prints it on Ctrl-C).
INTERRUPTED = "run the same command again: the images already finished are kept"


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    from tqdm import tqdm

    from cellseg.batch import image_files, prepare_output_folder, run_each
    from cellseg.commands.arguments import overlay_style
    from cellseg.neural_network.model import SlideCells, TrainedModel
    from cellseg.prediction_files import PredictionFiles
    from cellseg.tables import text_table

    model = TrainedModel.load(arguments.model, models_root=arguments.models_dir)
    files = image_files(arguments.inputs)
    mine = files if arguments.shard is None else files[arguments.shard[0] - 1 :: arguments.shard[1]]
    output = prepare_output_folder(arguments.output, [*arguments.inputs, model.folder.path])
    results = PredictionFiles(
        output,
        positive_threshold=arguments.positive_threshold,
        overwrite=arguments.overwrite,
        formats=arguments.format,
        settings={**model.identity(), "scale": arguments.scale},
        overlay=overlay_style(arguments),
    )
    todo = [path for path in mine if not results.finished(path.name)]
    if len(todo) < len(mine):
        print(
            f"cellseg predict: {len(mine) - len(todo)} images already predicted in {output} "
            "with this model and these settings, skipped (--overwrite predicts them again)"
        )
    enlarged = {}

    def predict_one(path):
        bars = []  # a slide's progress bar, once it is known to be one
        found = model.segment_file(
            path, scale=arguments.scale, progress=lambda: bars and bars[0].update()
        )
        if isinstance(found, SlideCells):
            bars.append(
                tqdm(
                    total=found.region_count,
                    desc=path.name,
                    unit="region",
                    disable=None,
                    leave=False,
                )
            )
        if arguments.scale == "auto" and found.scale != 1:
            enlarged[path.name] = found.scale
        try:
            results.add(path.name, found)
        finally:
            for bar in bars:
                bar.close()

    try:
        code = run_each(todo, predict_one, command="predict") if todo else 0
    finally:  # the finished images are counted, however the others ended
        counts = results.finish([path.name for path in files])
    mine_names = {path.name for path in mine}
    shown = [row for row in counts if row["image"] in mine_names]
    if shown:
        print(text_table(shown, results.count_columns))
        total = sum(row["count"] for row in shown)
        print(f"cellseg predict: {total} cells in {len(shown)} images; results in {output}")
    if enlarged:
        listed = ", ".join(f"{name} {factor:g}x" for name, factor in enlarged.items())
        print(
            f"cellseg predict: cells smaller than the model's, images enlarged before the "
            f"network (--scale auto): {listed}; pass --scale 1 to turn this off"
        )
    return code
