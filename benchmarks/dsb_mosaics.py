"""Data Science Bowl 2018's brightfield nuclei as extra training images for the default model.

An experiment (trained_models/default/EXPERIMENTS.md, row 20). The colour images
of ../shared/datasets/dsb2018/train (haematoxylin-stained tissue and cells at several
magnifications, 256 x 320 pixels; the grey ones are fluorescence and are left out) are each
resized so that their median nucleus has the area of MoNuSeg's at 40x (``--cell-area``, at
most 2x larger or smaller), then packed side by side into 1000 x 1000 mosaics on white,
with their labels. Among MoNuSeg's 1000 x 1000 training images the mosaics get a share of
the tiles close to their share of the pixels: training visits the images in turn, whatever
their size, so the many small images alone would get most of the tiles.

    python benchmarks/dsb_mosaics.py --output DIR [--source DIR] [--cell-area 339]

writes DIR/images/dsb-mosaic-N.png (RGB) and DIR/labels/dsb-mosaic-N.png (16-bit labels),
to be trained on beside the MoNuSeg images and outlines (`cellseg train` reads label images
and red outlines alike).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DSB = ROOT.parent / "shared" / "datasets" / "dsb2018" / "train"
WHITE = 255


def is_grey(image: np.ndarray) -> bool:
    """Whether an RGB image is grey (fluorescence stored as RGB): channels within 2 levels."""
    channels = image[..., :3].astype(np.int16)
    spread = np.abs(np.diff(channels, axis=-1)).mean(axis=(0, 1)).sum()
    return bool(spread < 2)


def to_cell_area(image: np.ndarray, labels: np.ndarray, cell_area: float, limit: float = 2.0):
    """Resize an image and its labels so that their median cell has ``cell_area`` pixels.

    The factor is at most ``limit`` either way; labels are resampled by nearest neighbour.
    """
    from skimage.transform import resize

    areas = np.bincount(labels.ravel())[1:]
    areas = areas[areas > 0]
    factor = float(np.clip(np.sqrt(cell_area / np.median(areas)), 1 / limit, limit))
    shape = (round(image.shape[0] * factor), round(image.shape[1] * factor))
    resized = resize(image, shape, order=1, preserve_range=True, anti_aliasing=factor < 1)
    resized_labels = resize(labels, shape, order=0, preserve_range=True, anti_aliasing=False)
    return np.clip(np.rint(resized), 0, 255).astype(np.uint8), resized_labels.astype(np.int32)


def pack(pieces, side: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pack (RGB image, labels) pieces into square mosaics of ``side`` pixels, on white.

    Shelf packing, tallest pieces first: each shelf is filled left to right, the next
    shelf starts below the tallest piece of the last. Each piece's cells keep their own
    ids, shifted past those of the pieces before it in the same mosaic.
    """
    mosaics, row, column, shelf = [], side, 0, 0
    for image, labels in sorted(pieces, key=lambda piece: -piece[1].shape[0]):
        height, width = labels.shape
        if height > side or width > side:
            raise ValueError(f"a piece of {height} x {width} does not fit a mosaic of {side}")
        if column + width > side:  # next shelf
            row, column, shelf = row + shelf, 0, 0
        if row + height > side:  # next mosaic
            mosaics.append(
                (np.full((side, side, 3), WHITE, np.uint8), np.zeros((side, side), np.int32))
            )
            row, column, shelf = 0, 0, 0
        mosaic, mosaic_labels = mosaics[-1]
        window = np.s_[row : row + height, column : column + width]
        mosaic[window] = image[..., :3]
        mosaic_labels[window] = np.where(labels > 0, labels + mosaic_labels.max(), 0)
        column, shelf = column + width, max(shelf, height)
    return mosaics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--source", type=Path, default=DSB, help="DSB 2018 folder (images, labels)")
    parser.add_argument("--cell-area", type=float, default=339.0, help="median nucleus, pixels")
    parser.add_argument("--side", type=int, default=1000)
    parser.add_argument("--overwrite", action="store_true")
    arguments = parser.parse_args()

    from cellseg.errors import file_error
    from cellseg.image_io import read_image, write_image

    pieces = []
    for path in sorted((arguments.source / "images").glob("*.png")):
        image = read_image(path)
        if image.ndim == 3 and not is_grey(image):
            labels = read_image(arguments.source / "labels" / path.name)
            pieces.append(to_cell_area(image[..., :3], labels, arguments.cell_area))
    if not pieces:
        raise file_error(arguments.source / "images", "no colour PNG images to pack")
    mosaics = pack(pieces, arguments.side)
    for kind in ("images", "labels"):
        (arguments.output / kind).mkdir(parents=True, exist_ok=True)
    for index, (image, labels) in enumerate(mosaics):
        name = f"dsb-mosaic-{index}.png"
        write_image(arguments.output / "images" / name, image, overwrite=arguments.overwrite)
        write_image(
            arguments.output / "labels" / name,
            labels.astype(np.uint16),
            overwrite=arguments.overwrite,
        )
    cells = sum(len(np.unique(labels)) - 1 for _, labels in mosaics)
    print(
        f"{len(pieces)} colour images, {cells} nuclei, {len(mosaics)} mosaics: {arguments.output}"
    )


if __name__ == "__main__":
    from cellseg.errors import CellsegError

    try:
        main()
    except CellsegError as error:  # a bad or existing file: one line naming it
        sys.exit(f"dsb_mosaics.py: {error}")
