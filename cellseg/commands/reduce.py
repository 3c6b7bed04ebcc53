"""``cellseg reduce``: red-outline annotation layers to binary outline masks."""

import argparse

from cellseg.commands.arguments import add_outline_arguments, add_overwrite_argument


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg reduce",
        description="Threshold RGBA annotation layers into binary outline masks: a pixel is "
        "white (255) where the chosen colour is drawn and opaque, black (0) elsewhere. "
        "Writes <stem>.png, 8-bit grayscale.",
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="annotation layers (files or folders)"
    )
    parser.add_argument("output", metavar="OUTPUT_DIR", help="folder for the masks")
    add_outline_arguments(parser)
    add_overwrite_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.annotations import read_outline_mask
    from cellseg.batch import Tally, counted, image_files, run_each
    from cellseg.commands.arguments import outline_style
    from cellseg.image_io import write_image
    from cellseg.output_guard import prepare_output_folder

    files = image_files(arguments.inputs, same_names=True)
    output = prepare_output_folder(arguments.output, arguments.inputs)
    style = outline_style(arguments)

    tally = Tally()

    def reduce_one(path):
        mask = read_outline_mask(path, style)
        tally.file(write_image(output / f"{path.stem}.png", mask, overwrite=arguments.overwrite))
        tally.done += 1

    code = run_each(files, reduce_one, command="reduce")
    if tally.done:  # what failed is listed above
        print(
            f"cellseg reduce: {counted(tally.done, 'annotation layer')} reduced to outline masks "
            f"in {output} ({tally.files()})"
        )
    return code
