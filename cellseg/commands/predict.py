"""``cellseg predict``: find, outline, measure and count the cells of images with a model."""

import argparse

from cellseg.batch import add_overwrite_argument, non_negative_float


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

    from cellseg.batch import image_files, prepare_output_folder, run_each
    from cellseg.image_io import read_image
    from cellseg.neural_network.model_folder import load_network, resolve_model
    from cellseg.neural_network.prediction import segment
    from cellseg.prediction_files import PredictionFiles
    from cellseg.tables import text_table

    folder = resolve_model(arguments.model)
    files = image_files(arguments.inputs)
    output = prepare_output_folder(arguments.output, arguments.inputs)
    results = PredictionFiles(
        output, positive_threshold=arguments.positive_threshold, overwrite=arguments.overwrite
    )
    config = folder.read_config()
    model = load_network(folder)

    def predict_one(path):
        image = read_image(path)
        results.add(path.name, image, segment(model, image, config))

    code = run_each(files, predict_one, command="predict")
    results.finish()
    if results.counts:
        print(text_table(results.counts, results.count_columns))
        total = sum(row["count"] for row in results.counts)
        print(
            f"cellseg predict: {total} cells in {len(results.counts)} images; results in {output}"
        )
    return code
