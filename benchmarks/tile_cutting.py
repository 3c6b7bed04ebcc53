"""Milliseconds to cut one training tile, as `cellseg train` does, on one core.

Each tile is what the training data pipeline builds per sample: a random 256 x 256 window,
zoomed, turned, flipped and stain-jittered (`random_tile`, default augmentation), then its
target (`target_array`). On a 2-core CPU these run beside the network's training step and
take their share of the cores; on a GPU machine they set the pace. Images and labels are
the MoNuSeg training images (``--images``, ``--labels``), or synthetic tissue without them.
Prints the median over ``--runs`` runs of ``--tiles`` tiles, per target.

    python benchmarks/tile_cutting.py [--targets 3class hover] [--tiles 200] [--runs 3]
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "monuseg" / "train"


def load_pairs(images: Path, labels: Path, count: int = 6):
    """Up to ``count`` (RGB image, labels) pairs, or synthetic tissue when there are none."""
    from cellseg.image_io import read_image
    from cellseg.preprocessing.colour import as_rgb
    from cellseg.preprocessing.synthetic import synthetic_tissue

    paths = sorted(images.glob("*.png"))[:count] if images.is_dir() else []
    if not paths:
        return [synthetic_tissue((1000, 1000), seed=seed) for seed in range(count)], "synthetic"
    pairs = [(as_rgb(read_image(path)), read_image(labels / path.name)) for path in paths]
    return pairs, f"{len(pairs)} images of {images}"


def time_tiles(pairs, target: str, tiles: int, seed: int) -> float:
    """Milliseconds per tile over ``tiles`` tiles."""
    from cellseg.neural_network.dataset import target_array
    from cellseg.preprocessing.augmentation import Augmentation, random_tile

    augmentation = Augmentation()
    start = time.perf_counter()
    for sample in range(tiles):
        rng = np.random.default_rng([seed, sample])
        image, labels = pairs[sample % len(pairs)]
        _, target_tile = random_tile(image, labels, rng, tile=256, augmentation=augmentation)
        target_array(target_tile, target)
    return (time.perf_counter() - start) / tiles * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, default=DATA / "images")
    parser.add_argument("--labels", type=Path, default=DATA / "labels")
    parser.add_argument("--targets", nargs="+", default=["3class", "hover"])
    parser.add_argument("--tiles", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    pairs, source = load_pairs(arguments.images, arguments.labels)
    print(f"tiles of 256 x 256 from {source}, one core")
    for target in arguments.targets:
        times = [time_tiles(pairs, target, arguments.tiles, run) for run in range(arguments.runs)]
        spread = f"{min(times):.1f}-{max(times):.1f}"
        print(f"{target}: {statistics.median(times):.1f} ms per tile (runs {spread})")


if __name__ == "__main__":
    main()
