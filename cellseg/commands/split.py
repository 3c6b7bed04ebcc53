"""``cellseg split``: cut images into overlapping tiles that cover every pixel."""

import argparse
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from cellseg.commands.arguments import add_overwrite_argument, tile_overlap, tile_side

#: Tile files are named ``<stem>_r<row>_c<column>.<suffix>``; `merge` reads the position back.
TILE_NAME = "{stem}_r{row:05d}_c{column:05d}{suffix}"
TILE_PATTERN = re.compile(
    r"^(?P<stem>.+)_r(?P<row>\d+)_c(?P<column>\d+)\.(png|jpe?g|tiff?)$", re.IGNORECASE
)
MANIFEST_NAME = "{stem}_tiles.json"

#: Largest tile manifest read (a larger one is refused unread): that of an image of
#: `cellseg.image_limits.MAX_PIXELS` cut into tiles of 64 pixels overlapping by half is 5 MB.
MAX_MANIFEST_BYTES = 2**24


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg split",
        description="Cut images into overlapping tiles of the same size that cover every "
        "pixel, right and bottom edges included (an image narrower or lower than a tile gives "
        "tiles of its own width or height). Each tile's name holds its position "
        "(<stem>_r<row>_c<column>.png) and <stem>_tiles.json records the image's size and "
        "lists its tiles, so 'cellseg merge' restores the original exactly. Tiles keep the "
        "image's values: 8- and 16-bit images, grey or colour, give PNG tiles of the same "
        "depth; others (float) TIFF tiles. With --overwrite, the tiles that an earlier split "
        "of an image listed are removed before its new tiles are written.",
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
    from cellseg.batch import Tally, counted, image_files, named, run_each
    from cellseg.errors import file_error
    from cellseg.image_io import output_suffix, read_image, write_image
    from cellseg.output_guard import prepare_output_folder
    from cellseg.preprocessing.tiling import split_into_tiles

    files = image_files(arguments.inputs, same_names=True)
    output = prepare_output_folder(arguments.output, arguments.inputs)

    tally, tile_count, removed, smaller = Tally(), [0], [0], []

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
        if manifest.is_file() and manifest.read_bytes() != text.encode("utf-8"):
            if not arguments.overwrite:
                raise file_error(
                    manifest,
                    "records a split of another image or with other settings (use "
                    "--overwrite to replace its tiles, or choose another output folder)",
                )
            # All of them, not only those the new tiles leave: the old manifest stays
            # until the new one replaces it, so an interrupted split leaves its image
            # refused by merge for a missing tile, never stitched from two splits.
            removed[0] += remove_listed_tiles(manifest, path.stem)
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
            + (f"; {counted(removed[0], 'earlier tile')} removed" if removed[0] else "")
            + (f"; smaller than a tile, cut to their own side: {named(smaller)}" if smaller else "")
        )
    return code


@dataclass(frozen=True)
class TileManifest:
    """What ``<stem>_tiles.json`` says: the image's size, and its tiles as
    ``(row, column, name)``; ``tiles`` is None in a manifest written before split listed
    them."""

    rows: int
    columns: int
    tiles: list[tuple[int, int, str]] | None


def read_manifest(path: Path, stem: str) -> TileManifest | None:
    """Read and check the manifest ``path`` of the image ``stem``; None when there is none.

    Raises
    ------
    CellsegError
        Naming ``path``, when it is too large, not JSON, or its shape or tiles are not
        what `split` writes.
    """
    from cellseg.errors import file_error

    if not path.is_file():
        return None
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise file_error(
                path,
                f"is {size:,} bytes, more than the {MAX_MANIFEST_BYTES:,} a tile manifest "
                "may have (not one written by cellseg split?)",
            )
        record = json.loads(path.read_text())
        shape, names = record["shape"], record.get("tiles")
    except (ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        # RecursionError: brackets nested thousands deep; TypeError: JSON but no object.
        reason = " ".join(str(error).split()) or type(error).__name__
        raise file_error(path, f"unreadable tile manifest ({reason})") from None
    if (
        not isinstance(shape, list)
        or len(shape) < 2
        or not all(type(side) is int and side > 0 for side in shape[:2])
    ):
        raise file_error(
            path, f"unreadable tile manifest (shape {shape!r} is not rows and columns)"
        )
    if names is None:
        return TileManifest(shape[0], shape[1], None)
    names = names if isinstance(names, list) else [None]
    matches = [TILE_PATTERN.match(name) if isinstance(name, str) else None for name in names]
    if not all(match and match["stem"] == stem for match in matches):
        raise file_error(
            path, f"unreadable tile manifest (its tiles are not all named {stem}_r<row>_c<column>)"
        )
    tiles = [(int(match["row"]), int(match["column"]), match[0]) for match in matches]
    if len({tile[:2] for tile in tiles}) < len(tiles):
        raise file_error(path, "unreadable tile manifest (it lists a position twice)")
    return TileManifest(shape[0], shape[1], tiles)


def remove_listed_tiles(manifest: Path, stem: str) -> int:
    """Remove the tiles of ``stem`` that ``manifest`` lists, and return how many there were.

    Only plain files named as split names tiles are removed, never a link or a folder; a
    manifest that cannot be read lists nothing trusted to be split's, so none is removed.
    """
    from cellseg.errors import CellsegError, file_error

    try:
        record = read_manifest(manifest, stem)
    except CellsegError:
        return 0
    listed = (record.tiles if record else None) or []
    count = 0
    for _, _, name in listed:
        tile = manifest.parent / name
        if tile.is_file() and not tile.is_symlink():
            try:
                tile.unlink()
            except OSError as error:
                message = f"cannot remove this earlier tile ({error.strerror})"
                raise file_error(tile, message) from None
            count += 1
    return count
