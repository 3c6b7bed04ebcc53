"""Train a network on annotated images into a model folder, resuming after an interruption.

`train` reads the users' files, pairs and converts the data, builds the network (the
default U-Net or the user's ``get_model``) with the training images' normalisation inside,
and fits it on random tiles. At the end of every epoch the weights, the history row and
the state that names them are written atomically, in that order, so a run killed at any
moment resumes at its last finished epoch with each epoch in ``history.csv`` once. After
the last epoch the post-processing thresholds are tuned on the validation images and the
validation metrics stored for the leaderboard.
"""

import contextlib
import math
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cellseg.annotations import OutlineStyle
from cellseg.batch import counted
from cellseg.errors import CellsegError
from cellseg.neural_network.callbacks import EpochRecorder, ProgressBar, cosine_schedule
from cellseg.neural_network.dataset import (
    pair_by_stem,
    prepare,
    split_validation,
    training_dataset,
    validation_dataset,
)
from cellseg.neural_network.hyperparameters import Hyperparameters
from cellseg.neural_network.model_config import ModelConfig
from cellseg.neural_network.model_folder import MODELS_ROOT, ModelFolder, save_network
from cellseg.neural_network.model_listing import mark_running
from cellseg.neural_network.runs import run_settings, start_or_resume, training_augmentation
from cellseg.neural_network.targets import DEFAULT_TARGET
from cellseg.neural_network.user_files import (
    build_user_model,
    load_architecture_file,
    load_hyperparameters_file,
    load_loss_file,
)


@dataclass(frozen=True)
class TrainingRequest:
    """What ``cellseg train`` was asked to do."""

    images: Path
    annotations: Path
    name: str
    target: str = DEFAULT_TARGET
    loss_file: Path | None = None
    architecture_file: Path | None = None
    hyperparameters_file: Path | None = None
    seed: int = 0
    split_seed: int | None = None  # chooses the validation images; None: ``seed``
    restart: bool = False
    distribute: bool = False
    outline_style: OutlineStyle = field(default_factory=OutlineStyle)
    models_root: Path = MODELS_ROOT


def train(request: TrainingRequest) -> ModelFolder:
    """Train (or resume training) the model ``request.name``; returns its folder.

    Everything the user gave is checked before anything is written; then the model folder
    is created (or the unfinished run in it taken up again), marked as being trained while
    this process runs, and filled epoch by epoch.
    """
    user_loss = (
        load_loss_file(request.loss_file, target=request.target) if request.loss_file else None
    )
    get_model = (
        load_architecture_file(request.architecture_file) if request.architecture_file else None
    )
    hyperparameters = (
        load_hyperparameters_file(request.hyperparameters_file)
        if request.hyperparameters_file
        else Hyperparameters()
    )
    if get_model is not None:  # check the user's network before anything is written
        build_user_model(
            get_model,
            request.architecture_file,
            (hyperparameters.tile_size, hyperparameters.tile_size, 3),
            request.target,
        )
    pairs = pair_by_stem(request.images, request.annotations)
    training_pairs, validation_pairs = split_validation(
        pairs,
        hyperparameters.validation_split,
        request.seed if request.split_seed is None else request.split_seed,
    )
    augmentation = training_augmentation(hyperparameters)
    settings = run_settings(
        request, hyperparameters, augmentation, training_pairs, validation_pairs
    )
    strategy = _strategy(request.distribute)  # refuses --distribute before anything is written
    folder = ModelFolder(request.models_root / request.name)
    config = start_or_resume(folder, request, settings)
    print(
        f"cellseg train: {request.name}: {counted(len(training_pairs), 'training image')}, "
        f"{counted(len(validation_pairs), 'validation image')} (whole images), "
        f"{hyperparameters.epochs} epochs; saving in {folder.path}",
        flush=True,
    )
    running = mark_running(folder)
    try:
        _train(request, hyperparameters, augmentation, strategy, folder, config, get_model,
               user_loss, training_pairs, validation_pairs)  # fmt: skip
    finally:
        running.unlink(missing_ok=True)
    return folder


def _train(
    request,
    hyperparameters,
    augmentation,
    strategy,
    folder,
    config,
    get_model,
    user_loss,
    training_pairs,
    validation_pairs,
) -> None:
    """Prepare the data, build or restore the network, fit it, and finish the folder."""
    import keras

    from cellseg.neural_network.architectures import dtype_policy

    keras.utils.set_random_seed(request.seed)
    width = hyperparameters.boundary_width
    prepared_training, statistics = prepare(
        training_pairs,
        folder.cache,
        target=request.target,
        style=request.outline_style,
        boundary_width=width,
    )
    prepared_validation, _ = prepare(
        validation_pairs,
        folder.cache,
        target=request.target,
        style=request.outline_style,
        boundary_width=width,
    )
    config = config.with_changes(  # a resumed run keeps what it started with
        normalisation=config.normalisation or {key: statistics[key] for key in ("mean", "std")},
        class_frequencies=config.class_frequencies or tuple(statistics["class_frequencies"]),
        cell_area=config.cell_area or statistics["cell_area"],
        haematoxylin=statistics["haematoxylin"],  # of the images this run learns from
        divisor=32 if get_model is not None else 2**hyperparameters.depth,
        test_time_flips=hyperparameters.test_time_flips,
    )
    tile = hyperparameters.tile_size
    steps = hyperparameters.steps_per_epoch or _steps_covering(
        prepared_training, tile, hyperparameters.batch_size
    )
    folder.write_config(config)

    with strategy.scope(), dtype_policy(hyperparameters.precision):
        model, loss = _build(request, hyperparameters, config, get_model, user_loss, tile)
        metrics = [_cell_dice(request.target)]
        if user_loss is not None and user_loss.metric is not None:
            metrics.append(user_loss.metric)
        model.compile(
            optimizer=_optimizer(hyperparameters),
            loss=loss,
            metrics=metrics,
        )
    recorder = EpochRecorder(folder, total_epochs=hyperparameters.epochs)
    first_epoch = recorder.restore(model)
    if first_epoch >= hyperparameters.epochs:
        print(f"cellseg train: {folder.path}: all {first_epoch} epochs were already finished")
        # What fit() ends with: the weights' moving average, if kept, set into the network.
        model.optimizer.finalize_variable_values(model.trainable_variables)
    else:
        if first_epoch:
            print(f"cellseg train: resuming {folder.path} after epoch {first_epoch}")
        print(
            f"cellseg train: {steps} steps of {hyperparameters.batch_size} tiles of {tile} x "
            f"{tile} pixels per epoch; the first epoch tells how long the run takes",
            flush=True,
        )
        training = training_dataset(
            prepared_training,
            target=request.target,
            tile=tile,
            batch_size=hyperparameters.batch_size,
            augmentation=augmentation,
            seed=request.seed,
            steps_per_epoch=steps,
            first_epoch=first_epoch,
            epochs=hyperparameters.epochs,
            boundary_width=width,
        )
        validation = None
        if prepared_validation:
            validation = validation_dataset(
                prepared_validation,
                target=request.target,
                tile=tile,
                batch_size=hyperparameters.batch_size,
                boundary_width=width,
            )
        model.fit(
            training,
            validation_data=validation,
            epochs=hyperparameters.epochs,
            initial_epoch=first_epoch,
            steps_per_epoch=steps,
            callbacks=[
                *([keras.callbacks.SwapEMAWeights()] if hyperparameters.weight_average else []),
                cosine_schedule(hyperparameters.learning_rate, hyperparameters.epochs),
                recorder,
                ProgressBar(hyperparameters.epochs, steps),
            ],
            shuffle=False,  # the tiles are random already, and seeded for resuming
            verbose=0,
        )
        if recorder.nan_at is not None:
            epoch, step = recorder.nan_at
            source = request.loss_file or "the default loss"
            raise CellsegError(
                f"{folder.path}: training stopped, the loss became NaN in epoch {epoch} "
                f"(step {step}); lower LEARNING_RATE (now {hyperparameters.learning_rate}) or "
                f"check {source}, then train again with --restart"
            )
    _finish(folder, config, model, recorder, prepared_validation)


def _optimizer(hyperparameters):
    """Adam, keeping a moving average of the weights when ``WEIGHT_AVERAGE`` asks for one."""
    import keras

    if hyperparameters.weight_average:
        return keras.optimizers.Adam(
            hyperparameters.learning_rate,
            use_ema=True,
            ema_momentum=hyperparameters.weight_average,
        )
    return keras.optimizers.Adam(hyperparameters.learning_rate)


def _build(request, hyperparameters, config: ModelConfig, get_model, user_loss, tile):
    """The network, normalisation inside, and its loss."""
    from cellseg.neural_network.architectures import unet, with_normalisation
    from cellseg.neural_network.losses import default_loss

    if get_model is None:
        core = unet(
            (None, None, 3),
            target=request.target,
            base_filters=hyperparameters.base_filters,
            depth=hyperparameters.depth,
        )
    else:
        core = build_user_model(
            get_model, request.architecture_file, (tile, tile, 3), request.target
        )
    normalisation = config.normalisation
    model = with_normalisation(core, normalisation["mean"], normalisation["std"])
    if user_loss is not None:
        loss = user_loss.loss
    else:
        loss = default_loss(
            request.target,
            config.class_frequencies,
            separation_weight=hyperparameters.separation_weight,
            class_balance=hyperparameters.class_balance,
            dice_weight=hyperparameters.dice_weight,
        )
    return model, loss


def _cell_dice(target: str):
    from cellseg.neural_network.losses import CellDice

    return CellDice(target=target)


def _finish(folder: ModelFolder, config: ModelConfig, model, recorder, prepared_validation) -> None:
    """Save the final network; fit the post-processing (thresholds, the cells'
    confidence) to the validation images and record its scores there; clean up."""
    from cellseg.image_io import read_image
    from cellseg.neural_network.model import TrainedModel
    from cellseg.neural_network.model_folder import load_network

    save_network(model, folder.model_path)
    if not folder.best_path.is_file():
        shutil.copyfile(folder.model_path, folder.best_path)
    config = config.with_changes(best_epoch=recorder.best_epoch)
    if prepared_validation:
        best = TrainedModel(load_network(folder, folder.best_path), config, folder=folder)
        images = [read_image(item.image) for item in prepared_validation]
        truths = [read_image(item.labels) for item in prepared_validation]
        tuned, scores = best.tuned_on(images, truths)
        config = tuned.config.with_changes(validation=scores)
        shown = ("aji", "f1", "panoptic_quality", "dice", "count_error", "calibration_error")
        print("cellseg train: validation " + ", ".join(f"{key} {scores[key]:.3f}" for key in shown))
    folder.write_config(config.with_changes(status="finished"))
    shutil.rmtree(folder.checkpoints, ignore_errors=True)
    shutil.rmtree(folder.cache, ignore_errors=True)


def _steps_covering(prepared, tile: int, batch_size: int) -> int:
    """Steps for one epoch to see about every training pixel once."""
    from cellseg.image_io import read_image_shape

    pixels = sum(np.prod(read_image_shape(item.image)) for item in prepared)
    return max(1, math.ceil(pixels / (tile * tile * batch_size)))


def _strategy(distribute: bool):
    """MirroredStrategy across this machine's GPUs, or across machines when TF_CONFIG is set.

    Keras' JAX and PyTorch backends train on one device, without tf.distribute.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        if distribute:
            raise CellsegError(
                f"--distribute needs Keras' TensorFlow backend (KERAS_BACKEND is "
                f"{keras.backend.backend()!r})"
            )
        return _OneDevice()
    import tensorflow as tf

    if not distribute:
        return tf.distribute.get_strategy()
    if os.environ.get("TF_CONFIG"):
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = tf.distribute.MirroredStrategy()
    print(
        f"cellseg train: {type(strategy).__name__} over {strategy.num_replicas_in_sync} replica(s)",
        file=sys.stderr,
    )
    return strategy


class _OneDevice:
    """The strategy of the backends without tf.distribute: build the model where it is."""

    def scope(self):
        return contextlib.nullcontext()
