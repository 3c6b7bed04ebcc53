"""Kinds of hostile image files (`hostile_entries.kind`): broken files (truncated at several
offsets, bad checksums, damaged compressed tiles, offsets past the end, empty sizes, the
wrong format behind a suffix) and valid but unusual images that must simply work (1-bit,
palette, 16-bit gray and alpha, big-endian, 1 x 100000 pixels)."""

import io
import struct

import numpy as np
import tifffile
from hostile_bytes import (
    GOOD_JPEG,
    GOOD_PNG,
    GOOD_TIFF,
    cut,
    damaged_tiles_tiff,
    jpeg_bytes,
    noise,
    outline_layer_of,
    png_bytes,
    png_declaring,
    raw_tiff,
    tile_offsets_past_the_end,
    tissue,
)
from hostile_entries import NOT_AN_ANNOTATION, OUTLINES, Hostile, kind, written
from PIL import Image


@kind("missing")
def _(name, folder):
    return Hostile(name, folder / "missing.png", listed=False)


@kind("zero bytes")
def _(name, folder):
    return written(name, folder, "empty.png", b"")


@kind("text named .png")
def _(name, folder):
    return written(name, folder, "notes.png", b"not an image\n")


@kind("truncated PNG")
def _(name, folder):
    return written(name, folder, "truncated.png", cut(GOOD_PNG, 300), shape=(64, 64))


for _end, _where in ((8, "after its signature"), (20, "inside its header"), (33, "after IHDR")):

    @kind(f"PNG cut {_where}")
    def _(name, folder, end=_end):
        return written(name, folder, f"png_cut_at_{end}.png", cut(GOOD_PNG, end), shape=(64, 64))


@kind("PNG cut inside its pixels")
def _(name, folder):
    return written(name, folder, "png_cut_in_idat.png", cut(GOOD_PNG, len(GOOD_PNG) // 2))


@kind("PNG with a bad header checksum")
def _(name, folder):
    data = bytearray(GOOD_PNG)
    data[29] ^= 0xFF  # the CRC of IHDR
    return written(name, folder, "bad_crc_header.png", bytes(data))


@kind("PNG with a bad pixel checksum")
def _(name, folder):
    data = bytearray(GOOD_PNG)
    start = data.index(b"IDAT")
    length = struct.unpack(">I", data[start - 4 : start])[0]
    data[start + 4 + length] ^= 0xFF  # the CRC of the first IDAT
    return written(name, folder, "bad_crc_pixels.png", bytes(data), shape=(64, 64))


@kind("PNG of 0 x 16 pixels")
def _(name, folder):
    return written(name, folder, "no_columns.png", png_declaring(0, 16))


@kind("truncated JPEG")
def _(name, folder):
    return written(name, folder, "truncated_photo.jpg", cut(GOOD_JPEG, 400), shape=(64, 64))


@kind("JPEG cut after its first marker")
def _(name, folder):
    return written(name, folder, "jpeg_cut_at_2.jpg", cut(GOOD_JPEG, 2))


@kind("JPEG cut inside its header")
def _(name, folder):
    return written(name, folder, "jpeg_cut_at_100.jpg", cut(GOOD_JPEG, 100))


@kind("CMYK JPEG")
def _(name, folder):
    path = folder / "cmyk.jpg"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).convert("CMYK").save(path)
    return Hostile(name, path)


@kind("JPEG named .png")
def _(name, folder):
    return written(name, folder, "photo_named_png.png", GOOD_JPEG, shape=(64, 64))


@kind("PNG named .jpg")
def _(name, folder):
    return written(name, folder, "png_named_jpg.jpg", GOOD_PNG, shape=(64, 64))


@kind("GIF named .png")
def _(name, folder):
    buffer = io.BytesIO()
    Image.fromarray(noise((20, 30), seed=6)).save(buffer, format="GIF")
    return written(name, folder, "animation.png", buffer.getvalue())


@kind("WebP named .jpg")
def _(name, folder):
    buffer = io.BytesIO()
    Image.fromarray(noise((20, 30, 3), seed=7)).save(buffer, format="WEBP")
    return written(name, folder, "webp_named_jpg.jpg", buffer.getvalue())


@kind("unreadable TIFF")
def _(name, folder):
    return written(name, folder, "broken.tif", b"II*\x00" + b"\xff" * 40)


@kind("TIFF without an image")
def _(name, folder):
    return written(name, folder, "no_image.tif", b"II*\x00\x00\x00\x00\x00")


@kind("TIFF cut inside its header")
def _(name, folder):
    return written(name, folder, "tiff_cut_at_6.tif", cut(GOOD_TIFF, 6))


@kind("TIFF cut inside its tags")
def _(name, folder):
    return written(name, folder, "tiff_cut_in_tags.tif", cut(GOOD_TIFF, 18))


@kind("TIFF cut inside its pixels")
def _(name, folder):
    return written(name, folder, "tiff_cut_in_pixels.tif", cut(GOOD_TIFF, len(GOOD_TIFF) - 1000))


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
    return written(
        name, folder, "strip_past_end.tif", raw_tiff(4, 4, data_offset=2**20), shape=(4, 4)
    )


@kind("TIFF whose next page is itself")
def _(name, folder):
    # tifffile reads its one page and logs the loop: a warning naming the file, no stray line.
    data = raw_tiff(4, 4, next_page=8)
    return written(
        name, folder, "page_loop.tif", data, refused_as=frozenset({OUTLINES}), shape=(4, 4)
    )


@kind("TIFF of 16 x 0 pixels")
def _(name, folder):
    return written(name, folder, "no_rows.tif", raw_tiff(16, 0))


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
    return written(
        name, folder, "gray_alpha_16.png", png_bytes(image), refused_as=NOT_AN_ANNOTATION
    )


@kind("PNG without its end chunk")
def _(name, folder):
    data = png_bytes(tissue((40, 50), seed=9))
    return written(
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
    return written(name, folder, "sideways.jpg", data, refused_as=NOT_AN_ANNOTATION, shape=(40, 24))
