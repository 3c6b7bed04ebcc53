"""Raw bytes and small files that the hostile kinds are built from: headers that declare
anything, files damaged on purpose, and ordinary images to damage (`GOOD_PNG`...)."""

import functools
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(columns: int, rows: int, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG (RGB of 8 bits unless told) whose header declares ``columns`` x ``rows`` but
    that holds no pixels."""
    header = struct.pack(">IIBBBBB", columns, rows, bit_depth, colour_type, 0, 0, 0)
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


def cut(data: bytes, end: int) -> bytes:
    assert 0 < end < len(data), (end, len(data))
    return data[:end]


def tiff_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, image)
    return buffer.getvalue()


GOOD_TIFF = tiff_bytes(noise((64, 64), seed=5))


GOOD_PNG = png_bytes(noise((64, 64, 3), seed=1))
GOOD_JPEG = jpeg_bytes(noise((64, 64, 3), seed=2))
