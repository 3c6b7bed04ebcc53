"""Read the users' annotations: red outlines on a transparent layer, or label images.

An annotation is either an RGB(A) layer with each cell outlined in a colour (red by
default), or an instance-label image (one channel, 0 for background, one value per cell).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cellseg.errors import file_error
from cellseg.image_io import read_image

#: Largest fraction of a layer that outlines may cover (real ones: a few percent).
MOST_OUTLINE = 0.5


@dataclass(frozen=True)
class OutlineStyle:
    """How the outlines were drawn: their colour and the thresholds that pick them out."""

    channel: str = "red"
    threshold: int = 128
    alpha_threshold: int = 128


def read_outline_mask(path, style: OutlineStyle | None = None) -> np.ndarray:
    """The outline pixels of an annotation layer, as a bool mask.

    Raises
    ------
    CellsegError
        If the file is not an RGB or RGBA image, or holds no outline pixels at all.
    """
    from cellseg.preprocessing.outlines import outline_mask

    style = style or OutlineStyle()
    annotation = read_image(path)
    if annotation.ndim != 3 or annotation.shape[2] not in (3, 4):
        raise file_error(
            path,
            f"expected an RGB or RGBA annotation layer, got an image of shape {annotation.shape}",
        )
    if annotation.dtype not in (np.uint8, np.uint16):
        raise file_error(path, f"expected an 8 or 16-bit annotation layer, got {annotation.dtype}")
    mask = outline_mask(
        annotation,
        channel=style.channel,
        threshold=style.threshold,
        alpha_threshold=style.alpha_threshold,
    )
    if not mask.any():
        raise file_error(
            path,
            f"holds no {style.channel} outline pixels (threshold {style.threshold}, "
            f"opacity {style.alpha_threshold}); is it an annotation layer?",
        )
    if mask.mean() > MOST_OUTLINE:
        raise file_error(
            path,
            f"is {mask.mean():.0%} {style.channel}: outlines are thin lines on a transparent "
            "layer (a filled or flattened layer?)",
        )
    return mask


def read_annotation_labels(path, style: OutlineStyle | None = None) -> np.ndarray:
    """Instance labels from an annotation: a label image as it is, outlines converted.

    One-channel integer images are label images; RGB(A) layers are outlines.
    """
    from cellseg.preprocessing.outlines import outlines_to_labels

    path = Path(path)
    annotation = read_image(path)
    if annotation.ndim == 2:
        if annotation.dtype.kind not in "ui":
            raise file_error(path, f"a label image must hold integers, not {annotation.dtype}")
        return annotation
    return outlines_to_labels(read_outline_mask(path, style))


def check_same_size(annotation_path, annotation_shape, image_path, image_shape) -> None:
    """Raise a `CellsegError` naming the annotation if its size differs from its image's."""
    if tuple(annotation_shape[:2]) != tuple(image_shape[:2]):
        rows, columns = annotation_shape[:2]
        image_rows, image_columns = image_shape[:2]
        raise file_error(
            annotation_path,
            f"is {columns} x {rows} pixels but its image {image_path} is "
            f"{image_columns} x {image_rows}",
        )
