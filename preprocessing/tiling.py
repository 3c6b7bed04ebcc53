"""Cut images into overlapping tiles that cover every pixel, and stitch tiles back.

Tiles are laid out on a regular grid whose step is ``tile - overlap``; the last row and
column are moved back so that they end exactly at the image's bottom and right edges, so
no pixel is dropped and every tile has the full size (unless the image is smaller than a
tile, in which case one tile holds the whole image).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

#: How `stitch_tiles` combines pixels that several tiles cover.
STITCH_METHODS = ("max", "mean", "blend")


@dataclass(frozen=True)
class TilePosition:
    """Where a tile lies in its image: its top-left pixel and its size."""

    row: int
    column: int
    height: int
    width: int

    @property
    def window(self) -> tuple[slice, slice]:
        """The tile's rows and columns in the image, for indexing."""
        return (
            slice(self.row, self.row + self.height),
            slice(self.column, self.column + self.width),
        )


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """First index of each tile along one axis of ``length`` pixels.

    Examples
    --------
    >>> tile_starts(10, tile=4, overlap=1)
    [0, 3, 6]
    >>> tile_starts(11, tile=4, overlap=1)   # the last tile ends at the edge
    [0, 3, 6, 7]
    >>> tile_starts(3, tile=4, overlap=1)    # shorter than a tile: one tile
    [0]
    """
    _check_tiling(tile, overlap)
    if length <= 0:
        raise ValueError(f"length must be positive, got {length}")
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile + 1, step))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


def tile_positions(shape: tuple[int, ...], tile: int, overlap: int) -> list[TilePosition]:
    """Positions of the tiles that cover an image of ``shape`` (rows, columns, ...), row by row."""
    rows, columns = shape[0], shape[1]
    height, width = min(tile, rows), min(tile, columns)
    return [
        TilePosition(row, column, height, width)
        for row in tile_starts(rows, tile, overlap)
        for column in tile_starts(columns, tile, overlap)
    ]


def split_into_tiles(
    image: np.ndarray, *, tile: int, overlap: int
) -> Iterator[tuple[TilePosition, np.ndarray]]:
    """Yield ``(position, tile)`` pairs that cover ``image``; tiles are views, not copies."""
    for position in tile_positions(image.shape, tile, overlap):
        yield position, image[position.window]


def stitch_tiles(
    tiles: Iterable[tuple[TilePosition, np.ndarray]],
    shape: tuple[int, ...],
    *,
    method: str = "blend",
    dtype=None,
    accumulate=None,
) -> np.ndarray:
    """Assemble tiles into one image of ``shape``.

    Parameters
    ----------
    tiles : iterable of (TilePosition, ndarray)
        The tiles and where they lie; together they must cover the whole image.
    shape : tuple
        ``(rows, columns)`` or ``(rows, columns, channels)`` of the result.
    method : {"max", "mean", "blend"}
        Where tiles overlap: the largest value (for predicted masks), the average, or an
        average weighted toward each tile's centre, so that seams do not show.
    dtype : numpy dtype, optional
        Of the result; by default that of the first tile. Integer results are rounded.
    accumulate : numpy dtype, optional
        What ``"mean"`` and ``"blend"`` sum the overlapping tiles in. By default float32
        for results of 8-bit integers and booleans (rounded, tiles that agree come back
        exactly, however many overlap) and float64 for the others, which gives tiles that
        agree back exactly (16-bit values summed over hundreds of overlapping tiles pass
        float32's 24 bits); float32 halves the memory where tiles differ anyway, as
        neighbouring tiles of a network's output do.

    Returns
    -------
    ndarray
        Where the tiles agree, as for tiles cut from one image, every method gives that
        image back exactly.

    Raises
    ------
    ValueError
        For an unknown method, a tile outside ``shape`` or pixels no tile covers.
    """
    if method not in STITCH_METHODS:
        raise ValueError(f"method must be one of {STITCH_METHODS}, got {method!r}")
    result = weight_sum = None
    covered = np.zeros(shape[:2], dtype=bool)
    for position, tile in tiles:
        tile = np.asarray(tile)
        _check_tile(position, tile, shape)
        if result is None:
            dtype = np.dtype(dtype or tile.dtype)
            if method == "max":
                result = np.full(shape, _lowest(dtype), dtype=dtype)
            else:
                accumulate = np.dtype(accumulate or _accumulator(dtype))
                result = np.zeros(shape, dtype=accumulate)
                weight_sum = np.zeros(shape[:2], dtype=accumulate)
        window = position.window
        if method == "max":
            np.maximum(result[window], tile.astype(dtype, copy=False), out=result[window])
        else:
            if method == "blend":
                weight = _blend_weights(tile.shape[:2]).astype(accumulate)
            else:
                weight = np.ones(tile.shape[:2], dtype=accumulate)
            expanded = weight if tile.ndim == 2 else weight[:, :, None]
            result[window] += tile * expanded
            weight_sum[window] += weight
        covered[window] = True
    if result is None:
        raise ValueError("no tiles to stitch")
    if not covered.all():
        rows, columns = np.nonzero(~covered)
        raise ValueError(
            f"the tiles leave {rows.size} pixels uncovered, "
            f"the first at row {rows[0]}, column {columns[0]}: is a tile missing?"
        )
    if method == "max":
        return result
    result /= weight_sum if result.ndim == 2 else weight_sum[:, :, None]
    del weight_sum, covered
    if np.issubdtype(dtype, np.integer):  # in place: an image at the size cap has no room
        info = np.iinfo(dtype)
        np.clip(np.rint(result, out=result), info.min, info.max, out=result)
    return result.astype(dtype, copy=False)


def _accumulator(dtype: np.dtype) -> np.dtype:
    """float32 for 8-bit integers and booleans (exact once rounded: a sum's rounding errors
    stay under half a unit below some 30,000 overlapping tiles), float64 for the others.

    Examples
    --------
    >>> [str(_accumulator(np.dtype(kind))) for kind in ("uint8", "bool", "uint16", "float32")]
    ['float32', 'float32', 'float64', 'float64']
    """
    small = dtype.kind == "b" or (np.issubdtype(dtype, np.integer) and dtype.itemsize == 1)
    return np.dtype(np.float32 if small else np.float64)


def _blend_weights(size: tuple[int, int]) -> np.ndarray:
    """A tent that is highest in the tile's centre and still positive at its border."""
    ramps = []
    for length in size:
        index = np.arange(length)
        ramps.append(np.minimum(index + 1, length - index).astype(np.float64))
    return np.outer(*ramps)


def _lowest(dtype: np.dtype):
    if np.issubdtype(dtype, np.integer):
        return np.iinfo(dtype).min
    if dtype.kind == "b":
        return False
    return -np.inf


def _check_tiling(tile: int, overlap: int) -> None:
    if tile < 1:
        raise ValueError(f"tile size must be at least 1, got {tile}")
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be at least 0 and less than the tile size, got {overlap}")


def _check_tile(position: TilePosition, tile: np.ndarray, shape: tuple[int, ...]) -> None:
    if tile.shape[:2] != (position.height, position.width):
        raise ValueError(
            f"tile at row {position.row}, column {position.column} has shape {tile.shape}, "
            f"expected {position.height} x {position.width}"
        )
    if position.row + position.height > shape[0] or position.column + position.width > shape[1]:
        raise ValueError(
            f"tile at row {position.row}, column {position.column} lies outside {shape[:2]}"
        )
    if tile.shape[2:] != tuple(shape[2:]):
        raise ValueError(f"tile channels {tile.shape[2:]} differ from the image's {shape[2:]}")
