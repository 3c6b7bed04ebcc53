"""Zeiss CZI slides (``.czi``), written small, in the layout OpenSlide reads.

A CZI file is a chain of segments, each a 32-byte header (its id, the bytes allocated to
it and the bytes used) then its data, at offsets that are multiples of 32: the file header
(where the others lie), a subblock per image tile (its directory entry, then its pixels),
the subblock directory, the metadata XML (the image's size, its pixel size in metres) and
the attachment directory, as OpenSlide's format page (https://openslide.org/formats/zeiss/)
and reader (``src/openslide-vendor-zeiss.c``) describe them. Written here: the least
OpenSlide accepts, one scene of BGR24 tiles laid edge to edge, no attachments.
(pylibCZIrw, Zeiss' own writer, gives every tile Z and T dimensions, which OpenSlide
refuses.)
"""

import itertools
import struct
import uuid

import numpy as np

#: CZI's codes for the pixels' compression.
COMPRESSION = {"none": 0, "jpegxr": 4, "zstd": 5}
_BGR24 = 3
#: JPEG XR's pixel format 24bppRGB, {6FDDC324-4E03-4BFE-B185-3D77768DC90D}, as stored;
#: 24bppBGR ends 0C instead.
_JPEG_XR_RGB = bytes.fromhex("24C3DD6F034EFE4BB1853D77768DC90D")
_SUBBLOCK_HEADER = 256  # a subblock's sizes and directory entry, padded


def czi_slide(path, image, pixel_size, *, tile=256, compression="zstd", levels=(1, 4)):
    """A Zeiss CZI slide of ``image`` (RGB) at ``pixel_size`` um: its tiles ``tile`` pixels
    square at each downsample of ``levels`` (every so many pixels kept), the last row
    and column of each level as wide as the image leaves them; ``compression`` one of
    `COMPRESSION`."""
    data, entries = bytearray(_segment(b"ZISRAWFILE", bytes(512))), []
    rows, columns = image.shape[:2]
    for factor in levels:
        small = image[::factor, ::factor]
        tiles = itertools.product(range(0, small.shape[0], tile), range(0, small.shape[1], tile))
        for index, (top, left) in enumerate(tiles):
            pixels = np.ascontiguousarray(small[top : top + tile, left : left + tile])
            entry = _directory_entry(
                COMPRESSION[compression],
                len(data),
                (left * factor, top * factor),
                (pixels.shape[1] * factor, pixels.shape[0] * factor),
                pixels.shape[1::-1],
                index,
            )
            entries.append(entry)
            data += _subblock(entry, _encoded(pixels, compression))
    directory = len(data)
    data += _segment(
        b"ZISRAWDIRECTORY", struct.pack("<i", len(entries)) + bytes(124) + b"".join(entries)
    )
    metadata = len(data)
    xml = _metadata(rows, columns, pixel_size).encode()
    data += _segment(b"ZISRAWMETADATA", struct.pack("<ii", len(xml), 0) + bytes(248) + xml)
    attachments = len(data)
    data += _segment(b"ZISRAWATTDIR", struct.pack("<i", 0) + bytes(252))
    guid = uuid.uuid4().bytes
    header = struct.pack(
        "<4i16s16siqqiq", 1, 0, 0, 0, guid, guid, 0, directory, metadata, 0, attachments
    )
    data[32 : 32 + len(header)] = header
    path.write_bytes(bytes(data))


def _encoded(pixels, compression: str) -> bytes:
    """A tile's RGB ``pixels`` as a BGR24 subblock holds them: blue, green, red, raw or
    zstd-compressed; or a JPEG XR image of pixel format 24bppBGR, as Zeiss scanners write
    (imagecodecs writes 24bppRGB: the same coded image, decoded in the other order, so only
    its format's GUID changes)."""
    import imagecodecs

    if compression == "jpegxr":
        encoded = imagecodecs.jpegxr_encode(pixels, level=0.95)
        assert encoded.count(_JPEG_XR_RGB) == 1
        return encoded.replace(_JPEG_XR_RGB, _JPEG_XR_RGB[:-1] + b"\x0c")
    bgr = np.ascontiguousarray(pixels[..., ::-1]).tobytes()
    return imagecodecs.zstd_encode(bgr) if compression == "zstd" else bgr


def _segment(sid: bytes, content: bytes) -> bytes:
    """A segment: its id, the bytes allocated (``content`` padded to a multiple of 32) and
    used, then the content."""
    allocated = -(-len(content) // 32) * 32
    header = struct.pack("<16sqq", sid, allocated, len(content))
    return header + content + bytes(allocated - len(content))


def _directory_entry(compression, position, start, size, stored, index) -> bytes:
    """A DirectoryEntryDV: the tile's pixel type, where its subblock lies, its compression
    and its dimensions: X and Y (its place and extent in level 0's pixels, and its stored
    size, which gives the level's downsample), channel C and scene S 0, and M its index in
    the level's mosaic."""
    dimensions = [
        (b"X", start[0], size[0], stored[0]),
        (b"Y", start[1], size[1], stored[1]),
        (b"C", 0, 1, 1),
        (b"S", 0, 1, 1),
        (b"M", index, 1, 1),
    ]
    entry = struct.pack(
        "<2siqiib5si", b"DV", _BGR24, position, 0, compression, 0, b"", len(dimensions)
    )
    for name, first, extent, kept in dimensions:
        entry += struct.pack("<4siifi", name, first, extent, 0.0, kept)
    return entry


def _subblock(entry: bytes, pixels: bytes) -> bytes:
    """A subblock segment: its metadata's, attachment's and pixels' sizes and its directory
    entry, padded to `_SUBBLOCK_HEADER` bytes, then the pixels (no metadata)."""
    head = struct.pack("<iiq", 0, 0, len(pixels)) + entry
    return _segment(b"ZISRAWSUBBLOCK", head.ljust(_SUBBLOCK_HEADER, b"\0") + pixels)


def _metadata(rows, columns, pixel_size) -> str:
    """The metadata XML OpenSlide reads: the image's size, and its pixel size (metres)."""
    distances = "".join(
        f'<Distance Id="{axis}"><Value>{pixel_size}E-06</Value></Distance>' for axis in "XY"
    )
    return (
        "<ImageDocument><Metadata><Information><Image>"
        f"<SizeX>{columns}</SizeX><SizeY>{rows}</SizeY><SizeS>1</SizeS><PixelType>Bgr24</PixelType>"
        f"</Image></Information><Scaling><Items>{distances}</Items></Scaling>"
        "</Metadata></ImageDocument>"
    )
