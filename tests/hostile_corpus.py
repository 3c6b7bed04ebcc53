"""Hostile input files, built in code by the tests themselves (issue #33): no data is committed.

Every kind is written by a small builder into a folder and described by a `Hostile`: the file's
path, how a one-line error must show it, in which roles cellseg must refuse it (read as an
image, as a red-outline layer, as an evaluation annotation, or checked against the image of
the same name) and the size a companion file of its name has. `write_corpus` writes every
kind that fits in one folder; `write_bombs` the decompression bombs, which the tests run in a
subprocess under a memory limit; `make_bad_file` one kind alone (the ``bad_image`` fixture).

The kinds are broken files (truncated at several offsets, bad checksums, damaged compressed
tiles, offsets past the end, empty sizes, the wrong format behind a suffix), valid but
unusual images that must simply work (1-bit, palette, 16-bit gray and alpha, big-endian,
1 x 100000 pixels), annotation layers that cannot be annotations, and file system oddities
(a folder or a pipe named like an image, a broken link, an unreadable file, hostile names).
"""

import functools
import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

#: The roles in which a file is read. IMAGE: an image to process (blur, split, predict, the
#: images of evaluate). OUTLINES: a red-outline annotation layer (reduce, labels).
#: ANNOTATION: an annotation as evaluate reads it (an outline layer, or a label image).
#: PAIRED: checked against a companion file of the same name and its `Hostile.shape`
#: (labels --images, evaluate).
IMAGE, OUTLINES, ANNOTATION, PAIRED = "image", "outlines", "annotation", "paired"
EVERY_ROLE = frozenset({IMAGE, OUTLINES, ANNOTATION, PAIRED})
#: A valid image that is no annotation layer: gray, or RGB without red outlines.
NOT_AN_ANNOTATION = frozenset({OUTLINES, ANNOTATION})

#: The size of a companion file when the hostile one declares none that can be used.
DEFAULT_SHAPE = (20, 30)


@dataclass(frozen=True)
class Hostile:
    """One hostile file and what cellseg must do with it."""

    kind: str
    path: Path
    #: The roles in which it is refused, one error line naming it; in the others it is an
    #: ordinary file whose output must exist.
    refused_as: frozenset = EVERY_ROLE
    #: (rows, columns) of the image it declares: a companion file of the same name gets it.
    shape: tuple[int, int] = DEFAULT_SHAPE
    #: False for what a folder scan passes by (a folder, a pipe, a .bmp): no error, no output.
    listed: bool = True
    #: The path as an error line shows it, where that is not ``str(path)`` (control
    #: characters in the name).
    shown_as: str | None = None

    @property
    def shown(self) -> str:
        return self.shown_as if self.shown_as is not None else str(self.path)

    def refused(self, *roles: str) -> bool:
        """Whether a command that reads it in these roles must refuse it."""
        return self.listed and bool(self.refused_as & set(roles))


class Run:
    """Exit code and standard error of a command run in a subprocess."""

    def __init__(self, code: int, err: str):
        self.code, self.err = code, err

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


# --- raw bytes of small files ------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(columns: int, rows: int) -> bytes:
    """An RGB PNG whose header declares ``columns`` x ``rows`` but that holds no pixels."""
    header = struct.pack(">IIBBBBB", columns, rows, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + b"\x00" * 64


@functools.cache
def black_png(rows: int, columns: int, channels: int) -> bytes:
    """A real black 8-bit PNG compressed row by row: 11000 x 11000 RGBA is 470 KB on disk and
    484 MB decoded. Cached: building the large one takes a second."""
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    compressor = zlib.compressobj(9)
    row = bytes(1 + columns * channels)  # filter byte 0, then black samples
    pixels = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()
    header = struct.pack(">IIBBBBB", columns, rows, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


def raw_tiff(
    columns: int, rows: int, data: bytes = b"\0" * 16, *, data_offset=None, next_page=0
) -> bytes:
    """A little-endian 8-bit gray TIFF of one strip, written tag by tag, so that its header
    can say anything: a size its data does not have, data past the end of the file, a next
    page at any offset."""
    tags = {256: columns, 257: rows, 258: 8, 259: 1, 262: 1, 273: 0, 277: 1, 278: rows}
    tags[279] = len(data)
    start = 8 + 2 + 12 * len(tags) + 4
    tags[273] = start if data_offset is None else data_offset
    short = {258, 259, 262, 277}
    entries = b"".join(
        struct.pack("<HHI", tag, 3 if tag in short else 4, 1)
        + (struct.pack("<HH", value, 0) if tag in short else struct.pack("<I", value))
        for tag, value in sorted(tags.items())
    )
    header = b"II*\0" + struct.pack("<IH", 8, len(tags))
    return header + entries + struct.pack("<I", next_page) + data


def jpeg_bytes(image: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def jpeg_declaring(columns: int, rows: int) -> bytes:
    """A small JPEG whose frame header is changed to declare ``columns`` x ``rows``."""
    data = bytearray(jpeg_bytes(np.zeros((16, 16, 3), np.uint8)))
    frame = data.index(b"\xff\xc0")  # baseline start of frame: length, precision, rows, columns
    data[frame + 5 : frame + 9] = struct.pack(">HH", rows, columns)
    return bytes(data)


def png_bytes(image: np.ndarray) -> bytes:
    import imagecodecs

    return imagecodecs.png_encode(np.ascontiguousarray(image))


def noise(shape, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.random.default_rng(seed).integers(0, info.max, shape, dtype=dtype, endpoint=True)


def outline_layer_of(shape: tuple[int, int], *, colour=(255, 0, 0)) -> np.ndarray:
    """An RGBA annotation layer with two closed outlines (drawn red by default)."""
    from cellseg.postprocessing.drawing import outline_layer

    labels = np.zeros(shape, np.int32)
    rows, columns = shape
    labels[2 : rows // 2, 2 : columns // 2] = 1
    labels[rows // 2 + 1 : rows - 2, columns // 2 + 1 : columns - 2] = 2
    return outline_layer(labels, colour=colour)


def tissue(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A small H&E-like RGB image."""
    from cellseg.preprocessing.synthetic import synthetic_tissue

    return synthetic_tissue(shape, seed=seed)[0]


def damaged_tiles_tiff(path: Path, compression: str) -> None:
    """A tiled TIFF whose second tile's compressed data is overwritten with 0xff."""
    colour = compression == "jpeg"
    image = noise((128, 128, 3) if colour else (128, 128), seed=3)
    tifffile.imwrite(
        path,
        image,
        tile=(64, 64),
        compression=compression,
        photometric="rgb" if colour else "minisblack",
    )
    with tifffile.TiffFile(path) as tiff:
        start, length = tiff.pages[0].dataoffsets[1], tiff.pages[0].databytecounts[1]
    data = bytearray(path.read_bytes())
    data[start + 2 : start + length] = b"\xff" * (length - 2)
    path.write_bytes(bytes(data))


def tile_offsets_past_the_end(path: Path) -> None:
    """A tiled TIFF whose tile offsets all point a megabyte past the end of the file."""
    tifffile.imwrite(path, noise((64, 64), seed=4), tile=(32, 32))
    with tifffile.TiffFile(path) as tiff:
        tag = tiff.pages[0].tags["TileOffsets"]
        where, count = tag.valueoffset, tag.count
    data = bytearray(path.read_bytes())
    far = len(data) + 2**20
    data[where : where + 4 * count] = struct.pack(f"<{count}I", *[far] * count)
    path.write_bytes(bytes(data))


# --- the kinds ---------------------------------------------------------------------------

#: kind -> builder: ``builder(folder) -> Hostile``, writing its file into ``folder``.
KINDS: dict[str, Callable[[Path], Hostile]] = {}
#: The kinds that declare sizes far above cellseg's caps (`write_bombs`).
BOMBS: list[str] = []


def kind(name: str, *, bomb: bool = False):
    """Register ``builder(name, folder) -> Hostile`` as the kind ``name``."""

    def register(builder):
        def build(folder: Path) -> Hostile:
            folder.mkdir(parents=True, exist_ok=True)
            return builder(name, folder)

        KINDS[name] = build
        if bomb:
            BOMBS.append(name)
        return builder

    return register


def _write(name: str, folder: Path, file_name: str, data: bytes, **details) -> Hostile:
    path = folder / file_name
    path.write_bytes(data)
    return Hostile(name, path, **details)


def _cut(data: bytes, end: int) -> bytes:
    assert 0 < end < len(data), (end, len(data))
    return data[:end]


GOOD_PNG = png_bytes(noise((64, 64, 3), seed=1))
GOOD_JPEG = jpeg_bytes(noise((64, 64, 3), seed=2))


def _tiff_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, image)
    return buffer.getvalue()


GOOD_TIFF = _tiff_bytes(noise((64, 64), seed=5))


@kind("missing")
def _(name, folder):
    return Hostile(name, folder / "missing.png", listed=False)


@kind("zero bytes")
def _(name, folder):
    return _write(name, folder, "empty.png", b"")


@kind("text named .png")
def _(name, folder):
    return _write(name, folder, "notes.png", b"not an image\n")


@kind("truncated PNG")
def _(name, folder):
    return _write(name, folder, "truncated.png", _cut(GOOD_PNG, 300), shape=(64, 64))


for _end, _where in ((8, "after its signature"), (20, "inside its header"), (33, "after IHDR")):

    @kind(f"PNG cut {_where}")
    def _(name, folder, end=_end):
        return _write(name, folder, f"png_cut_at_{end}.png", _cut(GOOD_PNG, end), shape=(64, 64))


@kind("PNG cut inside its pixels")
def _(name, folder):
    return _write(name, folder, "png_cut_in_idat.png", _cut(GOOD_PNG, len(GOOD_PNG) // 2))


@kind("PNG with a bad header checksum")
def _(name, folder):
    data = bytearray(GOOD_PNG)
    data[29] ^= 0xFF  # the CRC of IHDR
    return _write(name, folder, "bad_crc_header.png", bytes(data))


@kind("PNG with a bad pixel checksum")
def _(name, folder):
    data = bytearray(GOOD_PNG)
    start = data.index(b"IDAT")
    length = struct.unpack(">I", data[start - 4 : start])[0]
    data[start + 4 + length] ^= 0xFF  # the CRC of the first IDAT
    return _write(name, folder, "bad_crc_pixels.png", bytes(data), shape=(64, 64))


@kind("PNG of 0 x 16 pixels")
def _(name, folder):
    return _write(name, folder, "no_columns.png", png_declaring(0, 16))


@kind("truncated JPEG")
def _(name, folder):
    return _write(name, folder, "truncated_photo.jpg", _cut(GOOD_JPEG, 400), shape=(64, 64))


@kind("JPEG cut after its first marker")
def _(name, folder):
    return _write(name, folder, "jpeg_cut_at_2.jpg", _cut(GOOD_JPEG, 2))


@kind("JPEG cut inside its header")
def _(name, folder):
    return _write(name, folder, "jpeg_cut_at_100.jpg", _cut(GOOD_JPEG, 100))


@kind("CMYK JPEG")
def _(name, folder):
    path = folder / "cmyk.jpg"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).convert("CMYK").save(path)
    return Hostile(name, path)


@kind("JPEG named .png")
def _(name, folder):
    return _write(name, folder, "photo_named_png.png", GOOD_JPEG, shape=(64, 64))


@kind("PNG named .jpg")
def _(name, folder):
    return _write(name, folder, "png_named_jpg.jpg", GOOD_PNG, shape=(64, 64))


@kind("GIF named .png")
def _(name, folder):
    buffer = io.BytesIO()
    Image.fromarray(noise((20, 30), seed=6)).save(buffer, format="GIF")
    return _write(name, folder, "animation.png", buffer.getvalue())


@kind("WebP named .jpg")
def _(name, folder):
    buffer = io.BytesIO()
    Image.fromarray(noise((20, 30, 3), seed=7)).save(buffer, format="WEBP")
    return _write(name, folder, "webp_named_jpg.jpg", buffer.getvalue())


@kind("unreadable TIFF")
def _(name, folder):
    return _write(name, folder, "broken.tif", b"II*\x00" + b"\xff" * 40)


@kind("TIFF without an image")
def _(name, folder):
    return _write(name, folder, "no_image.tif", b"II*\x00\x00\x00\x00\x00")


@kind("TIFF cut inside its header")
def _(name, folder):
    return _write(name, folder, "tiff_cut_at_6.tif", _cut(GOOD_TIFF, 6))


@kind("TIFF cut inside its tags")
def _(name, folder):
    return _write(name, folder, "tiff_cut_in_tags.tif", _cut(GOOD_TIFF, 18))


@kind("TIFF cut inside its pixels")
def _(name, folder):
    return _write(name, folder, "tiff_cut_in_pixels.tif", _cut(GOOD_TIFF, len(GOOD_TIFF) - 1000))


@kind("zlib TIFF with a damaged tile")
def _(name, folder):
    path = folder / "damaged_zlib_tile.tif"
    damaged_tiles_tiff(path, "zlib")
    return Hostile(name, path, shape=(128, 128))


@kind("JPEG TIFF with a damaged tile")
def _(name, folder):
    path = folder / "damaged_jpeg_tile.tif"
    damaged_tiles_tiff(path, "jpeg")
    return Hostile(name, path, shape=(128, 128))


@kind("TIFF with tile offsets past the end")
def _(name, folder):
    path = folder / "tiles_past_end.tif"
    tile_offsets_past_the_end(path)
    return Hostile(name, path, shape=(64, 64))


@kind("TIFF with strip data past the end")
def _(name, folder):
    return _write(
        name, folder, "strip_past_end.tif", raw_tiff(4, 4, data_offset=2**20), shape=(4, 4)
    )


@kind("TIFF whose next page is itself")
def _(name, folder):
    # tifffile reads its one page and logs the loop: a warning naming the file, no stray line.
    data = raw_tiff(4, 4, next_page=8)
    return _write(
        name, folder, "page_loop.tif", data, refused_as=frozenset({OUTLINES}), shape=(4, 4)
    )


@kind("TIFF of 16 x 0 pixels")
def _(name, folder):
    return _write(name, folder, "no_rows.tif", raw_tiff(16, 0))


@kind("multi-page TIFF")
def _(name, folder):
    path = folder / "pages.tif"
    with tifffile.TiffWriter(path) as tiff:
        for _ in range(3):
            tiff.write(np.zeros((20, 30), np.uint8))
    return Hostile(name, path)


@kind("float TIFF with NaN")
def _(name, folder):
    path = folder / "nan.tif"
    data = np.zeros((20, 30), np.float32)
    data[3, 4] = np.nan
    tifffile.imwrite(path, data)
    return Hostile(name, path)


@kind("float TIFF with infinity")
def _(name, folder):
    path = folder / "infinite.tif"
    data = np.full((20, 30), 0.5, np.float32)
    data[3, 4] = np.inf
    tifffile.imwrite(path, data)
    return Hostile(name, path)


@kind("complex-valued TIFF")
def _(name, folder):
    path = folder / "complex.tif"
    tifffile.imwrite(path, np.full((20, 30), 1 + 2j, np.complex64))
    return Hostile(name, path)


@kind("5-channel TIFF")
def _(name, folder):
    path = folder / "five_channels.tif"
    tifffile.imwrite(path, noise((20, 30, 5), seed=8), planarconfig="contig")
    return Hostile(name, path)


@kind("unsupported format")
def _(name, folder):
    path = folder / "image.bmp"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(path)
    return Hostile(name, path, listed=False)  # a folder scan takes PNG, JPEG and TIFF only


# Valid but unusual images: processed like any other, refused only as what they are not.


@kind("1-bit PNG")
def _(name, folder):
    path = folder / "one_bit.png"
    Image.fromarray(np.eye(20, 30, dtype=bool)).save(path)
    return Hostile(name, path, refused_as=frozenset({OUTLINES}))  # a label image for evaluate


@kind("palette PNG of outlines")
def _(name, folder):
    path = folder / "palette_outlines.png"
    layer = outline_layer_of((40, 50))
    Image.fromarray(layer, "RGBA").convert("P").save(path)  # as some paint programs save them
    return Hostile(name, path, refused_as=frozenset(), shape=(40, 50))


@kind("16-bit gray and alpha PNG")
def _(name, folder):
    image = np.zeros((20, 30, 2), np.uint16)
    image[..., 0], image[..., 1] = 40000, 65535
    return _write(name, folder, "gray_alpha_16.png", png_bytes(image), refused_as=NOT_AN_ANNOTATION)


@kind("PNG without its end chunk")
def _(name, folder):
    data = png_bytes(tissue((40, 50), seed=9))
    return _write(
        name, folder, "no_iend.png", data[:-12], refused_as=NOT_AN_ANNOTATION, shape=(40, 50)
    )


@kind("big-endian 16-bit TIFF")
def _(name, folder):
    path = folder / "big_endian_16.tif"
    tifffile.imwrite(path, noise((20, 30), np.uint16, seed=10) // 16, byteorder=">")
    return Hostile(name, path, refused_as=frozenset({OUTLINES}))  # a label image for evaluate


@kind("big-endian float TIFF")
def _(name, folder):
    path = folder / "big_endian_float.tif"
    tifffile.imwrite(path, np.linspace(0, 1, 600, dtype=np.float32).reshape(20, 30), byteorder=">")
    return Hostile(name, path, refused_as=NOT_AN_ANNOTATION)


@kind("half-float TIFF")
def _(name, folder):
    path = folder / "half_float.tif"
    tifffile.imwrite(path, np.linspace(0, 1, 600, dtype=np.float16).reshape(20, 30))
    return Hostile(name, path, refused_as=NOT_AN_ANNOTATION)


@kind("TIFF of 1 x 100000 pixels")
def _(name, folder):
    path = folder / "one_row.tif"
    tifffile.imwrite(path, noise((1, 100_000), seed=11), compression="zlib")
    return Hostile(name, path, refused_as=frozenset({OUTLINES}), shape=(1, 100_000))


@kind("JPEG turned by its EXIF orientation")
def _(name, folder):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rows and columns swap
    data = jpeg_bytes(tissue((24, 40), seed=12), exif=exif.tobytes())
    return _write(name, folder, "sideways.jpg", data, refused_as=NOT_AN_ANNOTATION, shape=(40, 24))


# Annotation layers that cannot be annotations.


@kind("annotation layer 100% red")
def _(name, folder):
    layer = np.zeros((20, 30, 4), np.uint8)
    layer[:] = (255, 0, 0, 255)
    return _write(name, folder, "all_red.png", png_bytes(layer), refused_as=NOT_AN_ANNOTATION)


@kind("annotation layer without red")
def _(name, folder):
    layer = outline_layer_of((20, 30), colour=(0, 0, 255))
    return _write(name, folder, "no_red.png", png_bytes(layer), refused_as=NOT_AN_ANNOTATION)


@kind("annotation of another size than its image")
def _(name, folder):
    layer = outline_layer_of((30, 30))
    # Its companion image is 30 x 40: refused where the two are checked against each other.
    return _write(
        name,
        folder,
        "other_size.png",
        png_bytes(layer),
        refused_as=frozenset({PAIRED}),
        shape=(30, 40),
    )


@kind("label annotation with negative ids")
def _(name, folder):
    path = folder / "negative_labels.tif"
    labels = np.zeros((20, 30), np.int32)
    labels[2:8, 2:8], labels[10:18, 12:20] = -1, 7
    tifffile.imwrite(path, labels)
    return Hostile(name, path, refused_as=NOT_AN_ANNOTATION)


# The file system: names, links, permissions, things that are not files.


@kind("unreadable file")
def _(name, folder):
    path = folder / "no_permission.png"
    path.write_bytes(png_bytes(outline_layer_of((20, 30))))
    path.chmod(0)
    try:  # root reads it anyway: then it is an ordinary annotation layer
        path.read_bytes()
    except PermissionError:
        return Hostile(name, path)
    return Hostile(name, path, refused_as=frozenset())


@kind("broken symbolic link")
def _(name, folder):
    path = folder / "moved_away.png"
    path.symlink_to(folder / "nowhere" / "scan.png")
    # A folder scan passes it by (no file is there); named on the command line, it is refused.
    return Hostile(name, path, listed=False)


@kind("folder named x.png")
def _(name, folder):
    path = folder / "x.png"
    path.mkdir()
    (path / "inside.png").write_bytes(GOOD_PNG)
    return Hostile(name, path, listed=False)


@kind("named pipe named .tif")
def _(name, folder):
    path = folder / "pipe.tif"
    os.mkfifo(path)  # opening it would wait for a writer forever
    return Hostile(name, path, listed=False)


@kind("link to /dev/zero named .png")
def _(name, folder):
    path = folder / "endless.png"
    path.symlink_to("/dev/zero")  # reading it would never end
    return Hostile(name, path, listed=False)


@kind("unicode name")
def _(name, folder):
    return _write(name, folder, "núcleos día 1 (α) 🧫.png", b"\x89PNG\r\n\x1a\n broken")


@kind("control characters in the name")
def _(name, folder):
    path = folder / "bell\a escape\x1b[2J\ttab\nnewline.png"
    path.write_bytes(b"")
    # Shown safely: no bell rings and no screen is cleared, and the line stays one line.
    return Hostile(name, path, shown_as=f"{folder}/bell\\x07 escape\\x1b[2J tab newline.png")


@kind("name that is not UTF-8")
def _(name, folder):
    path = Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9 latin-1.png"))
    path.write_bytes(b"GIF89a")
    # The byte that is not UTF-8 is shown as it is: no terminal can print a lone surrogate.
    return Hostile(name, path, shown_as=f"{folder}/caf\\xe9 latin-1.png")


@kind("good annotation layer named like an option")
def _(name, folder):
    layer = png_bytes(outline_layer_of((24, 36)))
    return _write(name, folder, "--overwrite.png", layer, refused_as=frozenset(), shape=(24, 36))


@kind("good annotation layer with spaces in its name")
def _(name, folder):
    layer = png_bytes(outline_layer_of((24, 36)))
    return _write(
        name, folder, "slide  2 (copy).png", layer, refused_as=frozenset(), shape=(24, 36)
    )


# Decompression bombs: tiny files that declare sizes far above cellseg's caps.


@kind("decompression bomb", bomb=True)
def _(name, folder):
    return _write(name, folder, "bomb.png", png_declaring(100_000, 100_000))


@kind("PNG of 11000 x 11000 RGBA", bomb=True)
def _(name, folder):
    # Under MAX_PIXELS, over MAX_BYTES; 470 KB of real, decodable pixels.
    return _write(name, folder, "huge_rgba.png", black_png(11_000, 11_000, 4))


@kind("JPEG bomb", bomb=True)
def _(name, folder):
    return _write(name, folder, "bomb_photo.jpg", jpeg_declaring(65_000, 65_000))


@kind("TIFF bomb", bomb=True)
def _(name, folder):
    return _write(name, folder, "bomb_slide.tif", raw_tiff(100_000, 100_000))


@kind("TIFF bomb of one row", bomb=True)
def _(name, folder):
    return _write(name, folder, "bomb_row.tif", raw_tiff(2**31, 1))


#: The kinds of the ``bad_image`` fixture: each is refused in every role, and can be given
#: on the command line alone.
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
        ("cut", _cut(png_bytes(noise((8, 8), seed=16)), 40)),
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
