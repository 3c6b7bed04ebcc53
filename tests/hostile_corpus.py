"""Hostile input files, built in code by the tests themselves (issue #33): no data is committed.

Every kind is written by a small builder into a folder and described by a `Hostile`: the file's
path, how a one-line error must show it, in which roles cellseg must refuse it (read as an
image, as a red-outline layer, as an evaluation annotation, or checked against the image of
the same name) and the size a companion file of its name has. `write_corpus` writes every
kind that fits in one folder; `write_bombs` the decompression bombs, which the tests run in a
subprocess under a memory limit; `make_bad_file` one kind alone (the ``bad_image`` fixture).
The `Hostile` record and the registry of kinds are in `hostile_entries`, the kinds in
`hostile_files` and `hostile_layers_paths_bombs`, the bytes they are made of in
`hostile_bytes`.

The kinds are broken files (truncated at several offsets, bad checksums, damaged compressed
tiles, offsets past the end, empty sizes, the wrong format behind a suffix), valid but
unusual images that must simply work (1-bit, palette, 16-bit gray and alpha, big-endian,
1 x 100000 pixels), annotation layers that cannot be annotations, and file system oddities
(a folder or a pipe named like an image, a broken link, an unreadable file, hostile names).
"""

from collections.abc import Callable
from pathlib import Path

import hostile_files  # noqa: F401 (registers its kinds, first)
import hostile_layers_paths_bombs  # noqa: F401 (registers its kinds)
import numpy as np
import tifffile
from hostile_bytes import cut, jpeg_bytes, noise, outline_layer_of, png_bytes, png_declaring, tissue
from hostile_entries import BOMBS, KINDS, NOT_AN_ANNOTATION, OUTLINES, Hostile

BAD_IMAGE_KINDS = [
    "missing",
    "zero bytes",
    "text named .png",
    "truncated PNG",
    "decompression bomb",
    "truncated JPEG",
    "CMYK JPEG",
    "unreadable TIFF",
    "multi-page TIFF",
    "float TIFF with NaN",
    "unsupported format",
    "broken symbolic link",
]


def make_bad_file(folder: Path, kind: str) -> Path:
    """Write the file of one kind into ``folder``; its path."""
    return KINDS[kind](folder).path


def write_corpus(folder: Path) -> list[Hostile]:
    """Write every kind but the bombs into ``folder``; their `Hostile`s.

    Every file has its own stem, so that no two outputs collide.
    """
    folder.mkdir(parents=True, exist_ok=True)
    skipped = {"missing", *BOMBS}
    corpus = [build(folder) for name, build in KINDS.items() if name not in skipped]
    stems = [entry.path.stem for entry in corpus]
    assert len(set(stems)) == len(stems), "two kinds share a stem"
    return corpus


def write_bombs(folder: Path) -> list[Hostile]:
    """Write the decompression bombs into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [KINDS[name](folder) for name in BOMBS]


def write_good_images(folder: Path) -> list[Hostile]:
    """A few ordinary images of every format, to be processed among the hostile ones."""
    folder.mkdir(parents=True, exist_ok=True)
    good = [
        Hostile("good PNG", folder / "good_tissue.png", frozenset(NOT_AN_ANNOTATION), (48, 64)),
        Hostile("good TIFF", folder / "good_gray16.tif", frozenset({OUTLINES}), (40, 40)),
        Hostile("good JPEG", folder / "good_photo.jpg", frozenset(NOT_AN_ANNOTATION), (40, 56)),
    ]
    good[0].path.write_bytes(png_bytes(tissue(good[0].shape, seed=13)))
    tifffile.imwrite(good[1].path, noise(good[1].shape, np.uint16, seed=14) // 16)
    good[2].path.write_bytes(jpeg_bytes(tissue(good[2].shape, seed=15)))
    return good


def write_good_layers(folder: Path) -> list[Hostile]:
    """A few ordinary red-outline annotation layers."""
    folder.mkdir(parents=True, exist_ok=True)
    good = []
    for name, shape in (("good_layer_a.png", (48, 64)), ("good_layer_b.png", (30, 30))):
        good.append(Hostile("good layer", folder / name, frozenset(), shape))
        good[-1].path.write_bytes(png_bytes(outline_layer_of(shape)))
    return good


def write_companions(folder: Path, entries, make: Callable[[tuple[int, int]], np.ndarray]):
    """Write, for each listed entry, a PNG of its stem and `Hostile.shape` made by ``make``:
    the image of an annotation, or the annotation of an image."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        if entry.listed:
            (folder / f"{entry.path.stem}.png").write_bytes(png_bytes(make(entry.shape)))


def random_image(shape: tuple[int, int]) -> np.ndarray:
    """An RGB image of ``shape``: a companion image."""
    return noise((*shape, 3), seed=17)


def label_image(shape: tuple[int, int]) -> np.ndarray:
    """A 16-bit label image of ``shape`` with one cell where it fits: a companion annotation."""
    labels = np.zeros(shape, np.uint16)
    if min(shape) >= 10:
        labels[2:8, 2:8] = 1
    return labels


# --- tiles for merge ---------------------------------------------------------------------


def _tile(folder: Path, stem: str, row: int, column: int, data: bytes, suffix=".png") -> Path:
    path = folder / f"{stem}_r{row:05d}_c{column:05d}{suffix}"
    path.write_bytes(data)
    return path


def _four_tiles(folder: Path, stem: str) -> list[Path]:
    """Four 8 x 8 tiles of a 16 x 16 image (each filled with its row + column)."""
    return [
        _tile(folder, stem, row, column, png_bytes(np.full((8, 8), row + column, np.uint8)))
        for row in (0, 8)
        for column in (0, 8)
    ]


def write_good_tiles(folder: Path) -> list[str]:
    """Tiles of two ordinary 16 x 16 images, one with its manifest; their stems."""
    folder.mkdir(parents=True, exist_ok=True)
    _four_tiles(folder, "good_a")
    _four_tiles(folder, "good_b")
    (folder / "good_b_tiles.json").write_text('{"shape": [16, 16]}')
    return ["good_a", "good_b"]


def write_hostile_tiles(folder: Path, *, bombs: bool = False) -> list[Hostile]:
    """Groups of tiles that cannot be stitched, each named by the file that an error line
    must show (a tile, a manifest); with ``bombs``, the groups that declare huge sizes.
    ``Hostile.kind`` is the group's stem."""
    folder.mkdir(parents=True, exist_ok=True)
    found = []

    def group(stem, named, **details):
        found.append(Hostile(stem, named, **details))

    if bombs:
        _four_tiles(folder, "bomb_tile")
        group("bomb_tile", _tile(folder, "bomb_tile", 16, 0, png_declaring(100_000, 100_000)))
        _four_tiles(folder, "sparse_manifest")
        manifest = folder / "sparse_manifest_tiles.json"
        with open(manifest, "wb") as file:  # a gigabyte that takes no disk
            file.write(b'{"shape": [16, 16], "tiles": ["')
            file.truncate(2**30)
        group("sparse_manifest", manifest)
        _four_tiles(folder, "far_away")
        group(
            "far_away",
            _tile(folder, "far_away", 90_000, 90_000, png_bytes(np.zeros((8, 8), np.uint8))),
        )
        return found

    _four_tiles(folder, "nested")
    manifest = folder / "nested_tiles.json"
    manifest.write_text('{"shape": ' + "[" * 100_000 + "]" * 100_000 + "}")
    group("nested", manifest)
    for stem, text in (
        ("absurd", '{"shape": [60000, 60000]}'),
        ("listed", "[16, 16]"),
        ("not_text", "\udcff\udcfe"),
        ("short", '{"shape": [16, 16], "til'),
    ):
        _four_tiles(folder, stem)
        manifest = folder / f"{stem}_tiles.json"
        manifest.write_bytes(text.encode("utf-8", "surrogateescape"))
        group(stem, manifest)
    for stem, data in (
        ("cut", cut(png_bytes(noise((8, 8), seed=16)), 40)),
        ("empty", b""),
        ("photo", jpeg_bytes(np.zeros((8, 8, 3), np.uint8))),
        ("wide_tile", png_bytes(np.zeros((8, 8), np.uint16))),
        ("coloured", png_bytes(np.zeros((8, 8, 3), np.uint8))),
    ):
        tiles = _four_tiles(folder, stem)
        tiles[-1].write_bytes(data)
        group(stem, tiles[-1])
    _four_tiles(folder, "far")
    group(
        "far",
        _tile(folder, "far", 99_999_999_999_999_999, 0, png_bytes(np.zeros((8, 8), np.uint8))),
    )
    tiles = _four_tiles(folder, "gone")
    tiles[-1].unlink()
    tiles[-1].symlink_to(folder / "elsewhere" / tiles[-1].name)
    group("gone", tiles[-1])
    _four_tiles(folder, "holes")
    (folder / "holes_tiles.json").write_text('{"shape": [40, 16]}')
    group("holes", folder / "holes_r*_c*")
    (folder / "folder_r00000_c00000.png").mkdir()  # a folder named like a tile: passed by
    return found
