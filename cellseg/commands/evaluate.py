"""``cellseg evaluate``: score a trained model on annotated images."""

import argparse
import sys

from cellseg.commands.arguments import (
    add_model_argument,
    add_outline_arguments,
    add_overwrite_argument,
    scale_or_auto,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg evaluate",
        description="Predict the cells of annotated images with a trained model and score "
        "them against the annotations: Dice, IoU, aggregated Jaccard index (AJI), F1 and "
        "panoptic quality at IoU 0.5, the count error, and the unmatched cells by kind "
        "(merged, split, missed, spurious), per image and on average, and the scale each "
        "image was predicted at. A score that would divide by 0 on an image (recall and the "
        "count error without cells drawn, precision without cells found, the others without "
        "either) is undefined there: blank, and left out of the mean. "
        "Prints a table and writes it as CSV.",
    )
    add_model_argument(parser)
    parser.add_argument("--images", required=True, metavar="DIR", help="folder of images")
    parser.add_argument(
        "--annotations",
        required=True,
        metavar="DIR",
        help="folder of annotations (red outlines or label images) with the images' names, "
        "or of predict's results (their outline layers, corrected)",
    )
    parser.add_argument(
        "--output",
        metavar="CSV",
        help="CSV file to write, or a folder to write evaluation_<model>.csv in "
        "(default: evaluation_<model>.csv here)",
    )
    parser.add_argument(
        "--scale",
        type=scale_or_auto,
        default="auto",
        metavar="FACTOR",
        help="enlargement before the network, as in cellseg predict (default auto)",
    )
    add_outline_arguments(parser)
    add_overwrite_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    from cellseg.atomic_write import write_text_atomically
    from cellseg.batch import counted, one_line
    from cellseg.commands.arguments import outline_style
    from cellseg.commands.scaling import file_scales, notes
    from cellseg.metrics import SCORE_NAMES
    from cellseg.neural_network.dataset import annotated_pairs
    from cellseg.neural_network.evaluation import own_images_warning, score_pairs, score_table
    from cellseg.neural_network.model import TrainedModel
    from cellseg.output_guard import check_output_file, output_file
    from cellseg.tables import csv_text, text_table

    model = TrainedModel.load(arguments.model, models_root=arguments.models_dir)
    output = output_file(arguments.output, f"evaluation_{model.name}.csv")
    check_output_file(output, [arguments.images, arguments.annotations, model.folder.path])
    pairs = annotated_pairs(arguments.images, arguments.annotations)
    flattering = own_images_warning(model, pairs)
    if flattering:
        print(f"cellseg evaluate: warning: {flattering}", file=sys.stderr)
    scale_of, reasons = file_scales(model, arguments.scale)  # as predict chooses it
    scores = score_pairs(model, pairs, outline_style(arguments), scale=scale_of)
    rows, failures = scores.rows, scores.failures
    for error in failures:
        print(f"cellseg evaluate: error: {one_line(error)}", file=sys.stderr)
    if not rows:
        return 1  # each image's error is above
    table = score_table(rows)
    columns = ("image", *SCORE_NAMES, "scale")
    print(text_table(table, columns))
    written = write_text_atomically(output, csv_text(table, columns), overwrite=arguments.overwrite)
    failed = f"; {len(failures)} could not be scored" if failures else ""
    said = "written to" if written else "the same as in"
    fewer = fewer_images_note(rows)
    if fewer:
        print(f"cellseg evaluate: {fewer}")
    resized = {
        row["image"]: (row["scale"], reasons[row["image"]])
        for row in rows
        if arguments.scale == "auto" and row["scale"] != 1
    }
    for line in notes(resized, scores.strengthened, {}):
        print(f"cellseg evaluate: {line}")
    cells = scores.cells
    if cells:  # the cells' confidence, against what they are
        error, _ = scores.reliability()
        print(
            f"cellseg evaluate: the cells' confidence is off by {error:.3f} on average "
            f"(calibration error over 10 bins, {counted(cells, 'cell')})"
        )
    elif scores.confidence:
        print(
            "cellseg evaluate: no cells were found, so how well their confidence is "
            "calibrated cannot be measured"
        )
    print(f"cellseg evaluate: {counted(len(rows), 'image')} scored{failed}; table {said} {output}")
    return 1 if failures else 0


def fewer_images_note(rows: list[dict]) -> str | None:
    """The line that says which means are of fewer than all the images ``rows`` scored,
    and which images each leaves out (their score undefined: None); None when every mean
    is of them all.

    Examples
    --------
    >>> from cellseg.metrics import SCORE_NAMES
    >>> rows = [{"image": name, **{score: 0.5 for score in SCORE_NAMES}} for name in "abc"]
    >>> rows[0].update(recall=None, count_error=None)
    >>> print(fewer_images_note(rows))
    means of fewer than the 3 images, a score being undefined (-, blank in the CSV) where it would divide by 0: recall and count_error over 2 (undefined on a)
    >>> fewer_images_note(rows[1:]) is None
    True
    """  # noqa: E501
    from cellseg.metrics import SCORE_NAMES

    left_out: dict[tuple[str, ...], list[str]] = {}
    for score in SCORE_NAMES:
        images = tuple(row["image"] for row in rows if row[score] is None)
        if images:
            left_out.setdefault(images, []).append(score)
    if not left_out:
        return None
    from cellseg.batch import counted, named

    def joined(scores: list[str]) -> str:
        return " and ".join([", ".join(scores[:-1]), scores[-1]] if scores[1:] else scores)

    listed = "; ".join(
        f"{joined(scores)} over {len(rows) - len(images) or 'none'} "
        f"(undefined on {named(list(images))})"
        for images, scores in left_out.items()
    )
    return (
        f"means of fewer than the {counted(len(rows), 'image')}, a score being undefined "
        f"(-, blank in the CSV) where it would divide by 0: {listed}"
    )
