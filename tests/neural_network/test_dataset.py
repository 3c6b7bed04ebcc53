"""Training batches: the tf.data path and the PyDataset path of the other Keras backends."""

import keras
import numpy as np
import pytest

from cellseg.errors import CellsegError
from cellseg.neural_network.dataset import _batched, sample_batches
from cellseg.neural_network.distribution import training_strategy
from cellseg.tensorflow_import import import_tensorflow

TILE = 4


def load(sample):
    """A tile and a 3-class target that depend on the sample number alone."""
    rng = np.random.default_rng(int(sample))
    image = rng.random((TILE, TILE, 3), dtype=np.float32) + np.float32(sample)
    target = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (TILE, TILE))]
    return image, target


@pytest.mark.parametrize("drop_remainder", [True, False])
def test_worker_processes_build_the_batches_of_the_tf_data_path(drop_remainder):
    samples = range(5, 23)  # 18 samples: 4 batches of 4 and 2 left over
    expected = list(
        _batched(
            samples, load, target="3class", tile=TILE, batch_size=4, drop_remainder=drop_remainder
        ).as_numpy_iterator()
    )
    batches = sample_batches(samples, load, 4, drop_remainder=drop_remainder, workers=2)
    images, targets = Echo().predict(batches, verbose=0)  # through Keras' own worker pool

    assert len(images) == len(targets) == (16 if drop_remainder else 18)
    np.testing.assert_array_equal(images, np.concatenate([image for image, _ in expected]))
    np.testing.assert_array_equal(targets, np.concatenate([target for _, target in expected]))


class Echo(keras.Model):
    """A model whose predictions are the batches it is given, images and targets."""

    def predict_step(self, data):
        return data


def test_fit_takes_each_sample_once_across_epochs():
    """Keras keeps one iterator over the epochs, as tf.data does: no epoch starts over.

    (Keras first reads a batch or two more to learn their shapes; training then takes
    every sample in order.)
    """
    seen = []

    def recording_load(sample):
        seen.append(sample)
        return load(sample)

    inputs = keras.Input((TILE, TILE, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1, activation="softmax")(inputs))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    batches = sample_batches(range(24), recording_load, 4, workers=1)
    model.fit(batches, epochs=3, steps_per_epoch=2, shuffle=False, verbose=0)

    assert seen[-24:] == list(range(24))


def test_backends_without_tf_distribute_train_on_one_device(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with training_strategy(False).scope():
        pass
    with pytest.raises(CellsegError, match="--distribute needs Keras' TensorFlow backend"):
        training_strategy(True)


def test_no_tensorflow_import_under_another_backend(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert import_tensorflow() is None


def test_decoded_images_are_read_once_and_the_least_recently_used_dropped(tmp_path, monkeypatch):
    from cellseg.image_io import write_image
    from cellseg.neural_network import dataset

    rng = np.random.default_rng(0)
    files = {}
    for name in "abc":
        image, labels = tmp_path / f"{name}.tif", tmp_path / f"{name}-labels.tif"
        write_image(image, rng.integers(0, 256, (10, 10, 3), dtype=np.uint8))
        write_image(labels, rng.integers(0, 5, (10, 10), dtype=np.uint32))
        files[name] = (image, labels)
    reads = []
    for reader in ("read_image", "read_picture"):  # labels, and images laid on white
        read = getattr(dataset, reader)
        monkeypatch.setattr(
            dataset, reader, lambda path, read=read: reads.append(path) or read(path)
        )
    pair_bytes = sum(array.nbytes for array in dataset._DecodedImages(0).get(*files["a"]))
    cache = dataset._DecodedImages(budget=2 * pair_bytes)  # room for two
    reads.clear()

    first = cache.get(*files["a"])
    for name in "bac":  # a is used again before c arrives, so b goes
        cache.get(*files[name])

    assert reads == [*files["a"], *files["b"], *files["c"]]  # a was decoded once
    assert cache.get(*files["a"]) is first and len(reads) == 6
    cache.get(*files["b"])
    assert reads[6:] == list(files["b"])
    np.testing.assert_array_equal(first[1], dataset.read_image(files["a"][1]))


def test_hover_targets_are_the_classes_then_the_centre_offsets_of_the_tile():
    from cellseg.neural_network.dataset import target_array
    from cellseg.preprocessing.targets import centre_offsets, three_class

    labels = np.zeros((8, 10), np.uint32)
    labels[1:7, 1:5], labels[1:7, 5:9] = 7, 3  # touching, numbered as in a whole image
    target = target_array(labels, "hover", boundary_width=2)
    assert target.shape == (8, 10, 5) and target.dtype == np.float32
    np.testing.assert_array_equal(target[..., :3].argmax(axis=-1), three_class(labels, 2))
    np.testing.assert_array_equal(target[..., 3:], centre_offsets(labels))
    assert target[3, 4, 3] == 1 and target[3, 5, 3] == -1  # the jump where they touch
