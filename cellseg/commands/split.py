"""``cellseg split``: cut images into overlapping tiles that cover every pixel."""

import argparse
import hashlib
import json

from cellseg.commands.arguments import add_overwrite_argument, tile_overlap, tile_side

#: Tile files are named ``<stem>_r<row>_c<column>.<suffix>``; `merge` reads the position back.
TILE_NAME = "{stem}_r{row:05d}_c{column:05d}{suffix}"
MANIFEST_NAME = "{stem}_tiles.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg split",
        description="Cut images into overlapping tiles of the same size that cover every "
        "pixel, right and bottom edges included (an image narrower or lower than a tile gives "
        "tiles of its own width or height). Each tile's name holds its position "
        "(<stem>_r<row>_c<column>.png) and <stem>_tiles.json records the image's size, so "
        "'cellseg merge' restores the original exactly.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    parser.add_argument("output", metavar="OUTPUT_DIR", help="folder for the tiles")
    parser.add_argument("--tile", type=tile_side, default=200, help="tile side in pixels (200)")
    parser.add_argument(
        "--overlap",
        type=tile_overlap,
        default=100,
        help="pixels shared by neighbouring tiles (100)",
    )
    add_overwrite_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if not 0 <= arguments.overlap < arguments.tile:
        parser.error(f"--overlap must be at least 0 and less than --tile ({arguments.tile})")

    from cellseg.atomic_write import write_text_atomically
    from cellseg.batch import Tally, counted, image_files, named, prepare_output_folder, run_each
    from cellseg.errors import file_error
    from cellseg.image_io import output_suffix, read_image, write_image
    from cellseg.preprocessing.tiling import split_into_tiles

    files = image_files(arguments.inputs)
    output = prepare_output_folder(arguments.output, arguments.inputs)

    tally, tile_count, smaller = Tally(), [0], []

    def split_one(path):
        image = read_image(path)
        if min(image.shape[:2]) < arguments.tile:
            smaller.append(path.name)
        suffix = output_suffix(image)
        tiles = list(split_into_tiles(image, tile=arguments.tile, overlap=arguments.overlap))
        names = [
            TILE_NAME.format(stem=path.stem, row=p.row, column=p.column, suffix=suffix)
            for p, _ in tiles
        ]
        record = {
            "source": path.name,
            "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "shape": list(image.shape),
            "dtype": str(image.dtype),
            "tile": arguments.tile,
            "overlap": arguments.overlap,
            "tiles": names,
        }
        text = json.dumps(record, indent=1) + "\n"
        manifest = output / MANIFEST_NAME.format(stem=path.stem)
        # Written last: the tiles of an image split with other settings are refused before
        # any is written; those of an interrupted split are the same, and kept.
        if not arguments.overwrite and manifest.is_file() and manifest.read_text() != text:
            raise file_error(
                manifest,
                "records a split of another image or with other settings (use --overwrite "
                "to replace its tiles, or choose another output folder)",
            )
        for name, (_, tile) in zip(names, tiles, strict=True):
            tally.file(write_image(output / name, tile, overwrite=arguments.overwrite))
        tally.file(write_text_atomically(manifest, text, overwrite=arguments.overwrite))
        tally.done += 1
        tile_count[0] += len(tiles)

    code = run_each(files, split_one, command="split")
    if tally.done:  # what failed is listed above
        print(
            f"cellseg split: {counted(tally.done, 'image')} cut into "
            f"{counted(tile_count[0], 'tile')} of {arguments.tile} pixels in {output} "
            f"({tally.files()})"
            + (f"; smaller than a tile, cut to their own side: {named(smaller)}" if smaller else "")
        )
    return code
