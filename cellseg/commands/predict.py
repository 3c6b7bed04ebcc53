"""``cellseg predict``: find, outline, measure and count the cells of images with a model."""

import argparse

from cellseg.commands.arguments import (
    add_model_argument,
    add_overlay_arguments,
    add_positivity_argument,
    confidence_level,
    pixel_size,
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
        "(the default): from the image's pixel size when its file records it (or "
        "--pixel-size), else 1, 2 or 4, whichever the network is surest of on the image's "
        "centre; 1 turns it off",
    )
    parser.add_argument(
        "--pixel-size",
        type=pixel_size,
        metavar="UM",
        help="micrometres per pixel of the images (their files' own record otherwise): "
        "adds areas in um2 and perimeters in um, and sets --scale auto's enlargement",
    )
    parser.add_argument(
        "--min-confidence",
        type=confidence_level,
        metavar="P",
        help="leave out cells less likely than P (0-1) to be real nuclei (the model's own, "
        "tuned on its validation images, by default)",
    )
    add_positivity_argument(parser)
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

    from dataclasses import replace

    from tqdm import tqdm

    from cellseg.batch import counted, image_files, prepare_output_folder, run_each
    from cellseg.commands.arguments import overlay_style
    from cellseg.image_metadata import read_pixel_size
    from cellseg.neural_network.model import SlideCells, TrainedModel
    from cellseg.prediction_files import PredictionFiles
    from cellseg.tables import text_table

    model = TrainedModel.load(arguments.model, models_root=arguments.models_dir)
    if arguments.min_confidence is not None:
        model = model.with_config(
            thresholds=replace(model.thresholds, min_confidence=arguments.min_confidence)
        )
    files = image_files(arguments.inputs)
    mine = files if arguments.shard is None else files[arguments.shard[0] - 1 :: arguments.shard[1]]
    output = prepare_output_folder(arguments.output, [*arguments.inputs, model.folder.path])
    results = PredictionFiles(
        output,
        positive_threshold=arguments.positive_threshold,
        overwrite=arguments.overwrite,
        formats=arguments.format,
        settings={
            **model.identity(),
            "scale": arguments.scale,
            "min_confidence": model.thresholds.min_confidence,
        },
        overlay=overlay_style(arguments),
        pixel_size=arguments.pixel_size,
    )
    todo = [path for path in mine if not results.finished(path.name)]
    if len(todo) < len(mine):
        print(
            f"cellseg predict: {len(mine) - len(todo)} images already predicted in {output} "
            "with this model and these settings, skipped (--overwrite predicts them again)"
        )
    enlarged, strengthened = {}, {}

    def predict_one(path):
        bars = []  # a slide's progress bar, once it is known to be one
        pixel_size = arguments.pixel_size or read_pixel_size(path)
        scale, why = arguments.scale, "the cells the network is surest of"
        if scale == "auto" and model.scale_for_pixel_size(pixel_size):
            scale, why = model.scale_for_pixel_size(pixel_size), f"{pixel_size:g} um pixels"
        found = model.segment_file(path, scale=scale, progress=lambda: bars and bars[0].update())
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
            enlarged[path.name] = (found.scale, why)
        if getattr(found, "counterstain", 1) != 1:  # SlideCells: none yet
            strengthened[path.name] = found.counterstain
        try:
            results.add(path.name, found, pixel_size=pixel_size)
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
        print(
            f"cellseg predict: {counted(total, 'cell')} in {counted(len(shown), 'image')}; "
            f"results in {output}"
        )
    if enlarged:
        listed = ", ".join(
            f"{name} {factor:g}x (from {why})" for name, (factor, why) in enlarged.items()
        )
        print(
            f"cellseg predict: images of smaller cells than the model's, enlarged before "
            f"the network (--scale auto): {listed}; --scale sets it yourself"
        )
    if strengthened:
        listed = ", ".join(f"{name} x{factor:g}" for name, factor in strengthened.items())
        print(
            "cellseg predict: haematoxylin paler than the model's training images, without "
            f"eosin, strengthened before the network (outputs show the image as it is): {listed}"
        )
    return code
