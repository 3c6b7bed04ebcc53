"""Random training tiles: position, scale, flips and rotations, stain and light jitter.

Brightfield stains vary from lab to lab and slide to slide; jittering each stain's optical
density (in haematoxylin / eosin / DAB space, Tellez et al. 2018) together with brightness
and contrast lets a network trained on H&E also read haematoxylin + DAB sections.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Augmentation:
    """How strongly training tiles are varied; ``strength`` 0 turns everything off.

    Attributes
    ----------
    strength : float
        Scales every range below (1 is the default, 2 twice as wide).
    scale : float
        Tiles are zoomed by a factor from 1/(1 + scale) to 1 + scale.
    stain : float
        Each stain's optical density is multiplied by 1 +- stain and shifted by +- stain / 4.
    light : float
        Brightness shifted by +- light * 255 and contrast multiplied by 1 +- light.
    pale : float
        In half the tiles haematoxylin is further thinned by up to this fraction: the pale
        nuclei of many immunohistochemistry sections carry less than half the haematoxylin
        of H&E.
    dab : float
        Chance that a tile's eosin is re-coloured, mostly or wholly, as a denser DAB brown:
        an H&E tile then looks like a haematoxylin + DAB section.
    """

    strength: float = 1.0
    scale: float = 0.25
    stain: float = 0.15
    light: float = 0.1
    pale: float = 0.7
    dab: float = 0.5


def random_tile(
    image: np.ndarray,
    target: np.ndarray,
    rng: np.random.Generator,
    *,
    tile: int,
    augmentation: Augmentation | None = None,
    continuous: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a randomly placed, zoomed, flipped and colour-jittered tile.

    Parameters
    ----------
    image : ndarray, shape (rows, columns, 3)
        RGB on the 0-255 scale (see `cellseg.preprocessing.colour.as_rgb`).
    target : ndarray, shape (rows, columns)
        Labels or classes (resampled by nearest neighbour) or, with ``continuous``, a
        map resampled linearly (a distance map).
    rng : numpy.random.Generator
        The source of randomness; the same state gives the same tile.
    tile : int
        Side of the tile returned. Images smaller than that are padded (reflected for the
        image, zeros for the target).

    Returns
    -------
    (image_tile, target_tile)
        float32 ``(tile, tile, 3)`` and ``(tile, tile)`` of the target's dtype.
    """
    from skimage.transform import resize

    augmentation = augmentation or Augmentation()
    strength = augmentation.strength
    zoom = 1.0
    if strength > 0 and augmentation.scale > 0:
        widest = np.log1p(augmentation.scale * strength)
        zoom = float(np.exp(rng.uniform(-widest, widest)))
    source = max(1, round(tile / zoom))
    image, target = _pad_to(image, target, source)
    row = int(rng.integers(0, image.shape[0] - source + 1))
    column = int(rng.integers(0, image.shape[1] - source + 1))
    image_tile = image[row : row + source, column : column + source].astype(np.float32)
    target_tile = target[row : row + source, column : column + source]
    if source != tile:
        image_tile = resize(image_tile, (tile, tile), order=1, preserve_range=True)
        target_tile = resize(
            target_tile,
            (tile, tile),
            order=1 if continuous else 0,
            preserve_range=True,
            anti_aliasing=False,
        ).astype(target.dtype)
    if strength > 0:
        turns, flip = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
        image_tile, target_tile = np.rot90(image_tile, turns), np.rot90(target_tile, turns)
        if flip:
            image_tile, target_tile = image_tile[:, ::-1], target_tile[:, ::-1]
        image_tile = jitter_colours(image_tile, rng, augmentation)
    return np.ascontiguousarray(image_tile, dtype=np.float32), np.ascontiguousarray(target_tile)


def jitter_colours(
    image: np.ndarray, rng: np.random.Generator, augmentation: Augmentation | None = None
) -> np.ndarray:
    """Vary stain densities, brightness and contrast of an RGB (0-255) image."""
    from skimage.color import hed2rgb, rgb2hed

    augmentation = augmentation or Augmentation()
    strength = augmentation.strength
    if strength <= 0:
        return image.astype(np.float32)
    stains = rgb2hed(np.clip(image / 255.0, 0, 1))
    spread = augmentation.stain * strength
    factors = rng.uniform(1 - spread, 1 + spread, size=3)
    if rng.random() < 0.5:
        factors[0] *= 1 - rng.uniform(0, min(augmentation.pale * strength, 0.9))
    shifts = rng.uniform(-spread / 4, spread / 4, size=3) * stains.max(axis=(0, 1)).clip(0.05)
    stains = stains * factors
    if rng.random() < min(augmentation.dab * strength, 1.0):
        # Eosin becomes DAB (several times denser, as membrane and cytoplasm stains are),
        # and the DAB channel's share of the nuclei's colour goes with it.
        share = rng.uniform(0.5, 1.0)
        eosin = stains[..., 1].copy()
        stains[..., 1] = eosin * (1 - share)
        stains[..., 2] = stains[..., 2] * (1 - share) + eosin * share * rng.uniform(2.0, 6.0)
    stains += shifts
    jittered = hed2rgb(stains) * 255.0
    light = augmentation.light * strength
    contrast = rng.uniform(1 - light, 1 + light)
    brightness = rng.uniform(-light, light) * 255.0
    mean = jittered.mean()
    jittered = (jittered - mean) * contrast + mean + brightness
    return np.clip(jittered, 0, 255).astype(np.float32)


def _pad_to(image: np.ndarray, target: np.ndarray, size: int):
    rows = max(0, size - image.shape[0])
    columns = max(0, size - image.shape[1])
    if rows == 0 and columns == 0:
        return image, target
    mode = "reflect" if min(image.shape[:2]) > 1 else "edge"
    image = np.pad(image, ((0, rows), (0, columns), (0, 0)), mode=mode)
    target = np.pad(target, ((0, rows), (0, columns)))
    return image, target
