"""Per-cell measurements for counting stained cells: position, size, shape and stain.

Brightfield stains absorb light, so the amount of stain in a pixel is read as its optical
density (OD), ``-log10(I / I_max)``: 0 for white, about 2.4 for black in an 8-bit image.
Colour deconvolution (Ruifrok & Johnston 2001) splits the optical densities of the red,
green and blue channels into the amounts of haematoxylin (nuclei, blue-purple), eosin
(cytoplasm, pink) and DAB (the brown immunohistochemistry stain). A cell counts as
DAB-positive when its mean DAB density reaches a threshold (see `positive`).

`measure_cells` gives one `CellMeasurement` per cell; ``dataclasses.asdict(cell)`` is a CSV
row whose columns, in order, are `CELL_COLUMNS`, and `written` the row as files hold it.
"""

from dataclasses import dataclass

import numpy as np

from cellseg.preprocessing.colour import significant_bits

#: The fields of a `CellMeasurement`, in the order a CSV table writes them.
CELL_COLUMNS = (
    "id",
    "centroid_row",
    "centroid_column",
    "area",
    "perimeter",
    "eccentricity",
    "haematoxylin",
    "dab",
    "confidence",
)

#: The columns a known pixel size adds: the area in µm² and the perimeter in µm.
MICRON_COLUMNS = ("area_um2", "perimeter_um")

#: The decimals each measurement is written with, in ``cells.csv``, the GeoJSON's
#: measurements and the browser page's tables alike: a thousandth of a pixel, a
#: ten-thousandth of an optical density, of a confidence and of a µm or µm². Finer digits
#: are noise (a cell's outline is good to about a pixel), and were nearly half of a
#: slide's ``cells.csv``. The DAB density and the confidence are rounded as they are measured
#: (`measure_cells`): positivity and the count's interval are decided on the very numbers
#: the files hold, so a threshold applied to a file decides as cellseg did.
DECIMALS = {
    "centroid_row": 3,
    "centroid_column": 3,
    "perimeter": 3,
    "eccentricity": 4,
    "haematoxylin": 4,
    "dab": 4,
    "confidence": 4,
    "area_um2": 4,
    "perimeter_um": 4,
}

#: The stains that colour deconvolution separates, in scikit-image's `rgb2hed` order.
STAINS = ("haematoxylin", "eosin", "dab")

#: Optical density of the darkest level counted: intensities are clipped to at least
#: 1/255 of the range, so a black 8-bit pixel and a black 16-bit pixel both read 2.41.
_DARKEST = 1 / 255

#: scikit-image's `rgb2hed` divides the log10 optical density by ``-log10(1e-6) = 6``
#: (its normalisation of the log); multiplying by this gives densities in log10 units, the
#: same as the grayscale path's.
_RGB2HED_SCALE = 6.0


@dataclass(frozen=True)
class CellMeasurement:
    """Measurements of one cell; the fields are the columns of `CELL_COLUMNS`.

    Attributes
    ----------
    id : int
        The cell's label.
    centroid_row, centroid_column : float
        Mean row and column of the cell's pixels.
    area : int
        Pixels in the cell.
    perimeter : float
        Length of the cell's outline in pixels (scikit-image's ``regionprops`` perimeter,
        4-connected outline, diagonal steps weighted).
    eccentricity : float
        Of the ellipse with the cell's second moments: 0 for a disc, towards 1 for a line.
    haematoxylin, dab : float
        Mean optical density of each stain over the cell's pixels (see `stain_densities`),
        the DAB's to its `DECIMALS`.
    confidence : float or None
        The probability that the cell is a real nucleus, from the model that found it
        (`cellseg.postprocessing.confidence`), to its `DECIMALS`; None when not known.
    """

    id: int
    centroid_row: float
    centroid_column: float
    area: int
    perimeter: float
    eccentricity: float
    haematoxylin: float
    dab: float
    confidence: float | None = None

    def row(self) -> list:
        """The cell's `CELL_COLUMNS`, in order."""
        return [getattr(self, column) for column in CELL_COLUMNS]

    @classmethod
    def from_row(cls, row, first_id: int = 0) -> "CellMeasurement":
        """The cell of a row of `CELL_COLUMNS` numbers (a slide's table of them: NaN for no
        confidence), its id ``first_id`` more (numbered across a slide)."""
        values = dict(zip(CELL_COLUMNS, row, strict=True))
        values["id"], values["area"] = int(values["id"]) + first_id, int(values["area"])
        if values["confidence"] != values["confidence"]:
            values["confidence"] = None
        return cls(**values)


def stain_densities(
    image: np.ndarray, *, stains: tuple[str, ...] = ("haematoxylin", "dab")
) -> np.ndarray:
    """Optical densities of the stains in every pixel, by colour deconvolution.

    Colour images are deconvolved with scikit-image's `rgb2hed` (the Ruifrok & Johnston
    haematoxylin / eosin / DAB vectors). A density is the amount of stain that explains the
    pixel's colour, in log10 optical-density units (``-log10(I / I_max)``, 0 for white);
    negative amounts (a colour that the stain cannot explain) are 0. A grayscale image has
    no colour to deconvolve: its haematoxylin density is the optical density of the gray
    level, and its eosin and DAB densities are 0.

    Parameters
    ----------
    image : ndarray, shape (rows, columns) or (rows, columns, 3 or 4)
        Gray, RGB or RGBA (alpha is ignored); uint8, uint16 (scaled by its real bit depth,
        `cellseg.preprocessing.colour.significant_bits`, so the same picture gives the same
        densities in 8, 12 and 16 bits) or float in 0..1.
        Intensities are clipped to at least 1/255 of the range, so black reads 2.41.
    stains : tuple of {"haematoxylin", "eosin", "dab"}
        The stains to return, in this order.

    Returns
    -------
    ndarray of float32, shape (rows, columns, len(stains))
        By default the haematoxylin density in ``[..., 0]`` and the DAB density in
        ``[..., 1]``.

    Examples
    --------
    >>> densities = stain_densities(np.array([[255, 25]], np.uint8))  # gray: white, dark
    >>> densities[0, :, 0].round(3)
    array([0.   , 1.009], dtype=float32)
    >>> densities[0, :, 1]
    array([0., 0.], dtype=float32)
    """
    from skimage.color import rgb2hed

    if isinstance(stains, str):
        stains = (stains,)
    unknown = [stain for stain in stains if stain not in STAINS]
    if unknown:
        raise ValueError(f"unknown stains {unknown}; choose from {list(STAINS)}")
    channels = [STAINS.index(stain) for stain in stains]
    intensities = _as_unit_range(image)
    if intensities.ndim == 3 and intensities.shape[2] in (1, 2):  # gray, or gray and alpha
        intensities = intensities[:, :, 0]
    if intensities.ndim == 2:
        densities = np.zeros(intensities.shape + (len(STAINS),), dtype=np.float32)
        densities[:, :, 0] = np.log10(1.0 / np.maximum(intensities, _DARKEST))
        return densities[:, :, channels]
    if intensities.ndim != 3 or intensities.shape[2] not in (3, 4):
        raise ValueError(f"expected a gray, RGB or RGBA image, got shape {np.shape(image)}")
    rgb = np.maximum(intensities[:, :, :3], _DARKEST)
    densities = rgb2hed(rgb, channel_axis=-1) * _RGB2HED_SCALE
    return densities[:, :, channels].astype(np.float32)


def _as_unit_range(image: np.ndarray) -> np.ndarray:
    """The image as float64 intensities in 0..1 (a new array: the input is never changed):
    8 and 16-bit images by their real depth (`significant_bits`), other integers by their
    brightest value (negative values are 0), floats as 0..1, or 0..255 past 1 (as the
    network reads them, `cellseg.preprocessing.colour.as_rgb`)."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image / 255.0
    if image.dtype == np.uint16:  # by its real depth: 12-bit camera data ends at 4095
        return image / float(2 ** significant_bits(image) - 1)
    if image.dtype.kind not in "iuf":
        raise ValueError(f"expected an image of numbers, got {image.dtype}")
    values = image.astype(np.float64)
    if image.dtype.kind in "iu":
        return np.clip(values / max(float(values.max(initial=0)), 1.0), 0.0, 1.0)
    brightest = float(np.nanmax(values)) if values.size else 0.0
    return np.clip(values / (255.0 if brightest > 1 else 1.0), 0.0, 1.0)


def measure_cells(
    image: np.ndarray, labels: np.ndarray, confidence: np.ndarray | None = None
) -> list[CellMeasurement]:
    """Measure every cell of a label image: position, size, shape and mean stain densities.

    Parameters
    ----------
    image : ndarray, shape (rows, columns) or (rows, columns, 3 or 4)
        The stained image (see `stain_densities` for the accepted kinds).
    labels : ndarray of int, shape (rows, columns)
        0 for background, one positive id per cell (ids need not be consecutive).
    confidence : ndarray, optional
        Each cell's confidence, cell ``id`` at ``confidence[id - 1]``.

    Returns
    -------
    list of CellMeasurement
        One per non-zero label, in increasing id order; empty when there are no cells.

    Examples
    --------
    >>> image = np.full((4, 5), 255, np.uint8)
    >>> labels = np.zeros((4, 5), np.int32)
    >>> labels[1:3, 1:4] = 7                      # a 2 x 3 cell
    >>> cell, = measure_cells(image, labels)
    >>> cell.id, cell.area, cell.centroid_row, cell.centroid_column, cell.perimeter
    (7, 6, 1.5, 2.0, 6.0)
    """
    from skimage.measure import regionprops_table

    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "iu":
        raise ValueError(f"expected 2-D integer labels, got shape {labels.shape} of {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError("labels must not be negative")
    image = np.asarray(image)
    if image.shape[:2] != labels.shape:
        raise ValueError(
            f"image {image.shape[:2]} and labels {labels.shape} differ in rows and columns"
        )
    inside = labels > 0
    ids, cell_of_pixel = np.unique(labels[inside], return_inverse=True)
    area, (row, column), eccentricity = _moments(np.nonzero(inside), cell_of_pixel, len(ids))
    perimeter = regionprops_table(labels, properties=("perimeter",))["perimeter"]
    haematoxylin, dab = _mean_densities(image, inside, cell_of_pixel, area)
    sure = (
        [None] * len(ids)
        if confidence is None
        else [
            round(float(value), DECIMALS["confidence"]) for value in np.asarray(confidence)[ids - 1]
        ]
    )
    columns = zip(
        ids, row, column, area, perimeter, eccentricity, haematoxylin, dab, sure, strict=True
    )
    # np.unique and regionprops both give the cells in increasing label order.
    return [
        CellMeasurement(
            id=int(cell),
            centroid_row=float(row),
            centroid_column=float(column),
            area=int(area),
            perimeter=float(perimeter),
            eccentricity=float(eccentricity),
            haematoxylin=float(haematoxylin),
            dab=round(float(dab), DECIMALS["dab"]),
            confidence=sure,
        )
        for cell, row, column, area, perimeter, eccentricity, haematoxylin, dab, sure in columns
    ]


def written(cell: CellMeasurement, pixel_size: float | None = None) -> dict:
    """A cell's measurements as files hold them: `CELL_COLUMNS`, and `MICRON_COLUMNS` with
    a ``pixel_size`` (µm per pixel), each rounded to its `DECIMALS`.

    Examples
    --------
    >>> cell = CellMeasurement(3, 10.123456, 4.5, 16, 14.0710678, 0.123456, 0.5, 0.25, None)
    >>> row = written(cell, pixel_size=0.25)
    >>> row["centroid_row"], row["perimeter"], row["eccentricity"], row["confidence"]
    (10.123, 14.071, 0.1235, None)
    >>> row["area_um2"], row["perimeter_um"]
    (1.0, 3.5178)
    """
    row = vars(cell).copy()  # vars: asdict deep-copies, a second per 60,000 cells
    if pixel_size:
        row["area_um2"] = cell.area * pixel_size**2
        row["perimeter_um"] = cell.perimeter * pixel_size
    for column, decimals in DECIMALS.items():
        if row.get(column) is not None:
            row[column] = round(row[column], decimals)
    return row


def _moments(coordinates, cell_of_pixel: np.ndarray, cells: int):
    """Area, centroid and eccentricity of each cell, from the coordinates of its pixels.

    The eccentricity is that of the ellipse with the cell's second central moments, as
    scikit-image's ``regionprops`` defines it, computed for all cells at once: per cell,
    regionprops spends more time on it than on every other measurement together.
    """
    area = np.bincount(cell_of_pixel, minlength=cells)

    def mean(values):
        return np.bincount(cell_of_pixel, values, cells) / area

    rows, columns = coordinates
    centroid_row, centroid_column = mean(rows), mean(columns)
    down, across = rows - centroid_row[cell_of_pixel], columns - centroid_column[cell_of_pixel]
    row_variance, column_variance = mean(down * down), mean(across * across)
    covariance = mean(down * across)
    # The eigenvalues of the covariance matrix: a quarter of the ellipse's squared half-axes.
    middle = (row_variance + column_variance) / 2
    spread = np.hypot((row_variance - column_variance) / 2, covariance)
    largest, smallest = middle + spread, np.clip(middle - spread, 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        eccentricity = np.where(largest > 0, np.sqrt(np.clip(1 - smallest / largest, 0, 1)), 0.0)
    return area, (centroid_row, centroid_column), eccentricity


def _mean_densities(image: np.ndarray, inside: np.ndarray, cell_of_pixel: np.ndarray, area):
    """Mean haematoxylin and DAB densities of each cell, deconvolving only the cells'
    pixels: colour deconvolution is the slowest part of measuring a photo."""
    densities = stain_densities(image[inside][:, None])[:, 0].astype(np.float64)
    return [
        np.bincount(cell_of_pixel, weights=densities[:, stain], minlength=len(area)) / area
        for stain in (0, 1)
    ]
