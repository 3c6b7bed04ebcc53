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


def on_white(image: np.ndarray) -> np.ndarray:
    """An image with alpha laid on white, as viewers show it: each pixel's colour mixed with
    white by its transparency, alpha dropped (a transparent pixel is glass, not black);
    without alpha, the image as it is. White is the brightest value of the image's depth
    (`significant_bits`: 4095 for 12-bit camera data); floats are taken as 0-1, or 0-255
    past 1, and alpha as its dtype's range (0-1 for floats).

    Examples
    --------
    >>> on_white(np.array([[[10, 20, 30, 0], [10, 20, 30, 255], [0, 0, 0, 51]]], np.uint8))
    array([[[255, 255, 255],
            [ 10,  20,  30],
            [204, 204, 204]]], dtype=uint8)
    >>> on_white(np.array([[[0.0, 0.0], [0.5, 1.0]]])).tolist()  # grey and alpha
    [[1.0, 0.5]]
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] not in (2, 4):
        return image
    if image.dtype.kind in "ui" and image[..., -1].min() == np.iinfo(image.dtype).max:
        return image[..., 0] if image.shape[2] == 2 else image[..., :3]  # opaque: as it is
    colour, alpha = image[..., :-1].astype(np.float64), image[..., -1].astype(np.float64)
    if image.dtype.kind == "f":
        white = 255.0 if colour.max(initial=0) > 1 else 1.0
        opaque = 255.0 if alpha.max(initial=0) > 1 else 1.0
    else:
        white, opaque = 2.0 ** significant_bits(image) - 1, float(np.iinfo(image.dtype).max)
    weight = (alpha / opaque)[..., None]
    mixed = colour * weight + white * (1 - weight)
    if colour.shape[-1] == 1:
        mixed = mixed[..., 0]
    if image.dtype.kind == "f":
        return mixed.astype(image.dtype)
    return np.clip(np.rint(mixed), 0, white).astype(image.dtype)


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


# skimage.color.rgb2hed and hed2rgb with skimage's matrices, in float32 rather than float64
# (the same to within 1e-6, tested): they run on every training tile.
_LOG_FLOOR = np.float32(np.log(1e-6))


def stain_amounts(rgb: np.ndarray) -> np.ndarray:
    """Haematoxylin, eosin and DAB amounts of RGB intensities in 0..1 (float32), as
    `skimage.color.rgb2hed` gives them (Ruifrok & Johnston's vectors; negatives are 0)."""
    from skimage.color import hed_from_rgb

    density = np.log(np.maximum(rgb, np.float32(1e-6))) / _LOG_FLOOR
    return np.maximum(density @ hed_from_rgb.astype(np.float32), 0)


def rgb_from_stain_amounts(stains: np.ndarray) -> np.ndarray:
    """RGB intensities in 0..1 (float32) of stain amounts (`stain_amounts`' inverse, as
    `skimage.color.hed2rgb`)."""
    from skimage.color import rgb_from_hed

    return np.clip(np.exp((stains * _LOG_FLOOR) @ rgb_from_hed.astype(np.float32)), 0, 1)


#: Below this 99th percentile of eosin an image has none: a haematoxylin + DAB section (or
#: haematoxylin alone), not an H&E one.
NO_EOSIN = 0.01
#: The largest factor a counterstain is strengthened by.
MOST_COUNTERSTAIN = 4.0
#: Below this 99th percentile of haematoxylin (fewer than 1% of the pixels hold this much:
#: a grey of about 227 and lighter) an image has no counterstain to measure: glass, a blank
#: field, white with camera noise (250 +- 3 greys reaches about 0.006). Strengthening it
#: would only darken that noise into nuclei; the same bar as `NO_EOSIN`.
NO_HAEMATOXYLIN = 0.01


#: Brightfield images (stains on a light background) have a median grey of this or more,
#: even sections dense with DAB; fluorescence images (light nuclei on black) less: the Data
#: Science Bowl's fluorescence images all under 50, its brightfield ones all over 140.
BRIGHTFIELD_GREY = 64


def is_brightfield(image: np.ndarray) -> bool:
    """Whether an image is brightfield: its median grey (over every other row and column)
    is `BRIGHTFIELD_GREY` or more.

    Examples
    --------
    >>> is_brightfield(np.full((4, 4, 3), 230, np.uint8)), is_brightfield(np.zeros((4, 4)))
    (True, False)
    """
    rgb = as_rgb(np.asarray(image)[::2, ::2])
    return bool(rgb.size) and float(np.median(rgb.mean(axis=-1))) >= BRIGHTFIELD_GREY


def counterstain_reference(strengths) -> dict | None:
    """What `counterstain_factor` compares an image with: the ``lowest`` and ``median``
    haematoxylin strength (`counterstain_strength`) of a model's brightfield training
    images; None without any."""
    values = np.asarray([value for value in strengths if value > 0], dtype=float)
    if values.size == 0:
        return None
    return {"lowest": round(float(values.min()), 4), "median": round(float(np.median(values)), 4)}


def counterstain_strength(image: np.ndarray) -> tuple[float, float]:
    """How strong an image's haematoxylin and eosin are: the 99th percentile of each
    stain's amount (`stain_amounts`) over a quarter of the pixels (every other row and
    column), the haematoxylin's set by its nuclei."""
    rgb = as_rgb(np.asarray(image)[::2, ::2]) / np.float32(255)
    stains = stain_amounts(rgb).reshape(-1, 3)
    if stains.size == 0:
        return 0.0, 0.0
    haematoxylin, eosin = np.percentile(stains[:, :2], 99, axis=0)
    return float(haematoxylin), float(eosin)


def counterstain_factor(image: np.ndarray, reference: dict | None) -> float:
    """How much to strengthen the haematoxylin of an image before the network, 1 for none.

    Immunohistochemistry counterstains are often much paler than the H&E a model learned:
    a brightfield image with no eosin whose haematoxylin is paler than every training
    image's (``reference["lowest"]``, `counterstain_reference`) is brought to the training
    images' typical strength (``reference["median"]``), by at most `MOST_COUNTERSTAIN`.
    H&E images, fluorescence images, and any image within the training images' range are
    left as they are, and so is an image with too little haematoxylin to measure: one whose
    99th percentile (`counterstain_strength`) is below `NO_HAEMATOXYLIN`, that is with
    fewer than 1% of its pixels holding that much (blank glass, white with camera noise).

    Examples
    --------
    >>> reference = {"lowest": 0.08, "median": 0.15}
    >>> white = np.full((64, 64, 3), 255, np.uint8)
    >>> counterstain_factor(white, reference)  # nothing to see
    1.0
    >>> noise = np.random.default_rng(0).normal(0, 3, (64, 64, 3))
    >>> glass = np.clip(np.rint(250 + noise), 0, 255).astype(np.uint8)
    >>> counterstain_factor(glass, reference)  # near-white with noise: nothing to measure
    1.0
    >>> pale = glass.copy()
    >>> pale[16:32, 16:32] = (190, 185, 225)  # a really pale nucleus, no eosin
    >>> counterstain_factor(pale, reference)  # strengthened, by at most 4
    4.0
    """
    if not reference or not is_brightfield(image):
        return 1.0
    haematoxylin, eosin = counterstain_strength(image)
    if eosin >= NO_EOSIN or haematoxylin < NO_HAEMATOXYLIN or haematoxylin >= reference["lowest"]:
        return 1.0
    return round(min(reference["median"] / haematoxylin, MOST_COUNTERSTAIN), 3)


def with_counterstain(image: np.ndarray, factor: float) -> np.ndarray:
    """The image (as 8-bit RGB) with its haematoxylin amount multiplied by ``factor``; the
    image itself when ``factor`` is 1. Its other stains are kept."""
    if factor == 1:
        return image
    stains = stain_amounts(as_rgb(image) / np.float32(255))
    stains[..., 0] *= np.float32(factor)
    return np.clip(np.rint(rgb_from_stain_amounts(stains) * 255), 0, 255).astype(np.uint8)
