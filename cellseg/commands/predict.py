"""``cellseg predict``: find, outline, measure and count the cells of images with a model."""

import argparse

from cellseg.batch import add_overwrite_argument, non_negative_float

COUNTS_FILE, CELLS_FILE = "counts.csv", "cells.csv"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg predict",
        description="Find the cells of images with a trained model. For each image <stem>: "
        "<stem>_labels.png (16-bit, one id per cell), <stem>_outlines.png (red outlines on a "
        "transparent layer, the annotation format: correct it and train again) and "
        "<stem>_overlay.png (outlines over the image); for all images counts.csv (one row "
        "per image) and cells.csv (one row per cell: position, area, perimeter, "
        "eccentricity, mean haematoxylin and DAB optical density).",
    )
    parser.add_argument("model", metavar="MODEL", help="model folder, or a name in trained_models/")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    parser.add_argument("--output", required=True, metavar="DIR", help="folder for the results")
    parser.add_argument(
        "--positive-threshold",
        type=non_negative_float,
        metavar="OD",
        help="mean DAB optical density from which a cell counts as DAB-positive (QuPath's "
        "scale; 0.2 is a common start): adds positive counts and percentages",
    )
    add_overwrite_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    from dataclasses import asdict

    import numpy as np

    from cellseg.atomic_write import write_text_atomically
    from cellseg.batch import image_files, prepare_output_folder, run_each
    from cellseg.errors import file_error
    from cellseg.image_io import read_image, write_image
    from cellseg.neural_network.model_folder import load_network, resolve_model
    from cellseg.neural_network.prediction import segment
    from cellseg.postprocessing.measurements import (
        CELL_COLUMNS,
        count_summary,
        measure_cells,
        positive,
    )
    from cellseg.preprocessing.outlines import draw_outlines, outline_layer
    from cellseg.tables import csv_text, text_table

    folder = resolve_model(arguments.model)
    files = image_files(arguments.inputs)
    output = prepare_output_folder(arguments.output, arguments.inputs)
    for name in (COUNTS_FILE, CELLS_FILE):
        if (output / name).exists() and not arguments.overwrite:
            raise file_error(output / name, "already exists (use --overwrite to replace it)")
    config = folder.read_config()
    model = load_network(folder)
    threshold = arguments.positive_threshold
    counts, cells = [], []

    def predict_one(path):
        image = read_image(path)
        labels = segment(model, image, config)
        wide = labels.max() > np.iinfo(np.uint16).max
        stored = labels.astype(np.uint32 if wide else np.uint16)
        write = {
            f"{path.stem}_labels{'.tif' if wide else '.png'}": stored,
            f"{path.stem}_outlines.png": outline_layer(labels),
            f"{path.stem}_overlay.png": draw_outlines(image, labels),
        }
        for name, content in write.items():
            write_image(output / name, content, overwrite=arguments.overwrite)
        measured = measure_cells(image, labels)
        marks = positive(measured, threshold) if threshold is not None else None
        for index, cell in enumerate(measured):
            row = {"image": path.name, **asdict(cell)}
            if marks is not None:
                row["positive"] = int(marks[index])
            cells.append(row)
        counts.append(
            {
                "image": path.name,
                **count_summary(measured, positive_threshold=threshold),
                "mean_area": float(np.mean([cell.area for cell in measured])) if measured else 0.0,
            }
        )

    code = run_each(files, predict_one, command="predict")
    count_columns = ["image", "count"]
    if threshold is not None:
        count_columns += ["positive", "positive_percent"]
    count_columns.append("mean_area")
    cell_columns = ["image", *CELL_COLUMNS] + (["positive"] if threshold is not None else [])
    if counts:
        write_text_atomically(
            output / COUNTS_FILE, csv_text(counts, count_columns), overwrite=arguments.overwrite
        )
        write_text_atomically(
            output / CELLS_FILE, csv_text(cells, cell_columns), overwrite=arguments.overwrite
        )
        print(text_table(counts, count_columns))
        print(
            f"cellseg predict: {sum(row['count'] for row in counts)} cells in "
            f"{len(counts)} images; results in {output}"
        )
    return code
