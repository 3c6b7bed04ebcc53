"""``cellseg labels``: red-outline annotations to cell labels or training targets."""

import argparse

from cellseg.commands.arguments import add_outline_arguments, add_overwrite_argument
from cellseg.neural_network.targets import TARGETS

#: What ``--target`` writes: the labels, or a training target that has a picture.
TARGET_HELP = {
    "labels": "16-bit instance labels: 0 background, 1..N one id per cell (<stem>.png)",
    **{name: target.description for name, target in TARGETS.items() if target.picture},
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg labels",
        description="Turn annotation layers with a red outline around each cell into "
        "instance labels or training targets. Gaps of one or two pixels in the outlines "
        "are closed; touching cells stay apart.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="targets:\n" + "\n".join(f"  {k:<9} {v}" for k, v in TARGET_HELP.items()),
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="OUTLINES", help="annotation layers (files or folders)"
    )
    parser.add_argument("output", metavar="OUTPUT_DIR", help="folder for the results")
    parser.add_argument(
        "--target", choices=tuple(TARGET_HELP), default="labels", help="what to write (labels)"
    )
    parser.add_argument(
        "--images",
        metavar="DIR",
        help="folder of the annotated images: check that each annotation has an image of "
        "the same name and size",
    )
    add_outline_arguments(parser)
    add_overwrite_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    import numpy as np

    from cellseg.annotations import by_name, check_same_size, name_key, outline_labels
    from cellseg.batch import Tally, counted, image_files, run_each
    from cellseg.commands.arguments import outline_style
    from cellseg.errors import file_error
    from cellseg.image_io import read_image_shape, write_image
    from cellseg.neural_network.targets import get_target
    from cellseg.output_guard import prepare_output_folder

    files = image_files(arguments.inputs, same_names=True)
    images = {}
    if arguments.images:
        images = by_name(image_files([arguments.images]))
    readers = [*arguments.inputs, *([arguments.images] if arguments.images else [])]
    output = prepare_output_folder(arguments.output, readers)
    style = outline_style(arguments)

    def convert_one(path):
        if arguments.images:
            image = images.get(name_key(path))
            if image is None:
                raise file_error(path, f"has no image of the same name in {arguments.images}")
            check_same_size(path, read_image_shape(path), image, read_image_shape(image))
        labels = outline_labels(path, style)
        if arguments.target == "labels":
            dtype = np.uint16 if labels.max() <= np.iinfo(np.uint16).max else np.uint32
            result, suffix = labels.astype(dtype), ".png" if dtype == np.uint16 else ".tif"
        else:
            result, suffix = get_target(arguments.target).picture(labels, 1)
        written = write_image(
            output / f"{path.stem}{suffix}", result, overwrite=arguments.overwrite
        )
        tally.file(written)
        tally.done += 1
        cells[0] += int(labels.max())

    tally, cells = Tally(), [0]
    code = run_each(files, convert_one, command="labels")
    if tally.done:  # what failed is listed above
        print(
            f"cellseg labels: {counted(cells[0], 'cell')} in "
            f"{counted(tally.done, 'annotation layer')}, written as {arguments.target} to "
            f"{output} ({tally.files()})"
        )
    return code
