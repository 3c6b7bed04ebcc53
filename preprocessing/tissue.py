"""Where a slide holds tissue, told from a low-resolution picture of it.

Glass is grey or white, stained tissue is coloured: the saturation of each pixel, ``(max -
min) / max`` of its red, green and blue, is near 0 on glass and above about 0.1 on H&E or
DAB-stained tissue, however bright the scanner's lamp (a ratio, it does not change when the
pixel is darker). Pixels darker than `DARKEST` (black borders, pen, a label) count as
glass: their few levels make noise look saturated. The threshold between the two is Otsu's
on the slide's own saturations, kept within `SATURATION_RANGE` so that a slide of tissue
alone is not split into its paler and darker parts. Specks of dust are then dropped, and
small holes (fat, lumens, tears) filled, as QuPath's simple tissue detection and
tiatoolbox's Otsu masker do.
"""

import numpy as np
from scipy import ndimage as ndi

#: The saturation threshold is Otsu's, within these bounds: glass, even tinted or with
#: JPEG noise, stays below the lower one; pale stroma stays above the upper one.
SATURATION_RANGE = (0.06, 0.1)
#: Pixels whose brightest channel is below this fraction of the range are no tissue.
DARKEST = 0.2


def saturation(image: np.ndarray) -> np.ndarray:
    """The saturation of each pixel of an RGB image, ``(max - min) / max`` of its channels,
    as float32 in [0, 1]: 0 for grey pixels, and for those darker than `DARKEST` of the
    dtype's range (floats: 0 to 1); a grey image is 0 everywhere.

    Examples
    --------
    >>> saturation(np.array([[[240, 240, 240], [240, 120, 120], [30, 0, 0]]], np.uint8))
    array([[0. , 0.5, 0. ]], dtype=float32)
    """
    image = np.asarray(image)
    if image.ndim == 2 or image.shape[-1] < 3:
        return np.zeros(image.shape[:2], np.float32)
    rgb = image[..., :3].astype(np.float32)
    brightest, darkest = rgb.max(axis=-1), rgb.min(axis=-1)
    full = np.iinfo(image.dtype).max if image.dtype.kind in "ui" else 1.0
    bright = brightest >= DARKEST * full
    return np.divide(brightest - darkest, brightest, out=np.zeros_like(brightest), where=bright)


def tissue_mask(
    image: np.ndarray, *, smallest_piece: int = 16, largest_hole: int = 64, margin: int = 1
) -> np.ndarray:
    """Which pixels of a low-resolution picture of a slide hold tissue.

    Parameters
    ----------
    image : ndarray, shape (rows, columns, 3 or 4)
        RGB(A) of any dtype's range, such as a slide's level downsampled 32 times (a pixel
        of 8 um at 40x); transparent pixels (alpha 0) are glass.
    smallest_piece : int
        Pieces of tissue of fewer pixels are dropped as dust.
    largest_hole : int
        Holes in the tissue of up to this many pixels are filled.
    margin : int
        Pixels added around the tissue, so that no nucleus on its edge is left out.

    Returns
    -------
    ndarray of bool, shape (rows, columns)

    Examples
    --------
    >>> glass = np.full((12, 12, 3), 235, np.uint8)
    >>> glass[2:10, 2:10] = (200, 120, 170)  # a piece of tissue, 8 x 8 pixels
    >>> glass[4:7, 4:7] = 235                 # a hole in it, filled
    >>> glass[0, 11] = (120, 60, 100)         # a speck of dust, dropped
    >>> mask = tissue_mask(glass, margin=0)
    >>> int(mask.sum()), bool(mask[5, 5]), bool(mask[0, 11])  # less the piece's 4 corners
    (60, True, False)
    >>> bool(tissue_mask(np.full((9, 12, 3), 235, np.uint8)).any())  # glass alone
    False
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] not in (3, 4):
        raise ValueError(f"expected an RGB(A) image, got shape {image.shape}")
    values = saturation(image)
    if image.shape[-1] == 4:
        values[image[..., 3] == 0] = 0
    values = ndi.median_filter(values, 3, mode="nearest")  # a speck of JPEG noise is no tissue
    low, high = SATURATION_RANGE
    mask = values > float(np.clip(_otsu(values), low, high))
    mask = _without_small_pieces(mask, smallest_piece)
    mask = ~_without_small_pieces(~mask, largest_hole + 1)  # fill the small holes
    if margin:
        mask = ndi.binary_dilation(mask, np.ones((3, 3), bool), iterations=margin)
    return mask


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of values in [0, 1], on a histogram of 256 bins (0.5 when they
    are all alike)."""
    counts, edges = np.histogram(values, bins=256, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    below = np.cumsum(counts).astype(np.float64)
    above = below[-1] - below
    sums = np.cumsum(counts * centres)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_below = sums / below
        mean_above = (sums[-1] - sums) / above
        between = below * above * (mean_below - mean_above) ** 2
    between = np.nan_to_num(between[:-1])
    if not between.any():
        return 0.5
    return float(edges[1:][np.argmax(between)])


def _without_small_pieces(mask: np.ndarray, smallest: int) -> np.ndarray:
    """``mask`` less its 8-connected pieces of fewer than ``smallest`` pixels."""
    pieces, count = ndi.label(mask, np.ones((3, 3), bool))
    if not count:
        return mask
    sizes = np.bincount(pieces.ravel())
    keep = sizes >= smallest
    keep[0] = False
    return keep[pieces]
