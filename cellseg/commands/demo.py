"""``cellseg demo``: find and count the cells of a bundled stained-tissue image, offline."""

import argparse

from cellseg.commands.arguments import (
    MODEL_HELP,
    add_models_dir_argument,
    add_overlay_arguments,
    optical_density,
    scale_or_auto,
)
from cellseg.postprocessing.positivity import DEFAULT_POSITIVE_THRESHOLD


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg demo",
        description="Find, outline and count the nuclei of the immunohistochemistry image "
        "(haematoxylin and DAB) that scikit-image ships, with cellseg's default model, "
        "offline. Writes the image, its labels, red outlines, overlay, counts.csv and "
        "cells.csv to OUTPUT_DIR and prints the count, DAB-positive cells included.",
    )
    parser.add_argument(
        "--output",
        default="cellseg-demo",
        metavar="OUTPUT_DIR",
        help="folder for the results (cellseg-demo)",
    )
    parser.add_argument("--model", default="default", help=MODEL_HELP + " (default)")
    parser.add_argument(
        "--positive-threshold",
        type=optical_density,
        default=DEFAULT_POSITIVE_THRESHOLD,
        metavar="OD",
        help=f"mean DAB optical density of a positive cell ({DEFAULT_POSITIVE_THRESHOLD}: "
        "the sample is a haematoxylin + DAB section)",
    )
    parser.add_argument(
        "--scale",
        type=scale_or_auto,
        default="auto",
        metavar="FACTOR",
        help="enlargement before the network, as in cellseg predict (auto: the sample looks "
        "like a 20x photo, and comes out enlarged 2x for the default 40x model)",
    )
    add_models_dir_argument(parser)
    add_overlay_arguments(parser)
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="find the cells again, and replace files of the folder that cellseg did not "
        "write (a run with the same model and scale keeps an earlier demo's results, one "
        "with another replaces them, as predict does)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    import time

    from skimage import data

    from cellseg.commands.arguments import overlay_style
    from cellseg.image_io import write_image
    from cellseg.neural_network.model import TrainedModel
    from cellseg.output_guard import prepare_output_folder
    from cellseg.prediction_files import PredictionFiles

    started = time.perf_counter()
    model = TrainedModel.load(arguments.model, models_root=arguments.models_dir)
    output = prepare_output_folder(arguments.output, [model.folder.path])
    tissue = data.immunohistochemistry()
    write_image(output / "tissue.png", tissue, overwrite=arguments.overwrite)
    results = PredictionFiles(
        output,
        positive_threshold=arguments.positive_threshold,
        overwrite=arguments.overwrite,
        settings={**model.identity(), "scale": arguments.scale},
        overlay=overlay_style(arguments),
        count_spread=model.config.count_spread,
    )
    again = results.finished("tissue.png")  # run before with this model and scale
    if not again:
        results.add("tissue.png", model.segment_file(output / "tissue.png", scale=arguments.scale))
    (counts,) = results.finish(["tissue.png"])
    seconds = time.perf_counter() - started
    factor = float(counts["counterstain"] or 1)
    strengthened = f", its pale haematoxylin strengthened x{factor:.2f}" if factor != 1 else ""
    print(
        f"Image: scikit-image's immunohistochemistry sample (haematoxylin and DAB), "
        f"{tissue.shape[1]} x {tissue.shape[0]} pixels {scaled(float(counts['scale']))}"
        f"{' (--scale auto)' if arguments.scale == 'auto' else ''}{strengthened}, "
        f"model '{model.name}'\n"
        f"Cells found: {counts['count']} (nuclei in the image, 95%: {counts['count_low']}-"
        f"{counts['count_high']}; real nuclei among the cells found: about "
        f"{counts['expected']:.0f}), of which {counts['positive']} "
        "DAB-positive "
        f"({counts['positive_percent']:.1f}%; mean DAB optical density >= "
        f"{arguments.positive_threshold})\n"
        f"Results in {output}/: tissue_overlay.png (outlines over the image), "
        f"tissue_labels.png, tissue_outlines.png, counts.csv, cells.csv "
        + ("(found in an earlier run, kept)" if again else f"({seconds:.1f} s)")
    )
    return 0


def scaled(scale: float) -> str:
    """How the image was resized before the network, in the words of `cellseg predict`.

    Examples
    --------
    >>> scaled(2.0), scaled(1.0), scaled(0.5)
    ('enlarged 2x', 'at its own scale', 'shrunk 0.5x')
    """
    if scale == 1:
        return "at its own scale"
    return f"{'enlarged' if scale > 1 else 'shrunk'} {scale:g}x"
