"""``cellseg merge``: stitch the tiles made by ``cellseg split`` back into whole images."""

import argparse
import math
import re
from pathlib import Path

from cellseg.commands.arguments import add_overwrite_argument
from cellseg.commands.split import MANIFEST_NAME, TILE_PATTERN, TileManifest, read_manifest

MANIFEST_PATTERN = re.compile(r"^(?P<stem>.+)_tiles\.json$")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg merge",
        description="Stitch tiles named <stem>_r<row>_c<column>.png (as 'cellseg split' "
        "writes them, or predictions saved under the same names) into <stem>.png of the "
        "original size. Where <stem>_tiles.json lists the tiles, only those are stitched, "
        "and one it lists that is missing is refused.",
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

    from cellseg.batch import Tally, counted, run_each
    from cellseg.errors import CellsegError
    from cellseg.output_guard import prepare_output_folder

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

    tally, tiles = Tally(), [0]

    def merge_one(stem):
        manifest = read_manifest(tiles_folder / MANIFEST_NAME.format(stem=stem), stem)
        chosen = listed_tiles(tiles_folder, stem, groups[stem], manifest)
        written = merge_image(
            tiles_folder,
            stem,
            chosen,
            output,
            manifest=manifest,
            method=arguments.method,
            overwrite=arguments.overwrite,
        )
        tally.file(written)
        tally.done += 1
        tiles[0] += len(chosen)

    code = run_each(sorted(groups), merge_one, command="merge")
    if tally.done:  # what failed is listed above
        print(
            f"cellseg merge: {counted(tally.done, 'image')} stitched from "
            f"{counted(tiles[0], 'tile')} ({arguments.method}) into {output} ({tally.files()})"
        )
    return code


def tile_groups(folder: Path) -> dict[str, list[tuple[int, int, Path]]]:
    """Tiles in ``folder`` by image stem, as ``(row, column, path)``; a broken link named
    like a tile is one too, so that its image is refused rather than stitched with a hole.
    An image whose manifest is there but none of its tiles has an empty list, so that
    its missing tiles are named."""
    groups: dict[str, list[tuple[int, int, Path]]] = {}
    for path in sorted(folder.iterdir()):
        match = TILE_PATTERN.match(path.name)
        if match and (path.is_file() or (path.is_symlink() and not path.exists())):
            groups.setdefault(match["stem"], []).append(
                (int(match["row"]), int(match["column"]), path)
            )
        match = MANIFEST_PATTERN.match(path.name)
        if match and path.is_file():
            groups.setdefault(match["stem"], [])
    return groups if any(groups.values()) else {}


def listed_tiles(
    folder: Path, stem: str, found: list[tuple[int, int, Path]], manifest: TileManifest | None
) -> list[tuple[int, int, Path]]:
    """The tiles of ``found`` to stitch: all of them without a manifest listing tiles (one
    written before split listed them), else the one at each position it lists, its own
    name first (a prediction saved as TIFF under a PNG tile's stem also counts).

    Files named like the image's tiles that it does not list (left by a split with other
    settings) are left out, named in a warning.

    Raises
    ------
    CellsegError
        Naming the first tile the manifest lists that is missing.
    """
    import warnings

    from cellseg.batch import counted, named
    from cellseg.errors import CellsegWarning, file_error

    if manifest is None or manifest.tiles is None:
        if not found:
            raise file_error(
                folder / MANIFEST_NAME.format(stem=stem),
                f"lists no tiles, and there are none named {stem}_r<row>_c<column>",
            )
        return found
    at: dict[tuple[int, int], list[Path]] = {}
    for row, column, path in found:
        at.setdefault((row, column), []).append(path)
    chosen, unlisted = [], []
    for row, column, name in manifest.tiles:
        paths = sorted(at.pop((row, column), []), key=lambda path: path.name != name)
        if not paths:
            raise file_error(
                folder / name,
                f"missing (the tile at row {row}, column {column} that "
                f"{MANIFEST_NAME.format(stem=stem)} lists)",
            )
        chosen.append((row, column, paths[0]))
        unlisted += paths[1:]
    unlisted += [path for paths in at.values() for path in paths]
    if unlisted:
        warnings.warn(
            f"{folder / MANIFEST_NAME.format(stem=stem)}: "
            f"{counted(len(unlisted), 'file')} named like tiles of {stem} but not listed, "
            f"left out: {named(sorted(path.name for path in unlisted))}",
            CellsegWarning,
            stacklevel=2,
        )
    return chosen


def merge_image(folder, stem, tiles, output, *, manifest, method, overwrite) -> bool:
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
    rows, columns = extent
    if manifest is not None:
        # The last tiles of `cellseg split` end at the bottom and right edges, so the
        # extent is the size; the manifest also catches a missing last row or column.
        path = folder / MANIFEST_NAME.format(stem=stem)
        rows, columns = manifest.rows, manifest.columns
        if extent[0] > rows or extent[1] > columns:
            raise file_error(path, f"says {rows} x {columns} pixels, but tiles reach {extent}")
        if (rows, columns) != extent:
            check_size(path, rows, columns, claim="says")

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
