"""``cellseg merge``: stitch the tiles made by ``cellseg split`` back into whole images."""

import argparse
import json
import math
import re
from pathlib import Path

from cellseg.commands.arguments import add_overwrite_argument
from cellseg.commands.split import MANIFEST_NAME

#: Largest tile manifest read (a larger one is refused unread): that of an image of
#: `cellseg.image_limits.MAX_PIXELS` cut into tiles of 64 pixels overlapping by half is 5 MB.
MAX_MANIFEST_BYTES = 2**24

TILE_PATTERN = re.compile(
    r"^(?P<stem>.+)_r(?P<row>\d+)_c(?P<column>\d+)\.(png|jpe?g|tiff?)$", re.IGNORECASE
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg merge",
        description="Stitch tiles named <stem>_r<row>_c<column>.png (as 'cellseg split' "
        "writes them, or predictions saved under the same names) into <stem>.png of the "
        "original size.",
    )
    parser.add_argument("tiles", metavar="TILES_DIR", help="folder holding the tiles")
    parser.add_argument("output", metavar="OUTPUT_DIR", help="folder for the stitched images")
    parser.add_argument(
        "--method",
        choices=("max", "mean", "blend"),
        default="blend",
        help="where tiles overlap: the largest value (binary masks), the average, or an "
        "average weighted toward tile centres so that seams vanish (default)",
    )
    add_overwrite_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.batch import Tally, counted, prepare_output_folder, run_each
    from cellseg.errors import CellsegError

    tiles_folder = Path(arguments.tiles)
    if not tiles_folder.is_dir():
        raise CellsegError(f"{tiles_folder}: no such folder")
    groups = tile_groups(tiles_folder)
    if not groups:
        raise CellsegError(
            f"{tiles_folder}: holds no tiles named <stem>_r<row>_c<column>.png "
            "(as 'cellseg split' writes them)"
        )
    output = prepare_output_folder(arguments.output, [tiles_folder])

    tally = Tally()

    def merge_one(stem):
        written = merge_image(
            tiles_folder,
            stem,
            groups[stem],
            output,
            method=arguments.method,
            overwrite=arguments.overwrite,
        )
        tally.file(written)
        tally.done += 1

    code = run_each(sorted(groups), merge_one, command="merge")
    tiles = sum(len(group) for group in groups.values())
    if tally.done:  # what failed is listed above
        print(
            f"cellseg merge: {counted(tally.done, 'image')} stitched from {counted(tiles, 'tile')} "
            f"({arguments.method}) into {output} ({tally.files()})"
        )
    return code


def tile_groups(folder: Path) -> dict[str, list[tuple[int, int, Path]]]:
    """Tiles in ``folder`` by image stem, as ``(row, column, path)``; a broken link named
    like a tile is one too, so that its image is refused rather than stitched with a hole."""
    groups: dict[str, list[tuple[int, int, Path]]] = {}
    for path in sorted(folder.iterdir()):
        match = TILE_PATTERN.match(path.name)
        if match and (path.is_file() or (path.is_symlink() and not path.exists())):
            groups.setdefault(match["stem"], []).append(
                (int(match["row"]), int(match["column"]), path)
            )
    return groups


def merge_image(folder, stem, tiles, output, *, method, overwrite) -> bool:
    """Stitch one image's tiles and write ``<stem>.png`` (``.tif`` for float); False when
    the same image was there already.

    The image's size comes from the tiles' headers and names (or its manifest) and is
    checked against what cellseg reads at once (`cellseg.image_limits.check_image_size`)
    before anything is allocated; then the tiles are read one at a time as they are
    stitched, so a folder of many tiles never lies in memory whole.
    """
    from cellseg.errors import file_error
    from cellseg.image_io import output_suffix, read_image, read_image_shape, write_image
    from cellseg.image_limits import check_image_size
    from cellseg.preprocessing.tiling import TilePosition, stitch_tiles

    positions = [
        (TilePosition(row, column, *read_image_shape(path)), path) for row, column, path in tiles
    ]
    first = read_image(positions[0][1])

    def check_size(path, rows, columns, claim):
        check_image_size(
            path,
            rows,
            columns,
            channels=math.prod(first.shape[2:]),
            bytes_per_sample=first.dtype.itemsize,
            claim=claim,
        )

    extent = (
        max(position.row + position.height for position, _ in positions),
        max(position.column + position.width for position, _ in positions),
    )
    farthest = max(positions, key=lambda item: item[0].row + item[0].column)[1]
    check_size(farthest, *extent, claim=f"would stitch {stem} into")
    rows, columns = _image_size(folder, stem, extent)
    if (rows, columns) != extent:
        check_size(folder / MANIFEST_NAME.format(stem=stem), rows, columns, claim="says")

    def placed():
        for position, path in positions:
            tile = first if path == positions[0][1] else read_image(path)
            if tile.dtype != first.dtype or tile.shape[2:] != first.shape[2:]:
                raise file_error(
                    path,
                    f"is {tile.dtype} with shape {tile.shape}, unlike the other tiles of "
                    f"{stem} ({first.dtype}, shape {first.shape})",
                )
            if tile.shape[:2] != (position.height, position.width):
                raise file_error(path, "truncated or corrupt (its pixels differ from its header)")
            yield position, tile

    shape = (rows, columns) + first.shape[2:]
    try:
        image = stitch_tiles(placed(), shape, method=method)
    except ValueError as error:
        raise file_error(folder / f"{stem}_r*_c*", str(error)) from None
    return write_image(output / f"{stem}{output_suffix(image)}", image, overwrite=overwrite)


def _image_size(folder: Path, stem: str, extent: tuple[int, int]) -> tuple[int, int]:
    """The image's size from its split manifest, or else from the tiles' extent.

    The last tiles of ``cellseg split`` end at the bottom and right edges, so the extent
    is the size; the manifest also catches a missing last row or column of tiles.
    """
    from cellseg.errors import file_error

    manifest = folder / MANIFEST_NAME.format(stem=stem)
    if not manifest.is_file():
        return extent
    try:
        size = manifest.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise file_error(
                manifest,
                f"is {size:,} bytes, more than the {MAX_MANIFEST_BYTES:,} a tile manifest "
                "may have (not one written by cellseg split?)",
            )
        shape = json.loads(manifest.read_text())["shape"]
    except (ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        # RecursionError: brackets nested thousands deep.
        reason = " ".join(str(error).split()) or type(error).__name__
        raise file_error(manifest, f"unreadable tile manifest ({reason})") from None
    if (
        not isinstance(shape, list)
        or len(shape) < 2
        or not all(type(side) is int and side > 0 for side in shape[:2])
    ):
        raise file_error(
            manifest, f"unreadable tile manifest (shape {shape!r} is not rows and columns)"
        )
    rows, columns = shape[:2]
    if extent[0] > rows or extent[1] > columns:
        raise file_error(manifest, f"says {rows} x {columns} pixels, but tiles reach {extent}")
    return rows, columns
