"""Gaussian blur that keeps an image's dtype and channels."""

import numpy as np
from scipy import ndimage as ndi


def gaussian_blur(image: np.ndarray, sigma: float, *, truncate: float = 4.0) -> np.ndarray:
    """Blur each channel with a Gaussian of standard deviation ``sigma`` pixels.

    Edges are extended with their nearest value. Integer images are rounded and clipped
    back to their dtype; the input is never modified.

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
    if sigma < 0:
        raise ValueError(f"sigma must be at least 0, got {sigma}")
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"expected (rows, columns[, channels]), got shape {image.shape}")
    sigmas = (sigma, sigma) + ((0,) if image.ndim == 3 else ())
    blurred = ndi.gaussian_filter(
        image.astype(np.float64), sigmas, mode="nearest", truncate=truncate
    )
    if np.issubdtype(image.dtype, np.integer) or image.dtype == bool:
        info = np.iinfo(image.dtype) if image.dtype != bool else np.iinfo(np.uint8)
        blurred = np.clip(np.rint(blurred), info.min, info.max)
    return blurred.astype(image.dtype)
