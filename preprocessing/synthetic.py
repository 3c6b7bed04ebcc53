"""Synthetic stained-tissue images with exact cell labels, for tests and demos without data."""

import numpy as np
from scipy import ndimage as ndi

# Typical colours (RGB) of brightfield stains, from the optical densities of
# scikit-image's colour deconvolution vectors.
_BACKGROUND = np.array([236, 200, 214])  # eosin-pink stroma
_HAEMATOXYLIN = np.array([78, 62, 148])  # blue-purple nuclei
_DAB = np.array([150, 96, 52])  # brown DAB-positive nuclei


def synthetic_tissue(
    shape: tuple[int, int] = (256, 256),
    *,
    seed: int = 0,
    cell_radius: tuple[float, float] = (5.0, 11.0),
    density: float = 0.25,
    positive_fraction: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Make an H&E-like image of elliptical nuclei and its instance labels.

    Nuclei may touch and overlap (a later one covers an earlier one, as in hand
    annotations), vary in size, shape, orientation and staining, and sit on textured stroma.

    Parameters
    ----------
    shape : (rows, columns)
    seed : int
        The same seed gives the same image.
    cell_radius : (smallest, largest)
        Range of the nuclei's semi-axes in pixels.
    density : float
        Roughly the fraction of the image covered by nuclei.
    positive_fraction : float
        Fraction of nuclei stained brown (DAB-positive, as in immunohistochemistry).

    Returns
    -------
    image : ndarray of uint8, shape (rows, columns, 3)
    labels : ndarray of uint16, shape (rows, columns)
        0 for background, 1..N for the nuclei.
    """
    from skimage.draw import ellipse

    rng = np.random.default_rng(seed)
    rows, columns = shape
    mean_area = np.pi * np.mean(cell_radius) ** 2 * 0.8
    count = max(1, int(density * rows * columns / mean_area))
    labels = np.zeros(shape, dtype=np.uint16)
    stain = np.zeros(shape + (3,), dtype=np.float64)
    darkness = np.zeros(shape, dtype=np.float64)
    for cell in range(1, count + 1):
        radius_row, radius_column = rng.uniform(*cell_radius, size=2)
        centre = rng.uniform(0, rows), rng.uniform(0, columns)
        pixel_rows, pixel_columns = ellipse(
            centre[0],
            centre[1],
            radius_row,
            radius_column,
            shape=shape,
            rotation=rng.uniform(0, np.pi),
        )
        if pixel_rows.size < 8:
            continue
        labels[pixel_rows, pixel_columns] = cell
        colour = _DAB if rng.random() < positive_fraction else _HAEMATOXYLIN
        stain[pixel_rows, pixel_columns] = colour * rng.uniform(0.85, 1.15)
        darkness[pixel_rows, pixel_columns] = rng.uniform(0.75, 1.0)
    labels = _renumber(labels)

    texture = ndi.gaussian_filter(rng.normal(0, 1, shape), 3) * 40
    image = _BACKGROUND + texture[:, :, None]
    inside = labels > 0
    # Chromatin texture inside the nuclei, and a soft edge from a slight blur.
    grain = 1 + 0.12 * ndi.gaussian_filter(rng.normal(0, 1, shape), 1)
    image[inside] = stain[inside] * (grain * darkness)[inside][:, None]
    image = ndi.gaussian_filter(image, (0.8, 0.8, 0)) + rng.normal(0, 4, shape + (3,))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), labels


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Number the cells that survived overlapping 1..N and split any cut in two."""
    from skimage.measure import label

    relabelled = np.zeros_like(labels)
    next_id = 1
    for cell, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        pieces = label(labels[box] == cell, connectivity=1)
        for piece in range(1, pieces.max() + 1):
            if (pieces == piece).sum() >= 8:  # drop slivers left by overlapping cells
                relabelled[box][pieces == piece] = next_id
                next_id += 1
    return relabelled


def knock_out_pixels(outline: np.ndarray, fraction: float, *, seed: int = 0) -> np.ndarray:
    """Remove a random ``fraction`` of the outline pixels, as gaps in a hand drawing.

    Returns a new mask; the same seed removes the same pixels.
    """
    rng = np.random.default_rng(seed)
    knocked = np.array(outline, dtype=bool, copy=True)
    drawn = np.flatnonzero(knocked)
    knocked.flat[rng.choice(drawn, round(fraction * drawn.size), replace=False)] = False
    return knocked
