"""Which regions between one-pixel outlines are cells, and which are background.

Each cell's outline has its interior on one side and, where the cell does not touch
another, background on the other; two touching cells are separated by a double wall, one
line each. So regions linked by a single outline pixel differ in kind, and colouring the
regions in two colours along those links separates cells from background. Links are
taken by weight (the number of outline pixels shared), so a few odd links (a cell one
pixel thin, a pocket of background between cells) cannot overturn the rest. Which colour
is background is then told by holes: background surrounds cells, cells rarely surround
anything.
"""

import numpy as np
from scipy import ndimage as ndi

_EIGHT = np.ones((3, 3), dtype=bool)
_FOUR = ndi.generate_binary_structure(2, 1)


def cell_regions(regions: np.ndarray, count: int, outline: np.ndarray) -> np.ndarray:
    """Decide which regions between the outlines are cell interiors.

    Parameters
    ----------
    regions : ndarray of int
        Region id (1..count) of every pixel off the outline, 0 on it.
    count : int
        Number of regions.
    outline : ndarray of bool
        The one-pixel outline that separates the regions.

    Returns
    -------
    ndarray of bool, shape (count + 1,)
        True for the cell interiors, indexed by region id (index 0 unused).
    """
    pairs, weights = _outline_neighbours(regions, outline)
    alike_pairs, alike_weights = _double_wall_neighbours(regions, outline)
    root, parity = _two_colour(count, pairs, weights, alike_pairs, alike_weights)
    area = np.bincount(regions.ravel(), minlength=count + 1)
    beside_outline = np.zeros(count + 1, dtype=bool)
    beside_outline[ndi.grey_dilation(regions, footprint=_FOUR)[outline]] = True
    boxes = ndi.find_objects(regions, max_label=count)

    is_cell = np.zeros(count + 1, dtype=bool)
    ids = np.arange(1, count + 1)
    order = np.argsort(root[1:], kind="stable")
    groups = np.split(ids[order], np.flatnonzero(np.diff(root[1:][order])) + 1)
    for members in groups:
        if members.size == 1:
            # No single line links it to another region: only double walls (touching
            # cells) and the image edge bound it, so it is a cell. Unless it surrounds
            # something (background around cells too small to have an inside) or touches
            # no outline at all (a picture without outlines).
            region = members[0]
            box = boxes[region - 1]
            alone = box is not None and _hole_count(regions[box] == region) == 0
            is_cell[region] = beside_outline[region] and alone
            continue
        colour_0, colour_1 = members[parity[members] == 0], members[parity[members] == 1]
        holes_0 = _hole_count(np.isin(regions, colour_0))
        holes_1 = _hole_count(np.isin(regions, colour_1))
        if holes_0 != holes_1:
            background_is_0 = holes_0 > holes_1
        else:
            background_is_0 = area[colour_0].max(initial=0) > area[colour_1].max(initial=0)
        is_cell[colour_1 if background_is_0 else colour_0] = True
    return is_cell


def _outline_neighbours(regions: np.ndarray, outline: np.ndarray):
    """Pairs of regions on opposite sides of an outline pixel, with pixel counts.

    Only opposite sides (above and below, left and right) count: a line separates what
    lies across it, while a corner pixel merely touches what lies around it.
    """
    padded = np.pad(regions, 1)
    rows, columns = np.nonzero(outline)
    rows, columns = rows + 1, columns + 1
    pixel = np.arange(len(rows))
    found = []
    for first, second in (
        (padded[rows - 1, columns], padded[rows + 1, columns]),
        (padded[rows, columns - 1], padded[rows, columns + 1]),
    ):
        keep = (first > 0) & (second > 0) & (first != second)
        low, high = np.minimum(first, second), np.maximum(first, second)
        found.append(np.stack([low[keep], high[keep], pixel[keep]], axis=1))
    triples = np.unique(np.concatenate(found), axis=0)  # each pixel counts once per pair
    if len(triples) == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.unique(triples[:, :2], axis=0, return_counts=True)


def _double_wall_neighbours(regions: np.ndarray, outline: np.ndarray):
    """Pairs of regions on either side of a wall exactly two outline pixels thick, with counts.

    Each cell brings its own line, so where two cells touch their lines form such a wall.
    """
    found = []
    for grid, lines in ((regions, outline), (regions.T, outline.T)):
        first, second = grid[:, :-3], grid[:, 3:]
        wall = lines[:, 1:-2] & lines[:, 2:-1]
        keep = wall & (first > 0) & (second > 0) & (first != second)
        found.append(
            np.stack([np.minimum(first, second)[keep], np.maximum(first, second)[keep]], 1)
        )
    found = np.concatenate(found)
    if len(found) == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.unique(found, axis=0, return_counts=True)


def _two_colour(count, pairs, weights, alike_pairs, alike_weights):
    """Give every region a colour so that strongly-linked regions differ.

    Union-find with parity, taking the links by decreasing weight and skipping any that
    contradicts the colours already fixed (a greedy maximum-agreement colouring). Then
    regions across a double wall, both cells, join their groups with the same colour, where
    each already has a single-line link (a drawing in two-pixel lines is all double walls).
    Returns each region's group root and colour (0 or 1).
    """
    parent = np.arange(count + 1)
    parity = np.zeros(count + 1, dtype=np.int64)

    def find(node: int) -> tuple[int, int]:
        path = []
        while parent[node] != node:
            path.append(node)
            node = parent[node]
        root, colour = node, 0
        for visited in reversed(path):  # compress, fixing each node's colour relative to root
            colour ^= parity[visited]
            parity[visited] = colour
            parent[visited] = root
        return root, (parity[path[0]] if path else 0)

    def join(a: int, b: int, differ: int) -> None:
        root_a, colour_a = find(a)
        root_b, colour_b = find(b)
        if root_a != root_b:
            parent[root_b] = root_a
            parity[root_b] = colour_a ^ colour_b ^ differ

    for index in np.argsort(-weights, kind="stable"):
        join(*pairs[index], differ=1)
    linked = np.zeros(count + 1, dtype=bool)
    linked[pairs.ravel()] = True
    for index in np.argsort(-alike_weights, kind="stable"):
        a, b = alike_pairs[index]
        if linked[a] and linked[b]:
            join(a, b, differ=0)
    roots = np.zeros(count + 1, dtype=np.int64)
    colours = np.zeros(count + 1, dtype=np.int64)
    for node in range(1, count + 1):
        roots[node], colours[node] = find(node)
    _improve_colouring(colours, pairs, weights)
    return roots, colours


def _improve_colouring(colours: np.ndarray, pairs: np.ndarray, weights: np.ndarray) -> None:
    """Flip, in place, each region linked more strongly to its own colour than to the other.

    The greedy colouring decides weakly-linked regions (a background pocket of a few
    pixels between cells) by the order of equal weights; this local search settles them
    by all their links. Each flip strictly increases the agreement, so it ends.
    """
    if len(pairs) == 0:
        return
    neighbours: dict[int, list[tuple[int, int]]] = {}
    for (a, b), weight in zip(pairs.tolist(), weights.tolist(), strict=True):
        neighbours.setdefault(a, []).append((b, weight))
        neighbours.setdefault(b, []).append((a, weight))

    def disagreement(node: int) -> int:
        return sum(w if colours[other] == colours[node] else -w for other, w in neighbours[node])

    pending = set(neighbours)
    while pending:
        node = pending.pop()
        if disagreement(node) > 0:
            colours[node] ^= 1
            pending.update(other for other, _ in neighbours[node])


def _hole_count(mask: np.ndarray) -> int:
    """Number of holes in ``mask``: pieces of the rest that do not reach the border."""
    _rest, pieces = ndi.label(np.pad(~mask, 1, constant_values=True), structure=_EIGHT)
    return pieces - 1
