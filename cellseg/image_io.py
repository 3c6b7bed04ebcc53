"""Read and write images: every format, dtype and error in one place.

PNG goes through imagecodecs (Pillow cannot hold 16-bit colour), JPEG through Pillow and
TIFF through tifffile. Images come back as numpy arrays of shape ``(rows, columns)`` or
``(rows, columns, channels)`` with their stored dtype; every problem with a file is a
`CellsegError` whose one-line message names the file.
"""

import struct
from pathlib import Path

import numpy as np

from cellseg.atomic_write import write_atomically
from cellseg.errors import CellsegError, file_error

PNG_SUFFIXES = (".png",)
JPEG_SUFFIXES = (".jpg", ".jpeg")
TIFF_SUFFIXES = (".tif", ".tiff")
IMAGE_SUFFIXES = PNG_SUFFIXES + JPEG_SUFFIXES + TIFF_SUFFIXES

#: Largest image read whole, in pixels (about 11,600 x 11,600). A file that declares more is
#: refused before it is decoded, so a tiny "decompression bomb" cannot exhaust memory.
MAX_PIXELS = 2**27

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
        Missing, empty, truncated or non-image file, unsupported layout (CMYK, multi-page
        TIFF), float data with NaN, or a declared size above `MAX_PIXELS`.
    """
    path = Path(path)
    suffix = _checked_suffix(path)
    if not path.is_file():
        raise file_error(path, "no such file" if not path.exists() else "is not a file")
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
    if image.dtype.kind == "f" and np.isnan(image).any():
        raise file_error(path, "contains NaN values")
    return image


def read_image_shape(path) -> tuple[int, int]:
    """Return ``(rows, columns)`` of an image, reading only its header where the format allows."""
    path = Path(path)
    suffix = _checked_suffix(path)
    if not path.is_file():
        raise file_error(path, "no such file" if not path.exists() else "is not a file")
    if suffix in PNG_SUFFIXES:
        with open(path, "rb") as file:
            rows, columns, _, _ = _png_header(path, file.read(33))
        return rows, columns
    if suffix in JPEG_SUFFIXES:
        from PIL import Image

        try:
            with Image.open(path) as image:
                return image.height, image.width
        except Exception as error:  # Pillow raises many types for a bad file
            raise file_error(path, f"not a readable JPEG ({error})") from None
    return _tiff_shape(path)


def is_tiff(path) -> bool:
    """Whether ``path`` names a TIFF file (by its suffix)."""
    return Path(path).suffix.lower() in TIFF_SUFFIXES


def write_image(path, image: np.ndarray, *, overwrite: bool = False) -> None:
    """Write an image atomically; the format follows the file's suffix.

    PNG holds uint8 or uint16 with 1 to 4 channels, JPEG uint8 gray or RGB, TIFF any
    numeric dtype. Boolean images are written as 0 and 255.

    Raises
    ------
    CellsegError
        If the file exists and ``overwrite`` is false, the format cannot hold the image, or
        writing fails (the destination is then left as it was).
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
        data = imagecodecs.png_encode(np.ascontiguousarray(image))
        write_atomically(path, lambda temporary: temporary.write_bytes(data), overwrite=overwrite)
    elif suffix in JPEG_SUFFIXES:
        from PIL import Image

        if (
            image.dtype != np.uint8
            or image.ndim not in (2, 3)
            or (image.ndim == 3 and image.shape[2] != 3)
        ):
            raise file_error(path, f"JPEG cannot hold a {image.dtype} image of shape {image.shape}")
        picture = Image.fromarray(image)
        write_atomically(
            path,
            lambda temporary: picture.save(temporary, format="JPEG", quality=95),
            overwrite=overwrite,
        )
    else:
        import tifffile

        photometric = "rgb" if image.ndim == 3 and image.shape[2] in (3, 4) else "minisblack"
        write_atomically(
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


def _checked_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise file_error(path, "not a supported image file (PNG, JPEG or TIFF expected)")
    return suffix


def _check_pixel_count(path: Path, rows: int, columns: int) -> None:
    if rows <= 0 or columns <= 0:
        raise file_error(path, f"declares an empty image ({columns} x {rows} pixels)")
    if rows * columns > MAX_PIXELS:
        raise file_error(
            path,
            f"declares {columns} x {rows} pixels, more than the {MAX_PIXELS:,} cellseg reads "
            "at once (a corrupt file or decompression bomb?)",
        )


def _png_header(path: Path, head: bytes) -> tuple[int, int, int, int]:
    """``(rows, columns, bit_depth, colour_type)`` from a PNG's signature and IHDR chunk."""
    if not head.startswith(_PNG_SIGNATURE):
        raise file_error(path, "not a PNG file (bad signature)")
    if len(head) < 26 or head[12:16] != b"IHDR":
        raise file_error(path, "truncated or corrupt PNG (no IHDR header)")
    columns, rows, bit_depth, colour_type = struct.unpack(">IIBB", head[16:26])
    _check_pixel_count(path, rows, columns)
    return rows, columns, bit_depth, colour_type


def _read_png(path: Path) -> np.ndarray:
    import imagecodecs

    data = path.read_bytes()
    rows, columns, _, _ = _png_header(path, data[:33])
    try:
        image = imagecodecs.png_decode(data)
    except Exception as error:  # imagecodecs raises its own error types per codec
        raise file_error(path, f"truncated or corrupt PNG ({error})") from None
    if image.shape[:2] != (rows, columns):
        raise file_error(path, "truncated or corrupt PNG (decoded size differs from its header)")
    return image


def _read_jpeg(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as picture:
            if picture.format != "JPEG":
                raise file_error(path, f"not a JPEG file (looks like {picture.format})")
            _check_pixel_count(path, picture.height, picture.width)
            if picture.mode == "CMYK":
                raise file_error(path, "CMYK JPEG is not supported; convert it to RGB")
            picture.load()
            if picture.mode not in ("L", "RGB"):
                picture = picture.convert("RGB")
            return np.asarray(picture)
    except CellsegError:
        raise
    except Image.DecompressionBombError:
        raise file_error(path, "declares too many pixels (decompression bomb?)") from None
    except Exception as error:  # Pillow raises many types for a bad file
        raise file_error(path, f"truncated or corrupt JPEG ({error})") from None


def _read_tiff(path: Path) -> np.ndarray:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tiff:
            if not tiff.series:
                raise file_error(path, "TIFF holds no image")
            if len(tiff.series) > 1 or (len(tiff.pages) > 1 and not tiff.series[0].is_pyramidal):
                raise file_error(
                    path, f"multi-page TIFF ({len(tiff.pages)} pages); give one image per file"
                )
            series = tiff.series[0]
            if series.levels and len(series.levels) > 1:
                series = series.levels[0]
            axes, shape = series.axes, series.shape
            rows = shape[axes.index("Y")] if "Y" in axes else 0
            columns = shape[axes.index("X")] if "X" in axes else 0
            _check_pixel_count(path, rows, columns)
            photometric = tiff.pages[0].photometric
            if photometric == tifffile.PHOTOMETRIC.SEPARATED:
                raise file_error(path, "CMYK TIFF is not supported; convert it to RGB")
            image = series.asarray()
    except tifffile.TiffFileError as error:
        raise file_error(path, f"unreadable TIFF ({error})") from None
    except (ValueError, OSError, IndexError, KeyError) as error:
        raise file_error(path, f"unreadable TIFF ({error})") from None
    return _to_rows_columns_channels(path, image, axes)


def _tiff_shape(path: Path) -> tuple[int, int]:
    """(rows, columns) of a TIFF's first image, from its header."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tiff:
            series = tiff.series[0]
            return series.shape[series.axes.index("Y")], series.shape[series.axes.index("X")]
    except (tifffile.TiffFileError, ValueError, OSError, IndexError) as error:
        raise file_error(path, f"unreadable TIFF ({error})") from None


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
