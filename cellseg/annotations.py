"""Read the users' annotations: red outlines on a transparent layer, or label images.

An annotation is either an RGB(A) layer with each cell outlined in a colour (red by
default), or an instance-label image (one channel, 0 for background, one value per cell);
a binary mask (one value on every cell) is read as one cell per separate region.
Every annotation is read by `read_annotation`, and paired with its image by name here
(`name_key`).
"""

import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cellseg.batch import counted, image_files, image_stem, named
from cellseg.errors import CellsegError, CellsegWarning, file_error
from cellseg.image_io import JPEG_SUFFIXES, is_tiff, read_image

#: Largest fraction of a layer that outlines may cover (real ones: a few percent).
MOST_OUTLINE = 0.5
#: Least share of an opaque layer's pixels other than its outlines that are of one plain
#: colour (within `PLAIN_LEVELS` of their median): a layer's background is, a photograph's
#: pixels are not (16% to 54% of MoNuSeg's H&E images: `pytest -n0 -s
#: tests/preprocessing/test_outlines_real_data.py -k stained`).
LEAST_PLAIN = 0.8
PLAIN_LEVELS = 30


@dataclass(frozen=True)
class OutlineStyle:
    """How the outlines were drawn: their colour and the thresholds that pick them out."""

    channel: str = "red"
    threshold: int = 128
    alpha_threshold: int = 128


def read_annotation(path) -> np.ndarray:
    """An annotation file's pixels (`read_image`); a JPEG is refused, naming the file.

    JPEG's compression smears a one-pixel red line into shades that are neither red nor
    background, breaking the outlines into many small false cells, and changes the values
    of a label image.
    """
    if Path(path).suffix.lower() in JPEG_SUFFIXES or _jpeg_in_tiff(path):
        kind = "a JPEG" if Path(path).suffix.lower() in JPEG_SUFFIXES else "a JPEG-compressed TIFF"
        raise file_error(
            path,
            f"is {kind}: its lossy compression breaks the outlines (and changes label "
            "values); save annotations as PNG, or TIFF without JPEG compression",
        )
    return read_image(path)


def _jpeg_in_tiff(path) -> bool:
    """Whether ``path`` is a TIFF whose pixels are JPEG-compressed (lossy); False for any
    other file, and for one that cannot be read. Its header alone is read, in silence:
    `read_image` says what is wrong with the file, once."""
    import tifffile

    if not is_tiff(Path(path)):
        return False
    from cellseg.image_limits import decoding

    lossy = {tifffile.COMPRESSION.JPEG, tifffile.COMPRESSION.OJPEG}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CellsegWarning)
        try:
            with decoding(path, "TIFF"), tifffile.TiffFile(path) as tiff:
                return bool(tiff.pages) and tiff.pages[0].compression in lossy
        except CellsegError:
            return False


def read_outline_mask(path, style: OutlineStyle | None = None) -> np.ndarray:
    """The outline pixels of an annotation layer, as a bool mask: all False for a fully
    transparent layer (an image without cells).

    Raises
    ------
    CellsegError
        If the file is a JPEG or not an RGB or RGBA image, or holds no outline pixels although
        something is drawn on it (a layer in another colour, or not a layer).
    """
    return _outline_mask(path, read_annotation(path), style)


def _outline_mask(path, annotation: np.ndarray, style: OutlineStyle | None) -> np.ndarray:
    """`read_outline_mask` of the pixels ``annotation`` read from ``path``."""
    from cellseg.preprocessing.outlines import outline_mask

    style = style or OutlineStyle()
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
        if annotation.shape[2] == 4 and not annotation[..., 3].any():
            return mask  # nothing drawn: an image without cells
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
    plain = _plain_share(annotation, mask)
    if plain < LEAST_PLAIN:
        raise file_error(
            path,
            f"looks like a photograph, not an annotation layer: {plain:.0%} of its pixels "
            "other than the outlines are of one plain colour (annotations are outlines on a "
            "transparent or plain layer, or label images)",
        )
    return mask


def _plain_share(layer: np.ndarray, outlines: np.ndarray) -> float:
    """The share of an opaque layer's pixels other than ``outlines`` within `PLAIN_LEVELS`
    of their median colour (8-bit levels); 1 for a layer with transparent pixels."""
    if layer.shape[2] == 4 and (layer[..., 3] < np.iinfo(layer.dtype).max).any():
        return 1.0
    rest = layer[..., :3][~outlines].astype(np.float32)
    if not len(rest):
        return 1.0
    rest *= 255 / np.iinfo(layer.dtype).max
    return float((np.abs(rest - np.median(rest, axis=0)).max(axis=1) <= PLAIN_LEVELS).mean())


def read_annotation_labels(path, style: OutlineStyle | None = None) -> np.ndarray:
    """Instance labels from an annotation: a label image as it is, outlines converted.

    One-channel integer images are label images; RGB(A) layers are outlines. A binary
    mask (one value besides 0, as Fiji and ``cellseg labels --target mask`` write them) is
    one cell per separate region (`_cells_of_mask`).
    """
    path = Path(path)
    annotation = read_annotation(path)
    if annotation.ndim == 2:
        return _cells_of_mask(path, _label_image(path, annotation))
    return _cells_of(path, _outline_mask(path, annotation, style))


def _cells_of_mask(path, labels: np.ndarray) -> np.ndarray:
    """``labels`` as they are, unless they hold a single value besides 0: a binary mask,
    whose separate regions are numbered 1..N (uint32) as cells, with a `CellsegWarning`
    naming the file when there are several.

    Regions are 4-connected (pixels sharing a side), as the model's own masks are read
    (`cells_from_mask`): two nuclei that meet only at a corner are two cells, and a filled
    nucleus, whose pixels share sides, stays one. Touching cells are one region, which no
    connectivity can tell apart.
    """
    highest = labels.max(initial=0)
    foreground = labels != 0
    if not highest or np.count_nonzero(labels == highest) != np.count_nonzero(foreground):
        return labels  # no cells, or a label image of several values
    from scipy import ndimage as ndi

    cells, count = ndi.label(foreground, output=np.uint32)
    if count > 1:
        warnings.warn(
            CellsegWarning(
                f"{path}: a mask of one value, read as {count} cells, one per separate "
                "region (touching cells cannot be told apart in a mask; draw outlines or "
                "give a label image to separate them)"
            ),
            stacklevel=3,
        )
    return cells


def outline_labels(path, style: OutlineStyle | None = None) -> np.ndarray:
    """The cells a red-outline layer draws (`outlines_to_labels`); outlines left open are
    left out with a `CellsegWarning` naming the file and where the first one is."""
    return _cells_of(path, read_outline_mask(path, style))


def _cells_of(path, mask: np.ndarray) -> np.ndarray:
    """`outlines_to_labels` of the outline ``mask`` read from ``path``."""
    from cellseg.preprocessing.outlines import OpenOutlineWarning, outlines_to_labels

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OpenOutlineWarning)
        labels = outlines_to_labels(mask)
    for warning in caught:
        if issubclass(warning.category, OpenOutlineWarning):
            warnings.warn(CellsegWarning(f"{path}: {warning.message}"), stacklevel=3)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return labels


def _label_image(path, labels: np.ndarray) -> np.ndarray:
    """A label image's cells numbered 1..N (uint32), whatever ids it used; a negative or
    non-integer label is one line naming the file."""
    if labels.dtype.kind not in "ui":
        raise file_error(path, f"a label image must hold integers, not {labels.dtype}")
    if labels.dtype.kind == "i" and labels.size and labels.min() < 0:
        raise file_error(path, f"a label image must not hold negative labels ({labels.min()})")
    if labels.size == 0 or int(labels.max()) <= labels.size:
        return labels
    # Ids as large as 4,000,000,000: counting cells by id (np.bincount) would allocate that
    # many counters, so they are numbered again in order.
    ids, numbered = np.unique(labels, return_inverse=True)
    numbered = numbered.reshape(labels.shape).astype(np.uint32)
    return numbered if ids[0] == 0 else numbered + 1


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


def checked_labels(
    pairs, style: OutlineStyle | None = None, *, converted=None, keep_bytes: int = 0
) -> dict[Path, np.ndarray]:
    """Check that every ``(image, annotation)`` pair can be trained on: the image's header
    is readable, the annotation is read as training reads it (`read_annotation_labels`),
    and both are the same size. ``converted`` maps an annotation already converted to the
    labels file it became, whose header is read instead. All that is wrong is one error
    naming each bad file; otherwise returns the labels read, up to ``keep_bytes`` of them,
    by annotation, so that they need not be read again.
    """
    from cellseg.image_io import read_image_shape

    converted = converted or {}
    kept, problems, kept_bytes = {}, [], 0
    for image, annotation in pairs:
        labels = None
        try:
            image_shape = read_image_shape(image)
        except CellsegError as error:
            problems.append((image, str(error)))
            image_shape = None
        try:
            if annotation in converted:
                shape = read_image_shape(converted[annotation])
            else:
                labels = read_annotation_labels(annotation, style)
                shape = labels.shape
            if image_shape is not None:
                check_same_size(annotation, shape, image, image_shape)
        except CellsegError as error:
            problems.append((annotation, str(error)))
            continue
        if labels is not None and kept_bytes + labels.nbytes <= keep_bytes:
            kept[annotation], kept_bytes = labels, kept_bytes + labels.nbytes
    if problems:
        raise _files_error(problems)
    return kept


def _files_error(problems: list[tuple[Path, str]]) -> CellsegError:
    """One error for the files of ``(path, message)``: those of the same reason named
    together, the first few reasons said, the rest of the files named."""
    if len(problems) == 1:
        return CellsegError(problems[0][1])
    reasons: dict[str, list[str]] = {}
    for path, message in problems:
        reason = message.removeprefix(f"{path}: ")
        reasons.setdefault(reason, []).append(str(path))
    said = [f"{named(paths)}: {reason}" for reason, paths in list(reasons.items())[:3]]
    rest = [path for paths in list(reasons.values())[3:] for path in paths]
    if rest:
        said.append(f"and {counted(len(rest), 'file')} more: {named(rest)}")
    files = len({path for path, _ in problems})
    return CellsegError(f"{counted(files, 'file')} cannot be trained on: " + "; ".join(said))


def name_key(path) -> str:
    """The name by which an image and its annotation are paired: the file's stem
    (`cellseg.batch.image_stem`: an OME-TIFF's without its ``.ome``) in Unicode NFC, so
    that a name as macOS writes it (decomposed: ``e`` and a combining accent) matches the
    same name written elsewhere (``é``)."""
    return unicodedata.normalize("NFC", image_stem(path))


def by_name(paths) -> dict[str, Path]:
    """``paths`` by their `name_key`; two whose names differ only in Unicode form are an
    error naming both."""
    found: dict[str, Path] = {}
    for path in paths:
        key = name_key(path)
        if key in found and found[key] != path:
            raise file_error(path, f"has the same name as {found[key]}; rename one of them")
        found[key] = path
    return found


def pair_by_name(images, annotations) -> list[tuple[Path, Path]]:
    """Match the image files of the folders ``images`` and ``annotations`` by `name_key`,
    as ``(image, annotation)`` in order of name; unmatched files are one error naming them."""
    image_paths = by_name(image_files([images]))
    annotation_paths = by_name(image_files([annotations]))
    lonely_images = sorted(set(image_paths) - set(annotation_paths))
    lonely_annotations = sorted(set(annotation_paths) - set(image_paths))
    if lonely_images or lonely_annotations:
        parts = []
        if lonely_images:
            names = named([image_paths[key].name for key in lonely_images])
            parts.append(f"images without annotation: {names}")
        if lonely_annotations:
            names = named([annotation_paths[key].name for key in lonely_annotations])
            parts.append(f"annotations without image: {names}")
        raise CellsegError(
            f"{images} and {annotations} do not match by file name; " + "; ".join(parts)
        )
    return [(image_paths[key], annotation_paths[key]) for key in sorted(image_paths)]
