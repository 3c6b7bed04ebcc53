"""Bring any image to the three colour channels a network reads."""

import numpy as np

#: The bit depths of camera data stored in 16-bit files, shallowest first: 8-bit data saved
#: as 16 bits, then the 10-, 12- and 14-bit sensors of microscope cameras.
CAMERA_BIT_DEPTHS = (8, 10, 12, 14, 16)


def significant_bits(image: np.ndarray, *, declared: int | None = None) -> int:
    """How many bits the values of an unsigned integer image use: its real bit depth.

    A 12-bit camera saves its images in 16-bit files whose values stay below 4096; scaled as
    16-bit data they would be 16 times too dark. Without a ``declared`` depth, that of a
    16-bit image is the shallowest of `CAMERA_BIT_DEPTHS` that holds its brightest colour
    value (alpha is not looked at): below 1024 it is 10-bit, below 4096 12-bit, and so on. A
    dark 16-bit image can therefore be taken for a shallower one; a depth the file declares
    (`cellseg.image_metadata.read_bit_depth`) avoids that.

    Parameters
    ----------
    image : ndarray, shape (rows, columns) or (rows, columns, channels)
    declared : int, optional
        The bits per sample the file declares, when it says.

    Returns
    -------
    int
        ``declared`` when given; otherwise 8 for uint8, the depth told from the values for
        uint16, and the dtype's bits for other integer types.

    Examples
    --------
    >>> significant_bits(np.array([[0, 4000]], np.uint16))
    12
    >>> significant_bits(np.array([[0, 4000]], np.uint16), declared=16)
    16
    """
    if declared is not None:
        return int(declared)
    image = np.asarray(image)
    if image.dtype != np.uint16:
        return 8 * image.dtype.itemsize
    brightest = int(_colour_channels(image).max(initial=0))
    return next(bits for bits in CAMERA_BIT_DEPTHS if brightest < 2**bits)


def to_8_bit(image: np.ndarray, bits: int) -> np.ndarray:
    """A 16-bit image of ``bits`` significant bits as uint8, channels kept (gray stays gray);
    other dtypes are returned as they are. Values above ``2**bits - 1`` become 255.

    For images read in pieces (a slide, region by region): their bit depth is decided once
    for the whole image, so that every piece is scaled alike.

    Examples
    --------
    >>> to_8_bit(np.array([[0, 2048, 4095, 9999]], np.uint16), 12)
    array([[  0, 128, 255, 255]], dtype=uint8)
    """
    image = np.asarray(image)
    if image.dtype != np.uint16:
        return image
    scaled = image.astype(np.float32)
    scaled *= 255 / (2**bits - 1)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def as_rgb(image: np.ndarray, *, bits: int | None = None) -> np.ndarray:
    """Convert an image to RGB float32 on the 0-255 scale.

    Gray images are repeated into three channels and alpha is dropped. 16-bit values are
    scaled from their real bit depth (`significant_bits`; ``bits`` when given), so the
    brightest value of 12-bit data, 4095, becomes 255 as 65535 does for 16-bit data. Float
    images are taken as 0-1 when their maximum is at most 1. The input is not modified.

    Parameters
    ----------
    image : ndarray, shape (rows, columns) or (rows, columns, channels)
        Gray, gray and alpha, RGB or RGBA, of any dtype.
    bits : int, optional
        The bit depth of a 16-bit image, as its file declares it; values above that range
        become 255.

    Examples
    --------
    >>> as_rgb(np.array([[0, 65535]], np.uint16))[0, 1]
    array([255., 255., 255.], dtype=float32)
    >>> as_rgb(np.array([[0, 4095]], np.uint16))[0, 1]  # 12-bit camera data
    array([255., 255., 255.], dtype=float32)
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected a gray, RGB or RGBA image, got shape {image.shape}")
    colour = _colour_channels(image)
    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    if image.dtype == np.uint16:
        brightest = 2 ** significant_bits(image, declared=bits) - 1
        # Multiplying first keeps float32 exact: 65535 * 255 < 2**24, and 65535 -> 255.0.
        rgb = colour.astype(np.float32)
        rgb *= 255
        rgb /= brightest
        if bits is not None:
            np.minimum(rgb, 255, out=rgb)
        return rgb
    rgb = colour.astype(np.float32)
    if image.dtype.kind == "f" and image.size and np.nanmax(colour) <= 1.0:
        rgb *= 255
    return rgb


def _colour_channels(image: np.ndarray) -> np.ndarray:
    """The gray or RGB channels of ``(rows, columns[, channels])``, without alpha: a view."""
    if image.ndim == 2:
        return image[:, :, None]
    return image[:, :, :1] if image.shape[2] in (1, 2) else image[:, :, :3]
