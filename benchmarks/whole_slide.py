"""Whole slides as a scanner writes them: time, peak memory and cells of `cellseg predict`.

    python benchmarks/whole_slide.py [--side 10000] [--tissue 0.3] [--large-side 20000]
                                     [--model default] [--format tiff geojson.gz]

Builds 40x Aperio slides (``.svs``: JPEG tiles, levels 4x and 16x smaller, ``MPP = 0.25``)
of SIDE x SIDE pixels from the real H&E of ../shared/datasets/monuseg (synthetic tissue
without it), written tile by tile, never held whole: one fully covered with tissue, the
same with only a blob of TISSUE of it left on blank glass, and a LARGE_SIDE one with a
twentieth of it tissue. Each is predicted by `cellseg predict MODEL SLIDE --format ...` in
a child process, which reports its peak resident memory (the kernel's accounting of that
child, as ``/usr/bin/time -v`` prints it) and its time (the command's, and the slide's own,
as predict prints it). The tissue's bounding box is then found as one image held whole
(`TrainedModel.segment`, in a child) and its cells matched with the slide's: the same cells,
within 1%, when cutting the slide into regions and skipping its glass lose none.
"""

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
#: The glass of a slide, and how much it varies from pixel to pixel.
GLASS, GLASS_NOISE = (240, 238, 242), 3
TILE = 256


def tissue_blocks() -> list[np.ndarray]:
    """Real H&E tiles (MoNuSeg's 1000 x 1000 training images), or synthetic tissue."""
    paths = sorted((DATASETS / "monuseg" / "train" / "images").glob("*.png"))
    if paths:
        from cellseg.image_io import read_image

        return [read_image(path)[..., :3] for path in paths]
    from cellseg.preprocessing.synthetic import synthetic_tissue

    return [synthetic_tissue((1000, 1000), seed=seed)[0] for seed in range(4)]


class Slide:
    """A slide drawn on demand, window by window: a mosaic of tissue blocks (each flipped
    by where it lies, so neighbours differ), on glass outside a blob of ``tissue`` of it
    (1: tissue everywhere)."""

    def __init__(self, side: int, tissue: float, blocks: list[np.ndarray]):
        self.side, self.tissue, self.blocks = side, tissue, np.stack(blocks)
        angles = np.linspace(0, 2 * np.pi, 721)
        self.wobble = 1 + 0.08 * np.sin(3 * angles) + 0.05 * np.sin(7 * angles + 1)
        # A blob of radius R * wobble(angle) has the area pi R^2 mean(wobble^2).
        self.radius = side * np.sqrt(tissue / (np.pi * np.mean(self.wobble**2)))

    def inside(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        if self.tissue >= 1:
            return np.ones(np.broadcast_shapes(rows.shape, columns.shape), bool)
        y, x = rows - self.side / 2, columns - self.side / 2
        angle = np.mod(np.arctan2(y, x), 2 * np.pi)
        limit = self.radius * np.interp(angle, np.linspace(0, 2 * np.pi, 721), self.wobble)
        return np.hypot(y, x) <= limit

    def window(self, top: int, left: int, bottom: int, right: int, step: int = 1) -> np.ndarray:
        rows = np.arange(top, bottom, step)[:, None]
        columns = np.arange(left, right, step)[None, :]
        size = self.blocks.shape[1]
        which = (rows // size * 7 + columns // size * 3) % len(self.blocks)
        flip_rows, flip_columns = (rows // size) % 2, (columns // size) % 2
        r = np.where(flip_rows, size - 1 - rows % size, rows % size)
        c = np.where(flip_columns, size - 1 - columns % size, columns % size)
        image = self.blocks[which, r, c]
        outside = ~self.inside(rows, columns)
        if outside.any():
            noise = np.random.default_rng(top * 7919 + left).integers(
                -GLASS_NOISE, GLASS_NOISE + 1, (*outside.shape, 3)
            )
            glass = np.clip(np.array(GLASS) + noise, 0, 255).astype(np.uint8)
            image = np.where(outside[..., None], glass, image)
        return image.astype(np.uint8)

    def box(self) -> tuple[int, int, int, int]:
        """The tissue's bounding box: top, left, bottom, right."""
        if self.tissue >= 1:
            return 0, 0, self.side, self.side
        reach = int(np.ceil(self.radius * self.wobble.max()))
        middle = self.side // 2
        return (max(middle - reach, 0), max(middle - reach, 0)) + (
            min(middle + reach, self.side),
            min(middle + reach, self.side),
        )


def write_slide(path: Path, slide: Slide) -> None:
    """An Aperio-style .svs of ``slide``, tile by tile, with levels 4 and 16 times smaller."""
    import tifffile

    side, head = slide.side, "Aperio Image Library v12.0.15\r\n"

    def tiles(step: int):
        size = -(-side // step)
        for top in range(0, size, TILE):
            for left in range(0, size, TILE):
                window = slide.window(
                    top * step,
                    left * step,
                    min((top + TILE) * step, side),
                    min((left + TILE) * step, side),
                    step,
                )
                tile = np.full((TILE, TILE, 3), 255, np.uint8)
                tile[: window.shape[0], : window.shape[1]] = window
                yield tile

    options = {"tile": (TILE, TILE), "photometric": "rgb", "compression": "jpeg"}
    options["compressionargs"] = {"level": 90}
    with tifffile.TiffWriter(path, bigtiff=True) as tiff:
        for step in (1, 4, 16):
            size = -(-side // step)
            description = (
                f"{head}{side}x{side} [0,0 {side}x{side}] (256x256) JPEG/RGB Q=90|AppMag = 40"
                "|MPP = 0.25"
                if step == 1
                else f"{head}{side}x{side} -> {size}x{size} - "
            )
            tiff.write(
                tiles(step),
                shape=(size, size, 3),
                dtype=np.uint8,
                description=description,
                metadata=None,
                **options,
            )


def predict(slide: Path, output: Path, arguments) -> dict:
    """`cellseg predict` of one slide in a child process: its time, peak memory, cells."""
    cellseg = Path(sys.executable).parent / "cellseg"
    command = [str(cellseg), "predict", arguments.model, str(slide), "--output", str(output)]
    command += ["--format", *arguments.format]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - started
        out.seek(0), err.seek(0)
        said, complaints = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"whole_slide.py: {slide.name}: cellseg predict failed: {complaints}")
    own = re.search(rf"{slide.name}: (\d+) cells in (\d+) regions.*, (\d+) s", said)
    regions = re.search(r"tissue in (\d+) of (\d+) regions", said)
    zipped = output / f"{slide.stem}.geojson.gz"
    return {
        "seconds": seconds,
        "slide_seconds": int(own[3]) if own else seconds,
        "peak_gb": usage.ru_maxrss / 1024**2,
        "cells": int(own[1]) if own else 0,
        "regions": f"{regions[1]} of {regions[2]}" if regions else "?",
        "geojson_mb": len(gzip.decompress(zipped.read_bytes())) / 1e6 if zipped.is_file() else 0,
        "geojson_gz_mb": zipped.stat().st_size / 1e6 if zipped.is_file() else 0,
        "labels": output / f"{slide.stem}_labels.tif",
    }


def same_cells(slide: Path, labels: Path, box: list[int], model_name: str) -> str:
    """(Child, so that the parent's memory stays small: a child's peak counts its parent's
    at the fork.) The slide's tissue box, read from its file, found as one image held
    whole; its cells matched one to one with the slide's (`cellseg.metrics.match`, IoU
    above 0.5)."""
    import tifffile
    import zarr

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()
    from cellseg.metrics import count_objects, match
    from cellseg.neural_network.model import TrainedModel
    from cellseg.slide_io import open_slide

    top, left, bottom, right = box
    source = open_slide(slide)
    image = source.read(top, left, bottom, right)
    source.close()
    whole = TrainedModel.load(model_name).segment(image, scale=1).labels
    with tifffile.imread(labels, aszarr=True) as store:
        found = np.asarray(zarr.open(store, mode="r")["0"][top:bottom, left:right])
    count, counted = count_objects(whole), count_objects(found)
    pairs = match(whole, found).true_positives
    return (
        f"  its tissue ({right - left} x {bottom - top} pixels) as one image: {count} cells; "
        f"the slide's there {counted} ({counted / count - 1:+.2%}), {pairs / count:.1%} of "
        "them the same cells (IoU above 0.5)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=10_000, help="slide side, pixels")
    parser.add_argument("--tissue", type=float, default=0.3, help="tissue share of one slide")
    parser.add_argument(
        "--large-side", type=int, default=20_000, help="side of the mostly blank slide (0: none)"
    )
    parser.add_argument("--model", default="default")
    parser.add_argument("--format", nargs="+", default=["tiff", "geojson.gz"])
    parser.add_argument("--same-cells", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--box", nargs=4, type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.same_cells:
        print(same_cells(*arguments.same_cells, arguments.box, arguments.model))
        return
    blocks = tissue_blocks()
    side = arguments.side
    print(
        f"40x Aperio slides of {side} x {side} pixels ({side**2 / 1e6:.0f} megapixels, "
        f"0.25 um), {'MoNuSeg H&E' if len(blocks) > 4 else 'synthetic tissue'} on glass, "
        f"model '{arguments.model}', --format {' '.join(arguments.format)}, "
        f"{os.cpu_count()} CPU cores:"
    )
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        runs = {}
        for name, share, size in (
            ("covered", 1.0, side),
            ("tissue", arguments.tissue, side),
            ("large", 0.05, arguments.large_side),
        ):
            if not size:
                continue
            slide = Slide(size, share, blocks)
            path = folder / f"{name}.svs"
            write_slide(path, slide)
            runs[name] = (slide, predict(path, folder / name, arguments))
            run = runs[name][1]
            what = {
                "covered": "fully covered",
                "tissue": f"{share:.0%} tissue",
                "large": f"{size} x {size}, {share:.0%} tissue",
            }[name]
            ratio = ""
            if name == "tissue":
                share_of_time = run["slide_seconds"] / runs["covered"][1]["slide_seconds"]
                ratio = f" ({share_of_time:.2f} of fully covered's)"
            print(
                f"  {what}: tissue in {run['regions']} regions, {run['cells']} cells, "
                f"{run['slide_seconds']:.0f} s{ratio} ({run['seconds']:.0f} s with start-up), "
                f"peak {run['peak_gb']:.2f} GB"
            )
            if name == "tissue" and run["cells"]:
                child = [sys.executable, __file__, "--same-cells", str(path), str(run["labels"])]
                child += ["--box", *map(str, slide.box()), "--model", arguments.model]
                print(
                    subprocess.run(child, check=True, capture_output=True, text=True).stdout, end=""
                )
            path.unlink()
        covered = runs["covered"][1]
        if covered["cells"] and covered["geojson_mb"]:
            per = 1e5 / covered["cells"]
            print(
                f"  GeoJSON: {covered['geojson_mb'] * per:.0f} MB per 100,000 cells, "
                f"{covered['geojson_gz_mb'] * per:.1f} MB gzipped"
            )


if __name__ == "__main__":
    main()
