"""Random training tiles: position, scale, flips and rotations, stain and light jitter,
optionally turns by any angle, elastic bending, focus blur, camera noise and a bias towards
places where cells touch.

Brightfield stains vary from lab to lab and slide to slide; jittering each stain's optical
density (in haematoxylin / eosin / DAB space, Tellez et al. 2018) together with brightness
and contrast lets a network trained on H&E also read haematoxylin + DAB sections.
"""

from dataclasses import dataclass

import numpy as np

from cellseg.preprocessing.colour import rgb_from_stain_amounts, stain_amounts


@dataclass(frozen=True)
class Augmentation:
    """How strongly training tiles are varied; ``strength`` 0 turns everything off.

    Attributes
    ----------
    strength : float
        Scales every range below (1 is the default, 2 twice as wide); the ranges of stain,
        contrast and paling factors stop at 1 +- 0.9, so that none turns negative.
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
    blur : float
        Half the tiles are blurred, as a slide slightly out of focus, by a Gaussian of
        standard deviation up to this many pixels; 0 (the default) never.
    noise : float
        Gaussian noise of standard deviation up to this fraction of the 0-255 range is
        added to each tile; 0 (the default) none.
    rotation : float
        Tiles are turned by a random angle of up to this many degrees either way, besides
        the quarter turns and flips every tile gets (45 reaches every angle); 0 (the
        default) only quarter turns.
    elastic : float
        Tiles are bent smoothly, as the U-Net paper's training tiles were: the points of a
        coarse 5 x 5 grid over the tile move by random distances of this standard
        deviation in pixels (capped at three times it), and the pixels between them follow
        a cubic spline; 0 (the default) no bending.
    crowded : float
        Chance that a tile is centred near a pixel where two cells touch (one of the
        ``contacts`` given to `random_tile`, drawn uniformly, so that the crowded regions
        of an image are visited more) rather than placed anywhere; 0 (the default) never.
        Not scaled by ``strength``: it chooses where tiles are cut, not how they are varied.
    """

    strength: float = 1.0
    scale: float = 0.25
    stain: float = 0.15
    light: float = 0.1
    pale: float = 0.7
    dab: float = 0.5
    blur: float = 0.0
    noise: float = 0.0
    rotation: float = 0.0
    elastic: float = 0.0
    crowded: float = 0.0


#: The widest 1 +- range of a stain or contrast factor, whatever the strength: the factor
#: stays positive.
_WIDEST_FACTOR_RANGE = 0.9

#: Control points across a tile for elastic bending: one every 64 pixels of a 256-px tile.
_CONTROL_POINTS = 5


def random_tile(
    image: np.ndarray,
    target: np.ndarray,
    rng: np.random.Generator,
    *,
    tile: int,
    augmentation: Augmentation | None = None,
    continuous: bool = False,
    contacts: np.ndarray | None = None,
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
    contacts : ndarray, shape (n, 2), optional
        Pixels where cells touch (`cellseg.preprocessing.targets.contacts`): with the
        chance ``augmentation.crowded``, one of them, drawn at random, lies within a
        quarter of the tile of its centre (unless the image's edge is nearer).

    Returns
    -------
    (image_tile, target_tile)
        float32 ``(tile, tile, 3)`` and ``(tile, tile)`` of the target's dtype.
    """
    augmentation = augmentation or Augmentation()
    strength = augmentation.strength
    zoom = 1.0
    if strength > 0 and augmentation.scale > 0:
        widest = np.log1p(augmentation.scale * strength)
        zoom = float(np.exp(rng.uniform(-widest, widest)))
    focus = None
    if augmentation.crowded > 0 and contacts is not None and len(contacts):
        if rng.random() < augmentation.crowded:
            focus = contacts[int(rng.integers(0, len(contacts)))]
    if strength > 0 and (augmentation.rotation > 0 or augmentation.elastic > 0):
        image_tile, target_tile = _warped_tile(
            image,
            target,
            rng,
            tile=tile,
            zoom=zoom,
            augmentation=augmentation,
            continuous=continuous,
            focus=focus,
        )
    else:
        source = max(1, round(tile / zoom))
        image, target = _pad_to(image, target, source)
        middle = (source // 4, source - source // 4)
        row, column = _corner(rng, image.shape[:2], source, focus, middle)
        image_tile = image[row : row + source, column : column + source].astype(np.float32)
        target_tile = target[row : row + source, column : column + source]
        if source != tile:
            image_tile = resize_square(image_tile, tile, linear=True)
            target_tile = resize_square(target_tile, tile, linear=continuous)
            target_tile = target_tile.astype(target.dtype)
    if strength > 0:
        turns, flip = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
        image_tile, target_tile = np.rot90(image_tile, turns), np.rot90(target_tile, turns)
        if flip:
            image_tile, target_tile = image_tile[:, ::-1], target_tile[:, ::-1]
        image_tile = jitter_colours(image_tile, rng, augmentation)
        image_tile = _blurred_and_noisy(image_tile, rng, augmentation)
    return np.ascontiguousarray(image_tile, dtype=np.float32), np.ascontiguousarray(target_tile)


def _warped_tile(
    image: np.ndarray,
    target: np.ndarray,
    rng: np.random.Generator,
    *,
    tile: int,
    zoom: float,
    augmentation: Augmentation,
    continuous: bool,
    focus: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a tile zoomed by ``zoom``, turned by a random angle and bent by a smooth random
    displacement, as ``augmentation`` asks: each tile pixel takes the image's value where
    the warp maps it (bilinear; the target's nearest pixel, or bilinear if ``continuous``)."""
    from scipy.ndimage import map_coordinates
    from scipy.ndimage import zoom as spline_zoom

    strength = augmentation.strength
    # Tile pixel centres about the tile's centre, in image pixels, turned by the angle.
    angle = np.deg2rad(rng.uniform(-1, 1) * augmentation.rotation * strength)
    offsets = (np.arange(tile) + 0.5 - tile / 2) / zoom
    down, across = np.meshgrid(offsets, offsets, indexing="ij")
    rows = np.cos(angle) * down - np.sin(angle) * across
    columns = np.sin(angle) * down + np.cos(angle) * across
    if augmentation.elastic > 0:
        spread = augmentation.elastic * strength
        moves = rng.normal(0, spread, (2, _CONTROL_POINTS, _CONTROL_POINTS))
        moves = np.clip(moves, -3 * spread, 3 * spread)
        factor = tile / _CONTROL_POINTS
        rows = rows + spline_zoom(moves[0], factor, order=3)[:tile, :tile]
        columns = columns + spline_zoom(moves[1], factor, order=3)[:tile, :tile]
    # The smallest square window of the image that holds every pixel the tile samples.
    reach = int(np.ceil(max(np.abs(rows).max(), np.abs(columns).max()))) + 1
    window = 2 * reach
    image, target = _pad_to(image, target, window)
    # A contact in focus lies within a quarter tile of its centre either way, inside the
    # tile whatever its angle.
    spread = int(tile / 4 / zoom)
    top, left = _corner(rng, image.shape[:2], window, focus, (reach - spread, reach + spread))
    image = image[top : top + window, left : left + window].astype(np.float32)
    target = target[top : top + window, left : left + window]
    places = np.stack([rows, columns]) + (reach - 0.5)  # pixel indices in the window
    image_tile = np.stack(
        [
            map_coordinates(image[..., channel], places, order=1, mode="mirror")
            for channel in range(image.shape[-1])
        ],
        axis=-1,
    )
    target_tile = map_coordinates(target, places, order=1 if continuous else 0, mode="nearest")
    return image_tile, target_tile.astype(target.dtype)


def _corner(
    rng: np.random.Generator, shape, window: int, focus, within: tuple[int, int]
) -> tuple[int, int]:
    """The top left corner of a ``window``-sized square in an image of ``shape``: anywhere,
    or, given a ``focus`` pixel, such that it lies from ``within[0]`` to ``within[1] - 1``
    pixels below and right of the corner (as near as the image's edges allow)."""
    corner = []
    for extent, place in zip(shape, (None, None) if focus is None else focus, strict=True):
        if place is None:
            corner.append(int(rng.integers(0, extent - window + 1)))
        else:
            inside = int(rng.integers(within[0], max(within[1], within[0] + 1)))
            corner.append(int(np.clip(int(place) - inside, 0, extent - window)))
    return corner[0], corner[1]


def _blurred_and_noisy(
    image: np.ndarray, rng: np.random.Generator, augmentation: Augmentation
) -> np.ndarray:
    """Blur and add noise to a tile as ``augmentation`` asks. Off by default, when it draws
    nothing from ``rng``, so seeded tiles stay those of earlier versions."""
    strength = augmentation.strength
    if augmentation.blur > 0 and rng.random() < 0.5:
        from scipy.ndimage import gaussian_filter

        sigma = rng.uniform(0, augmentation.blur * strength)
        image = gaussian_filter(image, (sigma, sigma, 0), mode="mirror")
    if augmentation.noise > 0:
        spread = rng.uniform(0, augmentation.noise * strength) * 255
        noise = rng.standard_normal(image.shape, dtype=np.float32) * np.float32(spread)
        image = np.clip(image + noise, 0, 255)
    return image


def resize_square(array: np.ndarray, size: int, *, linear: bool) -> np.ndarray:
    """Resample the first two axes of ``array`` to ``size`` x ``size``.

    Pixel centres map onto pixel centres, as in ``skimage.transform.resize``; ``linear``
    interpolates bilinearly (in float32, mirroring at the edges as skimage's default
    does), otherwise each pixel takes its nearest source pixel's value, so labels stay
    labels. No anti-aliasing: training zooms shrink by at most 1.25x, for which skimage's
    anti-aliasing Gaussian (sigma 0.125) weighs the neighbours by e^-32. Gathering rows then
    columns takes a quarter of skimage's time on a 256-pixel RGB tile, and every training
    tile is resampled.
    """
    for axis in (0, 1):
        length = array.shape[axis]
        centres = (np.arange(size) + 0.5) * (length / size)  # in source pixels, from 0
        if not linear:
            nearest = np.minimum(centres.astype(np.intp), length - 1)
            array = np.take(array, nearest, axis=axis)
            continue
        position = np.abs(centres - 0.5)  # mirrored at the first pixel's centre
        position = (length - 1) - np.abs((length - 1) - position)  # and at the last's
        below = np.clip(np.floor(position).astype(np.intp), 0, max(length - 2, 0))
        above = np.minimum(below + 1, length - 1)
        weight = (position - below).astype(np.float32)
        weight = weight.reshape((-1,) + (1,) * (array.ndim - 1 - axis))
        array = np.asarray(array, dtype=np.float32)
        array = (
            np.take(array, below, axis=axis) * (1 - weight)
            + np.take(array, above, axis=axis) * weight
        )
    return array


def jitter_colours(
    image: np.ndarray, rng: np.random.Generator, augmentation: Augmentation | None = None
) -> np.ndarray:
    """Vary stain densities, brightness and contrast of an RGB (0-255) image."""
    augmentation = augmentation or Augmentation()
    strength = augmentation.strength
    if strength <= 0:
        return image.astype(np.float32)
    stains = stain_amounts(np.clip(image / np.float32(255), 0, 1))
    # Ranges capped below 1, as ``pale`` is: a factor below 0 would invert the stains or
    # the contrast, a nucleus lighter than its background under the same label.
    spread = min(augmentation.stain * strength, _WIDEST_FACTOR_RANGE)
    factors = rng.uniform(1 - spread, 1 + spread, size=3)
    if rng.random() < 0.5:
        factors[0] *= 1 - rng.uniform(0, min(augmentation.pale * strength, _WIDEST_FACTOR_RANGE))
    densest = np.array([stains[..., channel].max() for channel in range(3)])
    shifts = rng.uniform(-spread / 4, spread / 4, size=3) * densest.clip(0.05)
    stains = stains * factors.astype(np.float32)
    if rng.random() < min(augmentation.dab * strength, 1.0):
        # Eosin becomes DAB (several times denser, as membrane and cytoplasm stains are),
        # and the DAB channel's share of the nuclei's colour goes with it.
        share = rng.uniform(0.5, 1.0)
        eosin = stains[..., 1].copy()
        stains[..., 1] = eosin * (1 - share)
        stains[..., 2] = stains[..., 2] * (1 - share) + eosin * share * rng.uniform(2.0, 6.0)
    stains += shifts.astype(np.float32)
    jittered = rgb_from_stain_amounts(stains) * np.float32(255)
    light = min(augmentation.light * strength, _WIDEST_FACTOR_RANGE)
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
