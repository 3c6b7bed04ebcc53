"""The labels training converts its annotations to, cached as files in the model folder,
and the check of every annotation before a model folder is written, whose labels the cache
keeps, so that no annotation is read twice."""

import hashlib
from pathlib import Path

import numpy as np

from cellseg.annotations import OutlineStyle, checked_labels
from cellseg.image_io import write_image

#: Labels the check keeps in memory to cache, at most (the images' decoded cache's size).
KEPT_BYTES = 1 << 30


def file_digest(path) -> str:
    """SHA-256 of a file's content, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_labels_path(cache: Path, pair) -> Path:
    """Where the labels of a training pair's annotation are cached: named after its image
    and its annotation's content, so that a changed annotation is converted again."""
    return cache / f"{pair.image.stem}-{file_digest(pair.annotation)[:16]}.tif"


def keep_labels(labels_path: Path, labels: np.ndarray) -> np.ndarray:
    """Write an annotation's labels into the cache as training reads them (uint32)."""
    labels = labels.astype(np.uint32)
    labels_path.parent.mkdir(parents=True, exist_ok=True)
    write_image(labels_path, labels, overwrite=True)
    return labels


def check_pairs(pairs, cache: Path, style: OutlineStyle | None = None) -> dict:
    """Refuse, in one error naming each bad file, pairs that cannot be trained on
    (`cellseg.annotations.checked_labels`), before a model folder is written. Returns the
    labels it read (up to `KEPT_BYTES`), for `keep_checked`; those a resumed run converted
    already (in ``cache``) are not read again."""
    cached = {pair.annotation: cached_labels_path(cache, pair) for pair in pairs}
    converted = {annotation: path for annotation, path in cached.items() if path.exists()}
    both = [(pair.image, pair.annotation) for pair in pairs]
    return checked_labels(both, style, converted=converted, keep_bytes=KEPT_BYTES)


def keep_checked(pairs, cache: Path, checked: dict) -> None:
    """Keep in ``cache`` the labels `check_pairs` read (``checked``, by annotation), as
    `cellseg.neural_network.dataset.prepare` converts them, so that it reads none of their
    annotations again."""
    for pair in pairs:
        labels_path = cached_labels_path(cache, pair)
        if pair.annotation in checked and not labels_path.exists():
            keep_labels(labels_path, checked[pair.annotation])
