"""Cells as GeoJSON polygons, the format QuPath imports (File > Import objects).

Each cell is one polygon feature whose ``properties`` follow QuPath's own export: an
``objectType`` ("detection"), a ``classification`` (Positive / Negative when cells were
classified by DAB density) and ``measurements``. Coordinates are in pixels with QuPath's
convention: x to the right, y down, the corners of pixel (row r, column c) at (c, r) and
(c + 1, r + 1).
"""

import numpy as np
from scipy import ndimage as ndi

#: QuPath's colours (RGB) for its standard Positive and Negative classes.
CLASS_COLOURS = {"Positive": [200, 50, 50], "Negative": [112, 112, 225]}


def cell_polygons(labels: np.ndarray) -> dict[int, list[list[float]]]:
    """The outer outline of each cell as a closed ring of [x, y] points (pixel corners).

    Marching squares (`skimage.measure.find_contours`) on each cell's padded mask; a cell
    in several pieces keeps its largest. The ring runs along the cell's border, half a
    pixel out from the centres of its edge pixels.

    Examples
    --------
    >>> labels = np.zeros((4, 4), int); labels[1:3, 1:3] = 7
    >>> ring = cell_polygons(labels)[7]
    >>> min(x for x, y in ring), max(x for x, y in ring), ring[0] == ring[-1]
    (1.0, 3.0, True)
    """
    from skimage.measure import find_contours

    polygons = {}
    for cell, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        mask = np.pad(labels[box] == cell, 1).astype(np.float32)
        contours = find_contours(mask, 0.5)
        if not contours:
            continue
        contour = max(contours, key=len)
        top, left = box[0].start - 1, box[1].start - 1
        # Contours pass through pixel centres' midpoints; +0.5 turns centre coordinates
        # into corner coordinates.
        ring = [[float(column + left + 0.5), float(row + top + 0.5)] for row, column in contour]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        polygons[cell] = _rounded(ring)
    return polygons


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
    Centroids follow QuPath's convention, pixel (row r, column c) covering x from c to c + 1
    and y from r to r + 1: they are half a pixel more than ``cells.csv``'s, which counts
    from the first pixel's centre.
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
        if cell.id not in polygons:
            continue
        ring = [[x + left, y + top] for x, y in polygons[cell.id]]
        properties = {
            "objectType": "detection",
            "name": f"cell {cell.id}",
            "isLocked": False,
            "measurements": {
                "Label": cell.id,
                "Area px^2": cell.area,
                "Perimeter px": round(cell.perimeter, 3),
                "Eccentricity": round(cell.eccentricity, 4),
                "Centroid X px": round(cell.centroid_column + 0.5, 3),
                "Centroid Y px": round(cell.centroid_row + 0.5, 3),
                "Hematoxylin OD mean": round(cell.haematoxylin, 4),
                "DAB OD mean": round(cell.dab, 4),
            },
        }
        if cell.confidence is not None:
            properties["measurements"]["Confidence"] = cell.confidence
        if pixel_size:
            properties["measurements"]["Area µm^2"] = round(cell.area * pixel_size**2, 3)
            properties["measurements"]["Perimeter µm"] = round(cell.perimeter * pixel_size, 3)
        if positive is not None:
            name = "Positive" if positive[index] else "Negative"
            properties["classification"] = {"name": name, "color": CLASS_COLOURS[name]}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": properties,
            }
        )
    return features


def _rounded(ring):
    return [[round(x, 2), round(y, 2)] for x, y in ring]
