"""Bring any image to the three colour channels a network reads."""

import numpy as np


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Convert an image to RGB float32 on the 0-255 scale.

    Gray images are repeated into three channels, alpha is dropped, 16-bit values are
    scaled down (65535 becomes 255) and float images are taken as 0-1 when their maximum
    is at most 1.

    Examples
    --------
    >>> as_rgb(np.array([[0, 65535]], np.uint16))[0, 1]
    array([255., 255., 255.], dtype=float32)
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected a gray, RGB or RGBA image, got shape {image.shape}")
    if image.shape[2] in (1, 2):  # gray, or gray and alpha
        image = np.repeat(image[:, :, :1], 3, axis=2)
    image = image[:, :, :3]
    if image.dtype == np.uint8:
        return image.astype(np.float32)
    if image.dtype == np.uint16:
        return (image / 257.0).astype(np.float32)
    if image.dtype.kind == "f" and image.size and np.nanmax(image) <= 1.0:
        return (image * 255.0).astype(np.float32)
    return image.astype(np.float32)
