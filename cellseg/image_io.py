"""Read and write images: every format, dtype and error in one place.

PNG goes through imagecodecs (Pillow cannot hold 16-bit colour), JPEG through Pillow and
TIFF through tifffile. Images come back as numpy arrays of shape ``(rows, columns)`` or
``(rows, columns, channels)`` with their stored dtype, JPEGs turned as their EXIF orientation
says; every problem with a file is a `CellsegError` whose one-line message names the file.
"""

import os
import struct
from pathlib import Path

import numpy as np

from cellseg.atomic_write import write_atomically
from cellseg.errors import CellsegError, file_error
from cellseg.image_limits import check_image_size, decoding

PNG_SUFFIXES = (".png",)
JPEG_SUFFIXES = (".jpg", ".jpeg")
TIFF_SUFFIXES = (".tif", ".tiff")
IMAGE_SUFFIXES = PNG_SUFFIXES + JPEG_SUFFIXES + TIFF_SUFFIXES
#: Whole-slide formats besides TIFF (which also holds OME-TIFF and the Aperio, Philips,
#: Trestle and Ventana TIFFs), read region by region through OpenSlide (`cellseg.slide_io`).
SLIDE_FORMATS = {
    "Aperio": (".svs",),
    "Hamamatsu": (".ndpi", ".vms", ".vmu"),
    "MIRAX": (".mrxs",),
    "DICOM": (".dcm",),
    "Leica": (".scn",),
    "Sakura": (".svslide",),
    "Ventana": (".bif",),
    "ARGOS": (".avs",),
    "Zeiss": (".czi",),
}
SLIDE_SUFFIXES = tuple(suffix for suffixes in SLIDE_FORMATS.values() for suffix in suffixes)
#: Image formats cellseg does not read, which a folder scan names when it skips them.
OTHER_IMAGE_SUFFIXES = (".bmp", ".dib", ".gif", ".webp", ".jp2", ".j2k", ".jxl", ".heic")
OTHER_IMAGE_SUFFIXES += (".pbm", ".pgm", ".ppm", ".pnm", ".psd", ".tga", ".exr", ".ico")

#: PNG colour type -> channels once decoded (palette images decode to RGB, or RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}
#: The EXIF tag of a photo's orientation, and the orientations that show the stored image
#: turned a quarter: rows and columns swap.
_EXIF_ORIENTATION = 0x0112
_QUARTER_TURNS = (5, 6, 7, 8)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_image(path) -> np.ndarray:
    """Read a PNG, JPEG or TIFF image into a numpy array.

    Parameters
    ----------
    path : path-like
        The image file.

    Returns
    -------
    numpy.ndarray
        ``(rows, columns)`` for grayscale, ``(rows, columns, channels)`` with 2 (gray and
        alpha), 3 (RGB) or 4 (RGBA) channels otherwise; dtype as stored (uint8, uint16,
        float32...).

    Raises
    ------
    CellsegError
        Missing, empty, truncated, corrupt or non-image file (any error of the decoder),
        unsupported layout (CMYK, multi-page TIFF), float data with NaN or infinity, values
        that are no intensities (complex numbers), or a declared size above `MAX_PIXELS` or
        `MAX_BYTES`.
    """
    path = Path(path)
    suffix = _checked_suffix(path)
    _check_is_a_file(path)
    if path.stat().st_size == 0:
        raise file_error(path, "empty file (0 bytes)")
    if suffix in PNG_SUFFIXES:
        image = _read_png(path)
    elif suffix in JPEG_SUFFIXES:
        image = _read_jpeg(path)
    else:
        image = _read_tiff(path)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.dtype.kind not in "uif":  # complex numbers, records: no intensities
        raise file_error(path, f"holds {image.dtype} values, not intensities")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        what = "NaN" if np.isnan(image).any() else "infinite"
        raise file_error(path, f"contains {what} values")
    return image


def read_picture(path) -> np.ndarray:
    """An image to find cells in, as `read_image` reads it, its transparent pixels laid on
    white as viewers show them (`cellseg.preprocessing.colour.on_white`): a cut-out's
    transparent part is glass, not black tissue. Not for annotation layers, whose
    transparency is their background."""
    from cellseg.preprocessing.colour import on_white

    return on_white(read_image(path))


def read_image_shape(path) -> tuple[int, int]:
    """Return ``(rows, columns)`` of an image, reading only its header where the format allows.

    The shape is that of `read_image`'s array: a JPEG's rows and columns swap when its EXIF
    orientation turns it a quarter. A PNG or JPEG that `read_image` would refuse for its size
    is refused here too; a TIFF is not, as whole slides are read region by region.
    """
    path = Path(path)
    suffix = _checked_suffix(path)
    _check_is_a_file(path)
    if suffix in PNG_SUFFIXES:
        with decoding(path, "PNG"), open(path, "rb") as file:
            rows, columns, _, _ = _png_header(path, file.read(33))
        return rows, columns
    if suffix in JPEG_SUFFIXES:
        with decoding(path, "JPEG"), _open_jpeg(path) as picture:
            if picture.getexif().get(_EXIF_ORIENTATION) in _QUARTER_TURNS:
                return picture.width, picture.height
            return picture.height, picture.width
    return _tiff_shape(path)


def is_tiff(path) -> bool:
    """Whether ``path`` names a TIFF file (by its suffix)."""
    return Path(path).suffix.lower() in TIFF_SUFFIXES


#: The first bytes of a TIFF and a BigTIFF, little- and big-endian.
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


#: The first bytes of the pictures a file is sometimes misnamed as a slide.
PICTURE_SIGNATURES = {"PNG": _PNG_SIGNATURE, "JPEG": b"\xff\xd8\xff"}


def picture_kind(path) -> str | None:
    """``"PNG"`` or ``"JPEG"`` when the file at ``path`` is one by its first bytes, whatever
    its suffix; None otherwise, or when it cannot be read."""
    try:
        with open(path, "rb") as file:
            start = file.read(len(_PNG_SIGNATURE))
    except OSError:
        return None
    return next((kind for kind, sign in PICTURE_SIGNATURES.items() if start.startswith(sign)), None)


def holds_tiff(path) -> bool:
    """Whether the file at ``path`` is a TIFF by its first bytes, whatever its suffix (an
    Aperio ``.svs`` is one); False when it cannot be read."""
    try:
        with open(path, "rb") as file:
            return file.read(4) in TIFF_SIGNATURES
    except OSError:
        return False


def write_image(path, image: np.ndarray, *, overwrite: bool = False) -> bool:
    """Write an image atomically; the format follows the file's suffix.

    PNG holds uint8 or uint16 with 1 to 4 channels, JPEG uint8 gray or RGB, TIFF any
    numeric dtype. Boolean images are written as 0 and 255.

    Returns
    -------
    bool
        True if written; False if the file was there already with exactly this content
        (`cellseg.atomic_write.write_atomically`).

    Raises
    ------
    CellsegError
        If the file exists with other content and ``overwrite`` is false, the format cannot
        hold the image, or writing fails (the destination is then left as it was).
    """
    path = Path(path)
    suffix = _checked_suffix(path)
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if suffix in PNG_SUFFIXES:
        import imagecodecs

        if image.dtype not in (np.uint8, np.uint16) or not _channels_ok(image):
            raise file_error(path, f"PNG cannot hold a {image.dtype} image of shape {image.shape}")
        # Colour pictures (overlays, tiles of photographs) barely compress: zlib level 1
        # writes a 1000 x 1000 overlay in 53 ms instead of 195, 7% larger; labels and
        # outline layers, which compress well and fast, keep the default.
        picture = image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        data = imagecodecs.png_encode(np.ascontiguousarray(image), level=1 if picture else None)
        return write_atomically(
            path, lambda temporary: temporary.write_bytes(data), overwrite=overwrite
        )
    elif suffix in JPEG_SUFFIXES:
        from PIL import Image

        if (
            image.dtype != np.uint8
            or image.ndim not in (2, 3)
            or (image.ndim == 3 and image.shape[2] != 3)
        ):
            raise file_error(path, f"JPEG cannot hold a {image.dtype} image of shape {image.shape}")
        picture = Image.fromarray(image)
        return write_atomically(
            path,
            lambda temporary: picture.save(temporary, format="JPEG", quality=95),
            overwrite=overwrite,
        )
    else:
        import tifffile

        photometric = "rgb" if image.ndim == 3 and image.shape[2] in (3, 4) else "minisblack"
        return write_atomically(
            path,
            lambda temporary: tifffile.imwrite(
                temporary, image, photometric=photometric, compression="zlib"
            ),
            overwrite=overwrite,
        )


def output_suffix(image: np.ndarray) -> str:
    """The suffix to store ``image`` losslessly: ``.png`` when PNG can hold it, else ``.tif``."""
    if image.dtype in (np.uint8, np.uint16, bool) and _channels_ok(image):
        return ".png"
    return ".tif"


def _channels_ok(image: np.ndarray) -> bool:
    return image.ndim == 2 or (image.ndim == 3 and 1 <= image.shape[2] <= 4)


def _check_is_a_file(path: Path) -> None:
    """Refuse what is not a file: nothing, a folder, a pipe (which would wait forever)."""
    if path.is_file():
        return
    if path.is_symlink() and not path.exists():
        raise file_error(path, f"broken symbolic link (to {os.readlink(path)}, which is missing)")
    raise file_error(path, "no such file" if not path.exists() else "is not a file")


def _checked_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise file_error(path, "not a supported image file (PNG, JPEG or TIFF expected)")
    return suffix


def _png_header(path: Path, head: bytes) -> tuple[int, int, int, int]:
    """``(rows, columns, bit_depth, colour_type)`` from a PNG's signature and IHDR chunk."""
    if not head.startswith(_PNG_SIGNATURE):
        raise file_error(path, "not a PNG file (bad signature)")
    if len(head) < 26 or head[12:16] != b"IHDR":
        raise file_error(path, "truncated or corrupt PNG (no IHDR header)")
    columns, rows, bit_depth, colour_type = struct.unpack(">IIBB", head[16:26])
    if colour_type not in _PNG_CHANNELS or bit_depth not in (1, 2, 4, 8, 16):
        raise file_error(path, f"corrupt PNG header (colour type {colour_type}, {bit_depth} bits)")
    check_image_size(
        path,
        rows,
        columns,
        channels=_PNG_CHANNELS[colour_type],
        bytes_per_sample=2 if bit_depth == 16 else 1,
    )
    return rows, columns, bit_depth, colour_type


def _read_png(path: Path) -> np.ndarray:
    import imagecodecs

    with decoding(path, "PNG"):
        data = path.read_bytes()
        rows, columns, _, _ = _png_header(path, data[:33])
        image = imagecodecs.png_decode(data)
    if image.shape[:2] != (rows, columns):
        raise file_error(path, "truncated or corrupt PNG (decoded size differs from its header)")
    return image


def _read_jpeg(path: Path) -> np.ndarray:
    from PIL import ImageOps

    with decoding(path, "JPEG"), _open_jpeg(path) as picture:
        if picture.mode == "CMYK":
            raise file_error(path, "CMYK JPEG is not supported; convert it to RGB")
        picture.load()
        # A phone held upright stores its photo sideways and says so in EXIF.
        ImageOps.exif_transpose(picture, in_place=True)
        if picture.mode not in ("L", "RGB"):
            picture = picture.convert("RGB")
        return np.asarray(picture)


def _open_jpeg(path: Path):
    """Open a JPEG with Pillow, its header only, after checking it is one and not too large."""
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        # cellseg's own limits apply (check_image_size), not Pillow's warning.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            picture = Image.open(path)
        except Image.DecompressionBombError:
            raise file_error(path, "declares too many pixels (decompression bomb?)") from None
    if picture.format != "JPEG":
        picture.close()
        raise file_error(path, f"not a JPEG file (looks like {picture.format})")
    try:
        check_image_size(path, picture.height, picture.width, channels=len(picture.getbands()))
    except CellsegError:
        picture.close()
        raise
    return picture


def _read_tiff(path: Path) -> np.ndarray:
    import tifffile

    with decoding(path, "TIFF"):
        with tifffile.TiffFile(path) as tiff:
            if not tiff.series:
                raise file_error(path, "TIFF holds no image")
            if len(tiff.series) > 1 or (len(tiff.pages) > 1 and not tiff.series[0].is_pyramidal):
                if len(tiff.series) == 1 and tiff.series[0].axes == "CYX":
                    raise file_error(
                        path,
                        f"holds {len(tiff.pages)} channels as separate pages (a composite, "
                        "as Fiji saves it); save it as one RGB image",
                    )
                raise file_error(
                    path, f"multi-page TIFF ({len(tiff.pages)} pages); give one image per file"
                )
            series = tiff.series[0]
            if series.levels and len(series.levels) > 1:
                series = series.levels[0]
            axes, shape = series.axes, series.shape
            rows = shape[axes.index("Y")] if "Y" in axes else 0
            columns = shape[axes.index("X")] if "X" in axes else 0
            samples = int(np.prod(shape, dtype=np.int64))
            check_image_size(
                path,
                rows,
                columns,
                channels=samples // max(1, rows * columns),
                bytes_per_sample=series.dtype.itemsize,
            )
            photometric = tiff.pages[0].photometric
            if photometric == tifffile.PHOTOMETRIC.SEPARATED:
                raise file_error(path, "CMYK TIFF is not supported; convert it to RGB")
            image = series.asarray()
    return _to_rows_columns_channels(path, image, axes)


def _tiff_shape(path: Path) -> tuple[int, int]:
    """(rows, columns) of a TIFF's first image, from its header."""
    import tifffile

    with decoding(path, "TIFF"), tifffile.TiffFile(path) as tiff:
        if not tiff.series or "Y" not in tiff.series[0].axes or "X" not in tiff.series[0].axes:
            raise file_error(path, "TIFF holds no image")
        series = tiff.series[0]
        return series.shape[series.axes.index("Y")], series.shape[series.axes.index("X")]


def _to_rows_columns_channels(path: Path, image: np.ndarray, axes: str) -> np.ndarray:
    """Reorder a TIFF's axes to ``(Y, X)`` or ``(Y, X, channels)``, dropping size-1 axes."""
    keep = [i for i, axis in enumerate(axes) if image.shape[i] > 1 or axis in "YX"]
    image = image.reshape([image.shape[i] for i in keep])
    axes = "".join(axes[i] for i in keep)
    extra = [axis for axis in axes if axis not in "YXSC"]
    channel_axes = [axis for axis in axes if axis in "SC"]
    if extra or len(channel_axes) > 1:
        raise file_error(
            path, f"TIFF has axes {axes} of shape {image.shape}; give one 2-D image per file"
        )
    order = [axes.index("Y"), axes.index("X")] + [axes.index(axis) for axis in channel_axes]
    image = np.transpose(image, order)
    if image.ndim == 3 and image.shape[2] > 4:
        raise file_error(path, f"TIFF has {image.shape[2]} channels; at most 4 are supported")
    return image
