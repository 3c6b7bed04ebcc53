"""Peak memory and time of `cellseg predict` on a whole-slide-sized BigTIFF.

    python benchmarks/whole_slide.py [--side 10000] [--model default] [--scale auto]

Builds a SIDE x SIDE RGB BigTIFF (tiled, JPEG-free zlib) by mirroring real H&E tissue from
../shared/datasets/monuseg (synthetic tissue without it), runs `cellseg predict MODEL SLIDE
--format tiff --scale SCALE` in a child process, and reports its peak resident memory (the
kernel's accounting of the child, as `/usr/bin/time -v` prints it), wall time, cells found,
and the size of the label TIFF. ``--scale 2`` shows the cost of a 20x slide: each region is
enlarged twice over before the network.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def tissue_block() -> np.ndarray:
    images = sorted((DATASETS / "monuseg" / "train" / "images").glob("*.png"))
    if images:
        from cellseg.image_io import read_image

        return read_image(images[0])
    from cellseg.preprocessing.synthetic import synthetic_tissue

    return synthetic_tissue((1000, 1000), seed=0)[0]


def write_slide(path: Path, side: int) -> None:
    """A side x side tiled BigTIFF written tile row by tile row (never held whole)."""
    import tifffile

    block = tissue_block()
    height, width = block.shape[:2]
    mirrored = [block, block[:, ::-1], block[::-1], block[::-1, ::-1]]

    def tiles():
        for top in range(0, side, 256):
            for left in range(0, side, 256):
                tile = np.zeros((256, 256, 3), np.uint8)
                for r in range(256):
                    row = top + r
                    if row >= side:
                        break
                    columns = np.arange(left, min(left + 256, side))
                    flip = (row // height % 2) * 2 + (columns // width % 2)
                    for kind in np.unique(flip):
                        chosen = columns[flip == kind]
                        tile[r, chosen - left] = mirrored[kind][row % height, chosen % width]
                yield tile

    tifffile.imwrite(
        path,
        tiles(),
        shape=(side, side, 3),
        dtype=np.uint8,
        tile=(256, 256),
        bigtiff=True,
        compression="zlib",
        photometric="rgb",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=10_000)
    parser.add_argument("--model", default="default")
    parser.add_argument("--scale", default="auto", help="cellseg predict's --scale (auto)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        slide = folder / "slide.tif"
        write_slide(slide, arguments.side)
        cellseg = Path(sys.executable).parent / "cellseg"
        started = time.monotonic()
        result = subprocess.run(
            [
                str(cellseg),
                "predict",
                arguments.model,
                str(slide),
                "--output",
                str(folder / "out"),
                "--format",
                "tiff",
                "--scale",
                arguments.scale,
            ],
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
        if result.returncode != 0:
            sys.exit(result.stderr)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        counts = (folder / "out" / "counts.csv").read_text().splitlines()[1].split(",")
        labels = folder / "out" / "slide_labels.tif"
        print(
            f"{arguments.side} x {arguments.side} RGB BigTIFF "
            f"({arguments.side**2 / 1e6:.0f} megapixels), model '{arguments.model}', "
            f"--scale {arguments.scale}:"
        )
        print(
            f"  peak resident memory {peak:.0f} MB, {seconds:.0f} s "
            f"({seconds / (arguments.side**2 / 1e6):.2f} s per megapixel), "
            f"{counts[1]} cells, label TIFF {labels.stat().st_size / 1e6:.0f} MB"
        )


if __name__ == "__main__":
    main()
