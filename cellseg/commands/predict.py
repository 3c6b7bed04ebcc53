"""``cellseg predict``: find, outline, measure and count the cells of images with a model."""

import argparse

from cellseg.commands.arguments import non_negative_float, scale_or_auto, shard


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
    parser.add_argument("model", metavar="MODEL", help="model folder, or a name in trained_models/")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    parser.add_argument("--output", required=True, metavar="DIR", help="folder for the results")
    parser.add_argument(
        "--format",
        nargs="+",
        choices=("png", "tiff", "geojson"),
        default=["png"],
        help="png: labels, red outlines and overlay as PNG (default); tiff: a 32-bit label "
        "TIFF that napari and Fiji open as labels; geojson: cell polygons with their "
        "measurements, for QuPath (File > Import objects)",
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
        type=non_negative_float,
        metavar="OD",
        help="mean DAB optical density from which a cell counts as DAB-positive (QuPath's "
        "scale; 0.2 is a common start): adds positive counts and percentages",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="predict images again even when their results are there (by default a re-run "
        "skips them, so an interrupted run resumes)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    from math import prod

    from tqdm import tqdm

    from cellseg.batch import image_files, prepare_output_folder, run_each
    from cellseg.image_io import is_tiff, read_image, read_image_shape
    from cellseg.neural_network.model_folder import load_network, resolve_model
    from cellseg.neural_network.prediction import AUTO, segment_at_scale
    from cellseg.neural_network.whole_slide import (
        REGION_MODE_PIXELS,
        ArrayRegions,
        TiffRegions,
        region_cells,
        region_count,
        slide_scale,
    )
    from cellseg.prediction_files import PredictionFiles
    from cellseg.tables import text_table

    folder = resolve_model(arguments.model)
    files = image_files(arguments.inputs)
    mine = files if arguments.shard is None else files[arguments.shard[0] - 1 :: arguments.shard[1]]
    output = prepare_output_folder(arguments.output, [*arguments.inputs, folder.path])
    results = PredictionFiles(
        output,
        positive_threshold=arguments.positive_threshold,
        overwrite=arguments.overwrite,
        formats=arguments.format,
    )
    todo = [path for path in mine if not results.finished(path.name)]
    if len(todo) < len(mine):
        print(
            f"cellseg predict: {len(mine) - len(todo)} images already predicted in {output}, "
            "skipped (--overwrite predicts them again)"
        )
    config = folder.read_config()
    model = load_network(folder) if todo else None
    scale = arguments.scale
    size_scale = 1.0 if scale == AUTO else scale  # what decides between whole and regions
    enlarged = {}

    def predict_one(path):
        if is_tiff(path) and prod(read_image_shape(path)) * size_scale**2 > REGION_MODE_PIXELS:
            source = TiffRegions(path)  # read lazily: the slide is never held whole
        else:
            image = read_image(path)
            if image.shape[0] * image.shape[1] * size_scale**2 <= REGION_MODE_PIXELS:
                labels, used = segment_at_scale(model, image, config, scale)
                if scale == AUTO and used != 1:
                    enlarged[path.name] = used
                results.add(path.name, image, labels, scale=used)
                return
            source = ArrayRegions(image)
        try:
            slide, known = scale, None
            if scale == AUTO:
                known = slide_scale(model, config, source)
                slide = known.scale
                if slide != 1:
                    enlarged[path.name] = slide
            with tqdm(
                total=region_count(source.shape),
                desc=path.name,
                unit="region",
                disable=None,
                leave=False,
            ) as bar:
                regions = region_cells(
                    model, config, source, progress=bar.update, scale=slide, known=known
                )
                results.add_slide(path.name, source.shape, regions, scale=slide)
        finally:
            source.close()

    code = run_each(todo, predict_one, command="predict") if todo else 0
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
