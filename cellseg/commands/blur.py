"""``cellseg blur``: Gaussian blur, keeping each image's dtype and channels."""

import argparse

from cellseg.commands.arguments import MAX_SIGMA, add_overwrite_argument, blur_sigma


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg blur",
        description="Blur images with a Gaussian of standard deviation SIGMA pixels. "
        "Writes <stem>.png (TIFF inputs: <stem>.tif) with the input's dtype and channels.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    parser.add_argument("output", metavar="OUTPUT_DIR", help="folder for the blurred images")
    parser.add_argument(
        "--sigma",
        type=blur_sigma,
        default=1.0,
        help=f"standard deviation in pixels, 0 to {MAX_SIGMA} (1.0)",
    )
    add_overwrite_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.batch import Tally, counted, image_files, run_each
    from cellseg.image_io import TIFF_SUFFIXES, output_suffix, read_image, write_image
    from cellseg.output_guard import prepare_output_folder
    from cellseg.preprocessing.blur import gaussian_blur

    files = image_files(arguments.inputs, same_names=True)
    output = prepare_output_folder(arguments.output, arguments.inputs)

    tally = Tally()

    def blur_one(path):
        image = read_image(path)
        blurred = gaussian_blur(image, arguments.sigma)
        tiff = path.suffix.lower() in TIFF_SUFFIXES
        suffix = ".tif" if tiff else output_suffix(blurred)
        tally.file(
            write_image(output / f"{path.stem}{suffix}", blurred, overwrite=arguments.overwrite)
        )
        tally.done += 1

    code = run_each(files, blur_one, command="blur")
    if tally.done:  # what failed is listed above
        print(
            f"cellseg blur: {counted(tally.done, 'image')} blurred (sigma {arguments.sigma:g}) "
            f"into {output} ({tally.files()})"
        )
    return code
