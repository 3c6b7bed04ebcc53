"""Training data: images paired with annotations, converted once, streamed as random tiles.

Annotations (red outlines or label images) are converted to labels once and cached as
files; training then streams tiles from disk: each sample reads its image (up to 1 GiB of
them are kept decoded), cuts a random, augmented tile and builds the target. Every sample
draws its randomness from (seed, sample number), so a run resumed at epoch k sees exactly
the tiles the uninterrupted run would have. With Keras' TensorFlow backend the samples flow
through ``tf.data``; with its JAX or PyTorch backend (a GPU machine without TensorFlow),
through a ``keras.utils.PyDataset`` whose worker processes build the same batches.
"""

import collections
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cellseg.annotations import (
    OutlineStyle,
    check_same_size,
    name_key,
    pair_by_name,
    read_annotation_labels,
)
from cellseg.batch import image_files
from cellseg.image_io import read_image, read_picture, write_image
from cellseg.neural_network.label_cache import cached_labels_path, keep_labels
from cellseg.neural_network.targets import get_target
from cellseg.preprocessing.augmentation import Augmentation, random_tile
from cellseg.preprocessing.colour import (
    as_rgb,
    counterstain_reference,
    counterstain_strength,
    is_brightfield,
)
from cellseg.preprocessing.targets import contacts
from cellseg.preprocessing.tiling import tile_positions

#: Bytes of decoded images (with their labels) kept by one process: a training set of
#: a few dozen 1000 x 1000 images is decoded once, not at every visit. Worker processes
#: share it, 256 MiB each at least.
_DECODED_BYTES = 1 << 30
#: Consecutive samples cut from one image before moving to the next.
_TILES_PER_VISIT = 4
#: Validation tiles taken from each validation image at most.
_VALIDATION_TILES_PER_IMAGE = 16


@dataclass(frozen=True)
class TrainingPair:
    """An image and its annotation (red outlines or labels), matched by file stem."""

    image: Path
    annotation: Path


@dataclass(frozen=True)
class PreparedImage:
    """An image with its annotation converted: labels (and the target's map of the whole
    image, such as the distance map, `Target.image_map`) cached as files."""

    image: Path
    labels: Path
    image_map: Path | None


#: What ``cellseg predict`` appends to an image's stem to name its outline layer.
PREDICTED_OUTLINES = "_outlines"


def pair_by_stem(images, annotations) -> list[TrainingPair]:
    """Match the image files of two folders by name (`cellseg.annotations.pair_by_name`,
    which names the files that do not match)."""
    return [
        TrainingPair(image, annotation) for image, annotation in pair_by_name(images, annotations)
    ]


def annotated_pairs(images, annotations) -> list[TrainingPair]:
    """Each image of the folder ``images`` with its annotation: in a folder of ``cellseg
    predict`` results, its outline layer ``<stem>_outlines.png`` (corrected by the user:
    predictions are annotations to train on as they are); otherwise the annotation of the
    same name (`pair_by_stem`). Names are compared as `cellseg.annotations.name_key` does."""
    predicted = {
        name_key(path).removesuffix(PREDICTED_OUTLINES): path
        for path in Path(annotations).glob(f"*{PREDICTED_OUTLINES}.png")
    }
    if predicted and Path(images).is_dir():
        found = sorted(image_files([images]), key=name_key)
        if all(name_key(path) in predicted for path in found):
            return [TrainingPair(path, predicted[name_key(path)]) for path in found]
    return pair_by_stem(images, annotations)


def split_validation(pairs: list, fraction: float, seed: int) -> tuple[list, list]:
    """Hold out whole images for validation: ``round(fraction * n)``, at least one if n > 1."""
    if fraction <= 0 or len(pairs) < 2:
        return list(pairs), []
    count = min(max(1, round(fraction * len(pairs))), len(pairs) - 1)
    order = np.random.default_rng(seed).permutation(len(pairs))
    held = set(order[:count].tolist())
    training = [pair for index, pair in enumerate(pairs) if index not in held]
    validation = [pair for index, pair in enumerate(pairs) if index in held]
    return training, validation


def prepare(
    pairs,
    cache: Path,
    *,
    target: str,
    style: OutlineStyle | None = None,
    boundary_width: int = 1,
):
    """Convert every annotation to labels (cached in ``cache``), checking sizes.

    Returns the prepared images and the training statistics: per-channel mean and
    standard deviation of the images (0-255 RGB), the frequency of each class of the
    target (background, interior, boundary for ``3class``; background, cell otherwise) and
    the median area of the cells in pixels (None without cells), by which prediction's
    ``--scale auto`` recognises images of smaller cells, and how strong the brightfield
    images' haematoxylin is (`counterstain_reference`, None without brightfield images),
    by which paler counterstains are strengthened. ``boundary_width`` is that of the
    ``3class`` target's boundary class.
    """
    record = get_target(target)
    cache.mkdir(parents=True, exist_ok=True)
    prepared = []
    channel_sum, channel_squares, pixels = np.zeros(3), np.zeros(3), 0
    classes = np.zeros(3 if record.classes else 2)
    areas, strengths = [], []
    for pair in pairs:
        image = as_rgb(read_picture(pair.image))
        labels_path = cached_labels_path(cache, pair)
        if labels_path.exists():
            labels = read_image(labels_path)
        else:
            labels = keep_labels(labels_path, read_annotation_labels(pair.annotation, style))
        check_same_size(pair.annotation, labels.shape, pair.image, image.shape)
        map_path = None
        if record.image_map is not None:
            map_path = labels_path.with_name(f"{labels_path.stem}-{record.name}.tif")
            if not map_path.exists():
                write_image(map_path, record.image_map(labels), overwrite=True)
        prepared.append(PreparedImage(pair.image, labels_path, map_path))
        flat = image.reshape(-1, 3).astype(np.float64)
        channel_sum += flat.sum(axis=0)
        channel_squares += (flat**2).sum(axis=0)
        pixels += flat.shape[0]
        cell_areas = np.bincount(labels.ravel())[1:]
        areas.append(cell_areas[cell_areas > 0])
        classes += record.class_counts(labels, boundary_width)
        if is_brightfield(image):
            strengths.append(counterstain_strength(image)[0])
    mean = channel_sum / max(pixels, 1)
    std = np.sqrt(np.maximum(channel_squares / max(pixels, 1) - mean**2, 1.0))
    statistics = {
        "mean": mean.round(4).tolist(),
        "std": std.round(4).tolist(),
        "class_frequencies": (classes / max(classes.sum(), 1)).round(6).tolist(),
        "cell_area": _median_area(areas),
        "haematoxylin": counterstain_reference(strengths),
    }
    return prepared, statistics


def _median_area(areas: list[np.ndarray]) -> float | None:
    joined = np.concatenate(areas) if areas else np.zeros(0)
    return float(np.median(joined)) if joined.size else None


def training_dataset(
    prepared: list[PreparedImage],
    *,
    target: str,
    tile: int,
    batch_size: int,
    augmentation: Augmentation,
    seed: int,
    steps_per_epoch: int,
    first_epoch: int,
    epochs: int,
    boundary_width: int = 1,
):
    """Batches of random augmented tiles for epochs ``first_epoch`` .. ``epochs - 1``."""
    per_epoch = steps_per_epoch * batch_size
    order = np.random.default_rng(seed).permutation(len(prepared))

    def load(sample):
        sample = int(sample)
        visit = sample // _TILES_PER_VISIT
        chosen = prepared[int(order[visit % len(prepared)])]
        rng = np.random.default_rng([seed, sample])
        image, source = _decoded(chosen, target)
        touching = _contacts(chosen.labels) if augmentation.crowded > 0 else None
        image_tile, target_tile = random_tile(
            image,
            source,
            rng,
            tile=tile,
            augmentation=augmentation,
            continuous=get_target(target).continuous,
            contacts=touching,
        )
        return image_tile, target_array(target_tile, target, boundary_width)

    samples = range(first_epoch * per_epoch, epochs * per_epoch)
    return _batched(samples, load, target=target, tile=tile, batch_size=batch_size)


def validation_dataset(
    prepared: list[PreparedImage],
    *,
    target: str,
    tile: int,
    batch_size: int,
    boundary_width: int = 1,
):
    """Fixed, unaugmented tiles of the validation images (the same every epoch)."""
    places = []
    for index, item in enumerate(prepared):
        rows, columns = read_image(item.labels).shape
        positions = tile_positions((rows, columns), tile, 0)[:_VALIDATION_TILES_PER_IMAGE]
        places.extend((index, position.row, position.column) for position in positions)

    def load(place):
        index, row, column = (int(value) for value in places[int(place)])
        image, source = _decoded(prepared[index], target)
        image_tile = _window(image, row, column, tile)
        target_tile = _window(source, row, column, tile)
        return image_tile, target_array(target_tile, target, boundary_width)

    return _batched(
        range(len(places)),
        load,
        target=target,
        tile=tile,
        batch_size=batch_size,
        drop_remainder=False,
    )


def target_array(target_tile: np.ndarray, target: str, boundary_width: int = 1) -> np.ndarray:
    """The training target of a tile of labels (or of the target's image map), shaped like
    the network's output (`cellseg.neural_network.targets.Target.encode`)."""
    return get_target(target).encode(target_tile, boundary_width)


def _batched(samples: range, load, *, target: str, tile: int, batch_size: int, drop_remainder=True):
    """Batches of ``load(sample)`` for each sample number, in order."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return sample_batches(samples, load, batch_size, drop_remainder=drop_remainder)
    import tensorflow as tf

    channels = get_target(target).channels

    def load_tensors(sample):
        image, answer = tf.numpy_function(load, [sample], (tf.float32, tf.float32))
        image.set_shape((tile, tile, 3))
        answer.set_shape((tile, tile, channels))
        return image, answer

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return (
        tf.data.Dataset.range(samples.start, samples.stop)
        .map(load_tensors, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(batch_size, drop_remainder=drop_remainder)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(options)
    )


def sample_batches(
    samples: range, load, batch_size: int, *, drop_remainder=True, workers: int | None = None
):
    """A ``keras.utils.PyDataset`` of the batches ``load`` builds, for any Keras backend.

    Worker processes (one per CPU core this process may use, at most 16: a Slurm job or
    ``taskset`` gets its share) build the batches ahead of the accelerator, in order, so the
    batches are those of the ``tf.data`` path.
    """
    import keras

    workers = workers if workers is not None else min(len(os.sched_getaffinity(0)), 16)
    _decoded_images.budget = max(_DECODED_BYTES // workers, 256 << 20)  # each worker's share
    # JAX warns at every fork that its threads may deadlock the child; the workers only
    # cut tiles with numpy and scikit-image and never call JAX (PyTorch's loaders do alike).
    warnings.filterwarnings("ignore", "os.fork", RuntimeWarning)

    class SampleBatches(keras.utils.PyDataset):
        def __len__(self):
            whole, rest = divmod(len(samples), batch_size)
            return whole + (1 if rest and not drop_remainder else 0)

        def __getitem__(self, index):
            chosen = samples[index * batch_size : (index + 1) * batch_size]
            images, answers = zip(*(load(sample) for sample in chosen), strict=True)
            return np.stack(images), np.stack(answers)

    return SampleBatches(
        workers=workers, use_multiprocessing=workers > 1, max_queue_size=4 * workers
    )


class _DecodedImages:
    """Decoded (image, labels or distances) pairs, the least recently used dropped first."""

    def __init__(self, budget: int):
        self.budget = budget
        self._pairs = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # tf.data loads tiles on several threads

    def get(self, image: Path, source: Path):
        key = (image, source)
        with self._lock:
            if key in self._pairs:
                self._pairs.move_to_end(key)
                return self._pairs[key]
        pair = as_rgb(read_picture(image)), read_image(source)
        with self._lock:
            if key not in self._pairs:
                self._pairs[key] = pair
                self._bytes += _nbytes(pair)
                while self._bytes > self.budget and len(self._pairs) > 1:
                    _, dropped = self._pairs.popitem(last=False)
                    self._bytes -= _nbytes(dropped)
        return pair


def _nbytes(pair) -> int:
    return sum(array.nbytes for array in pair)


_decoded_images = _DecodedImages(_DECODED_BYTES)


def _decoded(item: PreparedImage, target: str):
    source = item.image_map if get_target(target).image_map is not None else item.labels
    return _decoded_images.get(item.image, source)


def _contacts(labels: Path) -> np.ndarray:
    """Where the cells of a labels file touch (`cellseg.preprocessing.targets.contacts`),
    found once per process: a few thousand pixels per image."""
    with _contacts_lock:
        if labels in _contacts_found:
            return _contacts_found[labels]
    found = contacts(read_image(labels)).astype(np.int32)
    with _contacts_lock:
        return _contacts_found.setdefault(labels, found)


_contacts_found: dict[Path, np.ndarray] = {}
_contacts_lock = threading.Lock()


def _window(array: np.ndarray, row: int, column: int, tile: int) -> np.ndarray:
    """``tile`` x ``tile`` from (row, column), zero-padded where the image is smaller."""
    window = array[row : row + tile, column : column + tile]
    padding = [(0, tile - window.shape[0]), (0, tile - window.shape[1])]
    padding += [(0, 0)] * (array.ndim - 2)
    return np.pad(window, padding)
