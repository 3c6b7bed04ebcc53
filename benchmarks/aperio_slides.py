"""Aperio slides (``.svs``) drawn on demand, for `whole_slide.py`: real H&E (or synthetic)
tissue blocks as a mosaic on glass, of any size and tissue share, at 40x or 20x, written
tile by tile with their levels and the scanner's ``MPP``, never held whole. Alone, it writes
one, to try `cellseg predict` on a slide:

    python benchmarks/aperio_slides.py SLIDE.svs [--side 10000] [--tissue 0.3]
                                       [--magnification {40,20}]
"""

from pathlib import Path

import numpy as np

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
#: The glass of a slide, and how much it varies from pixel to pixel.
GLASS, GLASS_NOISE = (240, 238, 242), 3
TILE = 256


def tissue_blocks(magnification: int = 40) -> list[np.ndarray]:
    """Real H&E tiles (MoNuSeg's 1000 x 1000 training images, scanned at 40x), or synthetic
    tissue; at 20x, halved with anti-aliasing, so that their nuclei take a 20x size."""
    paths = sorted((DATASETS / "monuseg" / "train" / "images").glob("*.png"))
    if paths:
        from cellseg.image_io import read_image

        blocks = [read_image(path)[..., :3] for path in paths]
    else:
        from cellseg.preprocessing.synthetic import synthetic_tissue

        blocks = [synthetic_tissue((1000, 1000), seed=seed)[0] for seed in range(4)]
    if magnification == 40:
        return blocks
    from skimage.transform import rescale

    return [
        rescale(block, magnification / 40, channel_axis=-1, anti_aliasing=True, preserve_range=True)
        .round()
        .astype(np.uint8)
        for block in blocks
    ]


class Slide:
    """A slide drawn on demand, window by window: a mosaic of tissue blocks (each flipped
    by where it lies, so neighbours differ), on glass outside a blob of ``tissue`` of it
    (1: tissue everywhere), of ``pixel_size`` micrometres per pixel (0.25: 40x)."""

    def __init__(self, side: int, tissue: float, blocks: list[np.ndarray], pixel_size=0.25):
        self.side, self.tissue, self.blocks = side, tissue, np.stack(blocks)
        self.pixel_size = pixel_size
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
    size_of_pixel = f"AppMag = {10 / slide.pixel_size:g}|MPP = {slide.pixel_size:g}"

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
                f"{head}{side}x{side} [0,0 {side}x{side}] (256x256) JPEG/RGB Q=90|{size_of_pixel}"
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


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description="Write one Aperio slide (.svs) of real H&E on glass, as whole_slide.py does."
    )
    parser.add_argument("slide", type=Path, help="the .svs file to write")
    parser.add_argument("--side", type=int, default=10_000, help="slide side, pixels")
    parser.add_argument("--tissue", type=float, default=0.3, help="tissue share (1: covered)")
    parser.add_argument("--magnification", type=int, choices=(40, 20), default=40)
    arguments = parser.parse_args()
    magnification = arguments.magnification
    blocks = tissue_blocks(magnification)
    slide = Slide(arguments.side, arguments.tissue, blocks, 10 / magnification)
    write_slide(arguments.slide, slide)
    print(f"{arguments.slide}: {arguments.side} x {arguments.side} pixels at {magnification}x")


if __name__ == "__main__":
    main()
