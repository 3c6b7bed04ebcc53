"""MIRAX slides (3DHISTECH ``.mrxs``), written small, in the layout OpenSlide reads.

A MIRAX slide is ``NAME.mrxs`` beside a folder ``NAME/`` holding ``Slidedat.ini`` (an INI
file: the slide's id, its grid of images, a section per level), ``Index.dat`` (where each
level's images lie) and data files ``DataNNNN.dat`` (a header, then the images), as
OpenSlide's format page (https://openslide.org/formats/mirax/) and reader
(``src/openslide-vendor-mirax.c``) describe them. Written here: the least OpenSlide
accepts, with no associated images and no camera positions.
"""

import itertools
import struct
import uuid

import numpy as np

#: The version that starts Index.dat and the data files, the one OpenSlide accepts.
VERSION = b"01.02"


def mirax_slide(path, image, pixel_size, *, tile=256):
    """A MIRAX slide (``.mrxs``) of ``image`` at ``pixel_size`` um: an empty ``.mrxs``, and
    in the folder of its name ``Slidedat.ini``, ``Index.dat`` and one data file of JPEG
    images ``tile`` pixels square, laid edge to edge (no overlap, no camera positions), the
    last row and column padded white; each level halves the one before, down to a single
    image."""
    folder, slide_id = path.with_suffix(""), uuid.uuid4().hex
    folder.mkdir()
    path.write_bytes(b"")
    across, down = -(-image.shape[1] // tile), -(-image.shape[0] // tile)
    data, levels = _data_file(slide_id, image, tile, (across, down))
    (folder / "Data0000.dat").write_bytes(data)
    (folder / "Index.dat").write_bytes(_index(slide_id, levels))
    slidedat = _slidedat(slide_id, pixel_size, tile, (across, down), len(levels))
    (folder / "Slidedat.ini").write_text(slidedat)


def _data_file(slide_id, image, tile, grid):
    """The data file (its header, then each level's JPEGs) and each level's images as
    Index.dat lists them: (index, offset, length, file number), the index counted in level
    0's grid (``row * across + column``): a level ``2**n`` times smaller has an image at
    every ``2**n``-th row and column of it."""
    import imagecodecs

    data = bytearray(VERSION + slide_id.encode() + b"000" + bytes(256))  # file number 000
    levels = []
    for level in range((max(grid) - 1).bit_length() + 1):  # down to a single image
        factor = 2**level
        small = image[::factor, ::factor]
        rows, columns = -(-small.shape[0] // tile), -(-small.shape[1] // tile)
        padding = ((0, rows * tile - small.shape[0]), (0, columns * tile - small.shape[1]), (0, 0))
        small = np.pad(small, padding, constant_values=255)
        levels.append([])
        for row, column in itertools.product(range(rows), range(columns)):
            piece = small[row * tile : (row + 1) * tile, column * tile : (column + 1) * tile]
            jpeg = imagecodecs.jpeg_encode(piece, level=95)
            levels[-1].append(((row * grid[0] + column) * factor, len(data), len(jpeg), 0))
            data += jpeg
    return bytes(data), levels


def _index(slide_id, levels) -> bytes:
    """Index.dat: the version and slide id; pointers to the hierarchical root (a record per
    level) and the nonhierarchical one (empty, at the end); each record a linked list of
    pages of (count, next page, items): an empty page, then one listing the level's images.
    """
    head = VERSION + slide_id.encode()
    hierarchical_root = len(head) + 8
    position, records, pages = hierarchical_root + 4 * len(levels), [], b""
    for images in levels:
        records.append(position)
        pages += struct.pack("<4i", 0, position + 8, len(images), 0)
        pages += b"".join(struct.pack("<4i", *image) for image in images)
        position += 16 * (1 + len(images))
    roots = struct.pack(f"<{2 + len(records)}i", hierarchical_root, position, *records)
    return head + roots + pages


def _slidedat(slide_id, pixel_size, tile, grid, count) -> str:
    """Slidedat.ini: the slide's id and grid of level-0 images, its one hierarchy (the zoom
    levels, a section each), no nonhierarchical data, its index and data file."""
    sections = {
        "GENERAL": {
            "SLIDE_VERSION": "01.03",
            "SLIDE_ID": slide_id,
            "IMAGENUMBER_X": grid[0],
            "IMAGENUMBER_Y": grid[1],
            "OBJECTIVE_MAGNIFICATION": round(10 / pixel_size),
        },
        "HIERARCHICAL": {"HIER_COUNT": 1, "HIER_0_NAME": "Slide zoom level", "HIER_0_COUNT": count},
        "DATAFILE": {"FILE_COUNT": 1, "FILE_0": "Data0000.dat"},
    }
    for level in range(count):
        name = f"LAYER_0_LEVEL_{level}_SECTION"
        sections["HIERARCHICAL"][f"HIER_0_VAL_{level}"] = f"ZoomLevel_{level}"
        sections["HIERARCHICAL"][f"HIER_0_VAL_{level}_SECTION"] = name
        sections[name] = {
            "OVERLAP_X": 0,
            "OVERLAP_Y": 0,
            "MICROMETER_PER_PIXEL_X": pixel_size * 2**level,
            "MICROMETER_PER_PIXEL_Y": pixel_size * 2**level,
            "IMAGE_FORMAT": "JPEG",
            "IMAGE_FILL_COLOR_BGR": 0xFFFFFF,
            "DIGITIZER_WIDTH": tile,
            "DIGITIZER_HEIGHT": tile,
            "IMAGE_CONCAT_FACTOR": min(level, 1),  # each image 2 x 2 of the level before's
        }
    sections["HIERARCHICAL"] |= {"NONHIER_COUNT": 0, "INDEXFILE": "Index.dat"}
    return "".join(
        f"[{name}]\n" + "".join(f"{key}={value}\n" for key, value in keys.items())
        for name, keys in sections.items()
    )
