"""Kinds of hostile files besides broken images (`hostile_entries.kind`): annotation layers
that cannot be annotations, file system oddities (a folder or a pipe named like an image, a
broken link, an unreadable file, hostile names) and decompression bombs."""

import os
from pathlib import Path

import numpy as np
import tifffile
from hostile_bytes import (
    GOOD_PNG,
    black_png,
    jpeg_declaring,
    outline_layer_of,
    png_bytes,
    png_declaring,
    raw_tiff,
)
from hostile_entries import NOT_AN_ANNOTATION, PAIRED, Hostile, kind, written

# Annotation layers that cannot be annotations.


@kind("annotation layer 100% red")
def _(name, folder):
    layer = np.zeros((20, 30, 4), np.uint8)
    layer[:] = (255, 0, 0, 255)
    return written(name, folder, "all_red.png", png_bytes(layer), refused_as=NOT_AN_ANNOTATION)


@kind("annotation layer without red")
def _(name, folder):
    layer = outline_layer_of((20, 30), colour=(0, 0, 255))
    return written(name, folder, "no_red.png", png_bytes(layer), refused_as=NOT_AN_ANNOTATION)


@kind("annotation of another size than its image")
def _(name, folder):
    layer = outline_layer_of((30, 30))
    # Its companion image is 30 x 40: refused where the two are checked against each other.
    return written(
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
    # Refused, in a folder too: a link into a share that is not mounted is not passed by.
    return Hostile(name, path)


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
    return written(name, folder, "núcleos día 1 (α) 🧫.png", b"\x89PNG\r\n\x1a\n broken")


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
    return written(name, folder, "--overwrite.png", layer, refused_as=frozenset(), shape=(24, 36))


@kind("good annotation layer with spaces in its name")
def _(name, folder):
    layer = png_bytes(outline_layer_of((24, 36)))
    return written(
        name, folder, "slide  2 (copy).png", layer, refused_as=frozenset(), shape=(24, 36)
    )


# Decompression bombs: tiny files that declare sizes far above cellseg's caps.


@kind("decompression bomb", bomb=True)
def _(name, folder):
    return written(name, folder, "bomb.png", png_declaring(100_000, 100_000))


@kind("PNG of 11000 x 11000 RGBA", bomb=True)
def _(name, folder):
    # Under MAX_PIXELS, over MAX_BYTES; 470 KB of real, decodable pixels.
    return written(name, folder, "huge_rgba.png", black_png(11_000, 11_000, 4))


@kind("JPEG bomb", bomb=True)
def _(name, folder):
    return written(name, folder, "bomb_photo.jpg", jpeg_declaring(65_000, 65_000))


@kind("TIFF bomb", bomb=True)
def _(name, folder):
    return written(name, folder, "bomb_slide.tif", raw_tiff(100_000, 100_000))


@kind("TIFF bomb of one row", bomb=True)
def _(name, folder):
    return written(name, folder, "bomb_row.tif", raw_tiff(2**31, 1))


#: The kinds of the ``bad_image`` fixture: each is refused in every role, and can be given
