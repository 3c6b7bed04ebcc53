"""Gaussian blur that keeps an image's dtype and channels."""

import numpy as np
from scipy import ndimage as ndi


def gaussian_blur(image: np.ndarray, sigma: float, *, truncate: float = 4.0) -> np.ndarray:
    """Blur each channel with a Gaussian of standard deviation ``sigma`` pixels.

    Edges are extended with their nearest value. Integer images are rounded and clipped
    back to their dtype; the input is never modified. The channels are blurred one at a
    time in float32 (float64 for float64 images and 32-bit or wider integers, whose values
    float32 cannot all hold), so that besides the result only one channel's working copy
    is held, not float64 copies of the whole image.

    Parameters
    ----------
    image : ndarray, shape (rows, columns) or (rows, columns, channels)
    sigma : float
        Standard deviation in pixels, >= 0 (0 returns a copy).
    truncate : float
        The kernel reaches ``truncate * sigma`` pixels from its centre.

    Returns
    -------
    ndarray of the input's shape and dtype

    Examples
    --------
    >>> impulse = np.zeros((1, 5), np.uint8); impulse[0, 2] = 100
    >>> gaussian_blur(impulse, 1.0)  # 100 * [0.054, 0.244, 0.403, 0.244, 0.054]
    array([[ 5, 24, 40, 24,  5]], dtype=uint8)
    """
    if not sigma >= 0:
        raise ValueError(f"sigma must be at least 0, got {sigma}")
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"expected (rows, columns[, channels]), got shape {image.shape}")
    if sigma == 0:
        return image.copy()
    wide = image.dtype == np.float64 or (image.dtype.kind in "iu" and image.dtype.itemsize >= 4)
    working = np.dtype(np.float64 if wide else np.float32)
    integer = image.dtype.kind in "iub"
    if integer:
        info = np.iinfo(np.uint8 if image.dtype == bool else image.dtype)
    blurred = np.empty_like(image)
    # One channel at a time, through one buffer: (rows, columns) is one channel too.
    sources = image[:, :, None] if image.ndim == 2 else image
    targets = blurred[:, :, None] if blurred.ndim == 2 else blurred
    buffer = np.empty(image.shape[:2], working)
    for channel in range(sources.shape[2]):
        source = sources[:, :, channel]
        if source.dtype == bool:
            source = source.view(np.uint8)
        elif source.dtype == np.float16:  # which scipy does not filter
            source = source.astype(np.float32)
        ndi.gaussian_filter(source, sigma, output=buffer, mode="nearest", truncate=truncate)
        if integer:
            np.rint(buffer, out=buffer)
            np.clip(buffer, info.min, info.max, out=buffer)
        targets[:, :, channel] = buffer
    return blurred
