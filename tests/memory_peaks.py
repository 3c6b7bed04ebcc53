"""Peak memory of a piece of work, measured in a Python of its own.

tracemalloc counts whatever the process allocates while it runs. In the test process that
includes what earlier tests left to be done on first use (imports, caches), so a figure
would depend on which tests ran before it there (pytest-xdist shares the files between two
processes): a 2048-pixel slide once measured 15 MB there, 12 MB alone. Each workload below
runs once untraced on a small input, then traced, in a new Python
(`peak_in_a_fresh_python`).
"""

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parent


def peak_in_a_fresh_python(workload: str, *arguments) -> int:
    """The peak, in bytes, that ``workload(*arguments)`` (a function of this module)
    returns, run in a new Python."""
    code = f"from memory_peaks import {workload}; print({workload}(*{arguments!r}))"
    child = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(TESTS)},
    )
    assert child.returncode == 0, child.stderr
    return int(child.stdout.split()[-1])


def traced_peak(work) -> int:
    """The most memory tracemalloc counts while ``work()`` runs."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def slide_peak(side: int, folder: str) -> int:
    """Finding and writing (label TIFF, GeoJSON, tables) the cells of a side x side slide
    of dark squares on a grid, in regions of 512 with a halo of 64 (`DarkCells`)."""
    from dark_slides import DarkCells, results

    import cellseg.neural_network.whole_slide as whole_slide
    from cellseg.slide_io import ArrayRegions

    whole_slide.REGION, whole_slide.HALO = 512, 64
    Path(folder).mkdir(parents=True)

    def predicted(name: str, length: int):
        image = np.full((length, length, 3), 230, np.uint8)
        rows, columns = np.mgrid[:length, :length]
        image[(rows % 32 < 20) & (columns % 32 < 20)] = 60  # squares on a grid
        slide = DarkCells().segment_slide(ArrayRegions(image), scale=1.0, tissue_only=False)
        return lambda: results(Path(folder) / name, formats=("tiff", "geojson")).add("s", slide)

    predicted("warm", 600)()
    return traced_peak(predicted("slide", side))


def label_pyramid_peak(folder: str, side: int) -> int:
    """Writing a side x side slide's labels (uint32) as a pyramid, from bands of
    `LABEL_TILE` rows made on demand."""
    from cellseg.slide_outputs import LABEL_TILE, write_label_pyramid

    def written(name: str, length: int):
        def bands():
            for top in range(0, length, LABEL_TILE):
                band = np.arange(top * length, (top + LABEL_TILE) * length, dtype=np.uint32)
                yield band.reshape(LABEL_TILE, length) // 97

        return lambda: write_label_pyramid(Path(folder) / name, (length, length), bands())

    written("warm.tif", 2 * LABEL_TILE)()
    return traced_peak(written("labels.tif", side))


def stitch_peak(method: str, shape: tuple) -> int:
    """Stitching the 256-pixel tiles (overlap 32) of a random 8-bit image of ``shape``."""
    from cellseg.preprocessing.tiling import split_into_tiles, stitch_tiles

    def stitched(size):
        image = np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8)
        tiles = [(at, tile.copy()) for at, tile in split_into_tiles(image, tile=256, overlap=32)]
        return lambda: stitch_tiles(iter(tiles), image.shape, method=method)

    stitched((300, 300, 3))()
    return traced_peak(stitched(tuple(shape)))


def blur_peak(dtype: str, shape: tuple) -> int:
    """`gaussian_blur` (sigma 2) of a black image of ``dtype`` and ``shape``."""
    from cellseg.preprocessing.blur import gaussian_blur

    gaussian_blur(np.zeros((20, 20, *shape[2:]), dtype), 2.0)
    image = np.zeros(shape, dtype)
    return traced_peak(lambda: gaussian_blur(image, 2.0))
