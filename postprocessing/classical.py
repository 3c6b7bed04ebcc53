"""The classical baseline for brightfield nuclei: stain threshold and watershed, no learning.

This is the result a trained network has to beat: colour deconvolution to find the
nuclear stain, an automatic (Otsu) threshold for the nuclei, and a distance-transform
watershed to split the ones that touch.
"""

import numpy as np
from scipy import ndimage as ndi

from cellseg.postprocessing.measurements import STAINS, stain_densities

#: A smoothed nuclear-stain optical density below this is never a nucleus, whatever Otsu
#: says: it keeps the camera noise of a blank image from becoming cells. Otsu thresholds of
#: the 30 MoNuSeg training images lie between 0.105 and 0.62; a blank 8-bit image with
#: noise of 3 gray levels reaches 0.03.
_FAINTEST_NUCLEUS = 0.05

#: The Ruifrok & Johnston DAB vector lies close to eosin's, so eosin-pink stroma reads as
#: DAB too: the median DAB density of MoNuSeg stroma is 0.4 to 6 (mostly 1.2 to 1.7) times
#: its eosin density, while DAB-stained nuclei read almost no eosin (0.0 in scikit-image's
#: immunohistochemistry sample). Only DAB beyond this many times the eosin counts as
#: nuclear stain.
_EOSIN_CROSSTALK = 2.0


def classical_segmentation(
    image: np.ndarray,
    *,
    smoothing: float = 1.0,
    min_area: int = 30,
    min_distance: int = 4,
) -> np.ndarray:
    """Segment the nuclei of a brightfield image without a network.

    1. **Nuclear stain.** Colour deconvolution (`stain_densities`) gives the haematoxylin,
       eosin and DAB optical densities of every pixel. The nuclear stain is haematoxylin
       plus the DAB in excess of twice the eosin: DAB-positive nuclei (immunohistochemistry)
       can be so brown that they read almost no haematoxylin, while in H&E images the eosin
       of the stroma reads as some DAB too, which must not count. Gray images: the optical
       density of the gray level, so nuclei must be dark.
    2. **Smoothing.** A Gaussian of standard deviation ``smoothing`` pixels evens out the
       chromatin texture.
    3. **Threshold.** Pixels above the Otsu threshold of the smoothed stain are nuclei; the
       threshold is at least 0.05 optical density, so a blank image has no nuclei.
    4. **Fill holes.** Pale nucleus centres enclosed by stain belong to the nucleus.
    5. **Remove small objects.** Connected pieces under ``min_area`` pixels are dropped.
    6. **Split touching nuclei.** The distance of each foreground pixel to the background is
       smoothed like the stain; its local maxima at least ``min_distance`` pixels apart
       (`skimage.feature.peak_local_max`) are the nucleus centres, and a watershed from them
       over the foreground splits each clump along its waists. Pieces of a split under
       ``min_area`` pixels join their neighbours.
    7. **Number** the nuclei 1..N.

    Parameters
    ----------
    image : ndarray, shape (rows, columns) or (rows, columns, 3 or 4)
        Brightfield image, H&E or haematoxylin and DAB (see `stain_densities` for the
        accepted kinds). It is not changed.
    smoothing : float
        Standard deviation, in pixels, of the Gaussian applied to the stain and to the
        distance transform; 0 for none.
    min_area : int
        Smallest nucleus kept, in pixels.
    min_distance : int
        Smallest distance, in pixels, between the centres of two touching nuclei.

    Returns
    -------
    ndarray of int32, shape (rows, columns)
        0 for background, 1..N for the nuclei.

    Examples
    --------
    >>> image = np.full((40, 60, 3), 255, np.uint8)
    >>> rows, columns = np.ogrid[:40, :60]
    >>> for centre in (20, 36):                     # two touching discs of radius 9
    ...     image[(rows - 20) ** 2 + (columns - centre) ** 2 <= 81] = (78, 62, 148)
    >>> labels = classical_segmentation(image)
    >>> int(labels.max()), bool(labels[20, 20] != labels[20, 36])
    (2, True)
    """
    from skimage.feature import peak_local_max
    from skimage.filters import threshold_otsu
    from skimage.segmentation import relabel_sequential, watershed

    if smoothing < 0:
        raise ValueError(f"smoothing must be at least 0, got {smoothing}")
    if min_distance < 1:
        raise ValueError(f"min_distance must be at least 1, got {min_distance}")
    stain = ndi.gaussian_filter(nuclear_stain(image), smoothing, mode="nearest")
    if stain.max() <= _FAINTEST_NUCLEUS:
        return np.zeros(stain.shape, dtype=np.int32)
    foreground = stain > max(threshold_otsu(stain), _FAINTEST_NUCLEUS)
    foreground = ndi.binary_fill_holes(foreground)
    foreground = _without_small_pieces(foreground, min_area)

    distance = ndi.gaussian_filter(ndi.distance_transform_edt(foreground), smoothing)
    clumps, _ = ndi.label(foreground)
    centres = peak_local_max(
        distance, min_distance=min_distance, labels=clumps, exclude_border=False
    )
    markers = np.zeros(foreground.shape, dtype=np.int32)
    markers[tuple(centres.T)] = np.arange(1, len(centres) + 1, dtype=np.int32)
    nuclei = watershed(-distance, markers, mask=foreground)
    areas = np.bincount(nuclei.ravel())
    small = areas < min_area
    small[0] = False
    if small.any():
        nuclei = watershed(-distance, np.where(small[nuclei], 0, nuclei), mask=foreground)
    nuclei = _label_the_unreached(nuclei, foreground)
    return relabel_sequential(nuclei)[0].astype(np.int32)


def nuclear_stain(image: np.ndarray) -> np.ndarray:
    """Optical density of the stains that mark nuclei: haematoxylin, and DAB not due to eosin.

    Step 1 of `classical_segmentation`: haematoxylin plus the DAB density in excess of twice
    the eosin density (eosin also reads as DAB under colour deconvolution).

    Parameters
    ----------
    image : ndarray, shape (rows, columns) or (rows, columns, 3 or 4)
        See `stain_densities` for the accepted kinds.

    Returns
    -------
    ndarray of float32, shape (rows, columns)

    Examples
    --------
    >>> pixels = np.array([[(255, 255, 255), (78, 62, 148), (150, 96, 52)]], np.uint8)
    >>> nuclear_stain(pixels).round(2)                  # white, haematoxylin, DAB
    array([[0.  , 0.78, 0.9 ]], dtype=float32)
    """
    densities = stain_densities(image, stains=STAINS)
    haematoxylin, eosin, dab = densities[:, :, 0], densities[:, :, 1], densities[:, :, 2]
    return haematoxylin + np.maximum(dab - _EOSIN_CROSSTALK * eosin, 0)


def _without_small_pieces(mask: np.ndarray, min_area: int) -> np.ndarray:
    """The mask without its (4-connected) pieces of fewer than ``min_area`` pixels."""
    pieces, _ = ndi.label(mask)
    large = np.bincount(pieces.ravel()) >= min_area
    large[0] = False
    return large[pieces]


def _label_the_unreached(nuclei: np.ndarray, foreground: np.ndarray) -> np.ndarray:
    """Give each foreground clump that no watershed marker reached an id of its own.

    A clump has no marker when its distance transform has no strict maximum, or when all
    the pieces it was split into were too small to keep.
    """
    unreached, count = ndi.label(foreground & (nuclei == 0))
    if count == 0:
        return nuclei
    return np.where(unreached > 0, unreached + nuclei.max(), nuclei)
