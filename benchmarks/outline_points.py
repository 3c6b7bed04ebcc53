"""How few points a cell's outline can have within half a pixel, and what its GeoJSON weighs.

    python benchmarks/outline_points.py [--images DIR --labels DIR]

Traces the outline of each cell drawn on the held-out MoNuSeg images (their label images;
or those of --labels) as cellseg's GeoJSON does (`cell_polygons`: marching squares, the
points where the cell's border crosses between pixel centres) and counts its points:

- every point of the traced outline;
- Douglas-Peucker within half a pixel, the outline cellseg writes;
- the fewest points of any ring of the outline's own points that stays within half a pixel
  of every point it skips (Imai and Iri's shortest cycle through the shortcuts that do):
  no simplification to the same bound that keeps points of the outline does better.

Then the outlines as GeoJSON at a slide's coordinates (the cells moved 40000 pixels right
and down, as in a slide's tissue), per 100,000 cells, plain and gzipped: the outlines
alone, and each cell's whole feature as `cellseg predict` writes it (its measurements
too). No network runs, so the figures are the same on any machine.
"""

import gzip
import json

import numpy as np
from held_out import add_pair_arguments, held_out_pairs

#: Moves the cells to a slide's coordinates, whose longer numbers weigh more.
OFFSET = (40_000, 40_000)
TOLERANCE = 0.5


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_pair_arguments(parser)
    arguments = parser.parse_args()

    from cellseg.image_io import read_image
    from cellseg.postprocessing.geojson import cell_feature, cell_polygons
    from cellseg.postprocessing.measurements import measure_cells

    pairs = held_out_pairs(arguments.images, arguments.labels)
    rings = {"traced": [], "Douglas-Peucker": [], "fewest": []}
    features = {name: [] for name in rings}
    for image_path, labels_path in pairs:
        image, labels = read_image(image_path), read_image(labels_path).astype(np.int32)
        traced = cell_polygons(labels, tolerance=0)
        simplified = cell_polygons(labels)
        measured = {cell.id: cell for cell in measure_cells(image, labels)}
        for cell, ring in traced.items():
            chosen = {
                "traced": ring,
                "Douglas-Peucker": simplified[cell],
                "fewest": fewest_points(ring, TOLERANCE),
            }
            for name, points in chosen.items():
                moved = points + OFFSET[::-1]
                rings[name].append(moved)
                features[name].append(cell_feature(measured[cell], moved))
    cells = len(rings["traced"])
    print(
        f"{cells} cells drawn on {len(pairs)} images: points per outline (without the closing "
        f"repeat) within {TOLERANCE:g} pixel, and MB of GeoJSON per 100,000 cells, plain / "
        "gzipped"
    )
    print(f"{'outline':<16} {'points':>7} {'outlines alone':>16} {'with measurements':>19}")
    for name, found in rings.items():
        points = np.mean([len(ring) - 1 for ring in found])
        alone = [{"type": "Feature", "geometry": f["geometry"]} for f in features[name]]
        sizes = [megabytes(collection, cells) for collection in (alone, features[name])]
        print(f"{name:<16} {points:>7.1f} {sizes[0]:>16} {sizes[1]:>19}")


def megabytes(features: list[dict], cells: int) -> str:
    """A FeatureCollection of ``features`` as predict writes it (compact JSON, gzip's
    level 6), plain / gzipped, in MB per 100,000 cells."""
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, separators=(",", ":")).encode()
    per = 100_000 / cells / 1e6
    return f"{len(text) * per:.1f} / {len(gzip.compress(text, 6)) * per:.2f}"


def fewest_points(ring: np.ndarray, tolerance: float) -> np.ndarray:
    """The ring of fewest points of closed ``ring`` (its first point repeated last) that
    skips only points within ``tolerance`` of the side that skips them, and has 3 sides or
    more: the shortest cycle through every shortcut that stays so (Imai and Iri), over every
    starting point.

    Examples
    --------
    >>> square = np.array([[0, 0], [1, 0.1], [2, 0], [2, 2], [1, 2], [0, 2], [0, 0]])
    >>> fewest_points(square, 0.5).tolist()
    [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0], [0.0, 0.0]]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    points = np.asarray(ring[:-1], dtype=float)
    count = len(points)
    if count <= 3:
        return np.asarray(ring, dtype=float)
    twice = np.concatenate([points, points])
    starts, ends = [np.arange(2 * count - 1)], [np.arange(1, 2 * count)]  # each side
    for skip in range(2, count):
        first = np.arange(2 * count - skip)
        a, b = twice[first], twice[first + skip]
        between = twice[first[:, None] + np.arange(1, skip)]  # (shortcuts, skipped, 2)
        kept = _distances(between, a[:, None], b[:, None]).max(axis=1) <= tolerance
        starts.append(first[kept])
        ends.append(first[kept] + skip)
    starts, ends = np.concatenate(starts), np.concatenate(ends)
    # A polygon has 3 sides or more: the graph's nodes are the points with the sides taken
    # so far (0, 1, 2, 3 or more), each shortcut one layer on.
    nodes = 2 * count
    layers = [(layer, min(layer + 1, 3)) for layer in range(4)]
    graph = coo_matrix(
        (
            np.ones(len(starts) * len(layers)),
            (
                np.concatenate([starts + source * nodes for source, _ in layers]),
                np.concatenate([ends + target * nodes for _, target in layers]),
            ),
        ),
        shape=(4 * nodes,) * 2,
    ).tocsr()
    lengths, previous = shortest_path(
        graph, unweighted=True, indices=np.arange(count), return_predecessors=True
    )
    start = int(np.argmin(lengths[np.arange(count), np.arange(count) + count + 3 * nodes]))
    path = [start + count + 3 * nodes]
    while path[-1] != start:
        path.append(int(previous[start, path[-1]]))
    path = [node % nodes for node in path]
    return twice[path[::-1]]


def _distances(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances of ``points`` to the segments from ``a`` to ``b`` (broadcast)."""
    side = b - a
    length = np.maximum(np.sum(side**2, axis=-1, keepdims=True), 1e-12)
    along = np.clip(np.sum((points - a) * side, axis=-1, keepdims=True) / length, 0, 1)
    return np.linalg.norm(points - (a + along * side), axis=-1)


if __name__ == "__main__":
    main()
