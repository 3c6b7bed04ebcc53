"""Enlarge images by cubic convolution, for the network's scale (20x images seen at 40x).

Pillow's bicubic filter: Keys' cubic kernel (a = -0.5; R. Keys, "Cubic convolution
interpolation for digital image processing", IEEE Trans. ASSP 29(6), 1981), four pixels an
axis when enlarging, pixel centres mapped to pixel centres, taps beyond the edge left out
and the rest weighed up to one, in 22-bit fixed point, columns first, then rows, rounded to
8 bits after each. It keeps more of a nucleus's edge than bilinear interpolation does, so an
enlarged 20x image looks more like a 40x one to the network (EXPERIMENTS.md, row 53), and
it is fast (Pillow's C). The page (``cellseg/web/scale.js``, ``resizeCubic``) repeats that
integer arithmetic, so both give the same pixels.
"""

import numpy as np


def cubic_resized(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` (rows x columns, RGB or grey, on the 0-255 scale: 8-bit, or float as
    `cellseg.preprocessing.colour.as_rgb` gives it, rounded to 8 bits first) resized to
    ``shape`` by Pillow's bicubic filter, as uint8. Meant for enlarging (shrinking, Pillow
    widens the kernel to anti-alias).

    Examples
    --------
    >>> cubic_resized(np.array([[0, 100, 200]], np.uint8), (1, 6)).tolist()
    [[0, 17, 71, 129, 183, 209]]
    """
    from PIL import Image

    if image.dtype != np.uint8:
        image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    resized = Image.fromarray(image).resize((shape[1], shape[0]), Image.Resampling.BICUBIC)
    return np.asarray(resized)
