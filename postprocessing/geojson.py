"""Cells as GeoJSON polygons, the format QuPath imports (File > Import objects).

Each cell is one polygon feature whose ``properties`` follow QuPath's own export: an
``objectType`` ("detection"), a ``classification`` (Positive / Negative when cells were
classified by DAB density) and ``measurements``. Coordinates are in pixels with QuPath's
convention: x to the right, y down, the corners of pixel (row r, column c) at (c, r) and
(c + 1, r + 1). Each ring follows RFC 7946's right-hand rule for an outer ring:
counterclockwise by its coordinates (its signed area positive), which is clockwise on a
screen, where y runs down. Outlines are simplified to within half a pixel of the cell's border
(Douglas-Peucker, shapely's, all of an image's cells at once): a fifth of the points, the
same cells, so a slide's hundreds of thousands of cells load in QuPath at once.
"""

import numpy as np
from scipy import ndimage as ndi

from cellseg.postprocessing.drawing import NEGATIVE_COLOUR, POSITIVE_COLOUR
from cellseg.postprocessing.measurements import DECIMALS, written

#: QuPath's colours (RGB) for its standard Positive and Negative classes.
CLASS_COLOURS = {"Positive": list(POSITIVE_COLOUR), "Negative": list(NEGATIVE_COLOUR)}


#: How far a simplified outline may stray from the cell's border, in pixels.
TOLERANCE = 0.5


def cell_polygons(labels: np.ndarray, *, tolerance: float = TOLERANCE) -> dict[int, np.ndarray]:
    """The outer outline of each cell as a closed ring of (x, y) points (pixel corners).

    Marching squares (`skimage.measure.find_contours`) on each cell's padded mask; a cell
    in several pieces keeps its largest. The ring runs along the cell's border, half a
    pixel out from the centres of its edge pixels, simplified to within ``tolerance``
    pixels of it (0: every point; a ring simplified to less than a triangle is kept whole).

    Examples
    --------
    >>> labels = np.zeros((4, 4), int); labels[1:3, 1:3] = 7
    >>> ring = cell_polygons(labels)[7]
    >>> ring.min(axis=0).tolist(), ring.max(axis=0).tolist(), (ring[0] == ring[-1]).all()
    ([1.0, 1.0], [3.0, 3.0], np.True_)
    >>> len(cell_polygons(labels, tolerance=0)[7]), len(ring)  # the sides' midpoints go
    (9, 5)
    """
    from skimage.measure import find_contours

    polygons = {}
    padded = np.pad(labels, 1)  # once: each cell's box one pixel wider, not each padded
    for cell, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        wider = tuple(slice(side.start, side.stop + 2) for side in box)
        mask = (padded[wider] == cell).astype(np.float32)
        contours = find_contours(mask, 0.5)
        if not contours:
            continue
        contour = max(contours, key=len)
        # Contours pass through pixel centres' midpoints; +0.5 turns centre coordinates
        # into corner coordinates.
        ring = contour[:, ::-1] + [box[1].start - 0.5, box[0].start - 0.5]
        if not np.array_equal(ring[0], ring[-1]):
            ring = np.concatenate([ring, ring[:1]])
        polygons[cell] = ring
    return _simplified(polygons, tolerance) if tolerance and polygons else polygons


def _simplified(rings: dict[int, np.ndarray], tolerance: float) -> dict[int, np.ndarray]:
    """Each ring simplified to within ``tolerance`` (Douglas-Peucker), all in one call:
    a thousandth of a second a cell one by one, a hundredth of that together."""
    import shapely

    lengths = [len(ring) for ring in rings.values()]
    geometries = shapely.linearrings(
        np.concatenate(list(rings.values())), indices=np.repeat(np.arange(len(rings)), lengths)
    )
    simplified = shapely.simplify(geometries, tolerance, preserve_topology=False)
    points, owner = shapely.get_coordinates(simplified, return_index=True)
    counts = np.bincount(owner, minlength=len(rings))
    pieces = np.split(points, np.cumsum(counts)[:-1])
    return {
        cell: piece if len(piece) >= 4 else ring
        for (cell, ring), piece in zip(rings.items(), pieces, strict=True)
    }


def region_rings(labels: np.ndarray, count: int, *, offset=(0, 0)) -> list[np.ndarray]:
    """The outlines of cells 1..``count`` of ``labels`` (`cell_polygons`), in the
    coordinates of an image where ``labels``' top-left pixel is at ``offset`` (row,
    column); an empty ring for a cell with none."""
    polygons = cell_polygons(labels)
    top, left = offset
    empty = np.zeros((0, 2))
    return [
        polygons[cell] + [left, top] if cell in polygons else empty for cell in range(1, count + 1)
    ]


def feature_collection(labels: np.ndarray, measurements, positive=None, *, pixel_size=None) -> dict:
    """A GeoJSON FeatureCollection of the cells, with their measurements.

    Parameters
    ----------
    labels : ndarray of int
    measurements : list of `cellseg.postprocessing.measurements.CellMeasurement`
    positive : sequence of bool, optional
        One per measurement: classifies the cells Positive or Negative.
    pixel_size : float, optional
        Micrometres per pixel: adds the area in µm² and the perimeter in µm.
    """
    features = cell_features(labels, measurements, positive, pixel_size=pixel_size)
    return {"type": "FeatureCollection", "features": features}


def cell_features(
    labels, measurements, positive=None, *, offset=(0, 0), pixel_size=None
) -> list[dict]:
    """One GeoJSON polygon feature per measured cell.

    ``labels`` may be a window of a larger image whose top-left pixel is at ``offset`` (row,
    column); the measurements' centroids are then in the whole image's coordinates already.
    """
    ids = np.unique(labels)
    ids = ids[ids > 0]
    compact = np.zeros(labels.shape, dtype=np.int32)  # ids 1..n: find_objects stays small
    inside = labels > 0
    compact[inside] = np.searchsorted(ids, labels[inside]) + 1
    polygons = {int(ids[local - 1]): ring for local, ring in cell_polygons(compact).items()}
    top, left = offset
    features = []
    for index, cell in enumerate(measurements):
        if cell.id in polygons:
            mark = None if positive is None else bool(positive[index])
            ring = polygons[cell.id] + [left, top]
            features.append(cell_feature(cell, ring, mark, pixel_size=pixel_size))
    return features


#: QuPath's names for `cellseg.postprocessing.measurements.written`'s columns, in order.
QUPATH_NAMES = {
    "id": "Label",
    "area": "Area px^2",
    "perimeter": "Perimeter px",
    "eccentricity": "Eccentricity",
    "centroid_column": "Centroid X px",
    "centroid_row": "Centroid Y px",
    "haematoxylin": "Hematoxylin OD mean",
    "dab": "DAB OD mean",
    "confidence": "Confidence",
    "area_um2": "Area µm^2",
    "perimeter_um": "Perimeter µm",
}


def cell_feature(cell, ring: np.ndarray, positive: bool | None = None, *, pixel_size=None) -> dict:
    """The GeoJSON polygon feature of one cell (a `CellMeasurement`) and its outline.

    Its measurements are ``cells.csv``'s, as rounded there (`measurements.written`), under
    QuPath's names. Centroids follow QuPath's convention, pixel (row r, column c) covering x
    from c to c + 1 and y from r to r + 1: they are half a pixel more than ``cells.csv``'s,
    which counts from the first pixel's centre. ``positive`` classifies the cell Positive or
    Negative. What QuPath assumes (no name, not locked) is left out: a slide's features are
    many.
    """
    row = written(cell, pixel_size)
    for centroid in ("centroid_row", "centroid_column"):
        row[centroid] = round(row[centroid] + 0.5, DECIMALS[centroid])
    measurements = {
        name: row[column] for column, name in QUPATH_NAMES.items() if row.get(column) is not None
    }
    properties = {"objectType": "detection", "measurements": measurements}
    if positive is not None:
        name = "Positive" if positive else "Negative"
        properties["classification"] = {"name": name, "color": CLASS_COLOURS[name]}
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [_rounded(ring)]},
        "properties": properties,
    }


def _rounded(ring) -> list[list[float]]:
    """Points to 2 decimals, whole numbers without them (``12`` for ``12.0``)."""
    return [[_number(x), _number(y)] for x, y in np.asarray(ring, dtype=float).tolist()]


def _number(value: float):
    value = round(value, 2)
    return int(value) if value.is_integer() else value
