"""Train a network on annotated images into a model folder, resuming after an interruption.

`train` reads the users' files, pairs and converts the data, builds the network (the
default U-Net or the user's ``get_model``) with the training images' normalisation inside,
and fits it on random tiles; or, fine-tuning (``request.parent``, ``--from``), starts
from a trained model's network, normalisation and target. At the end of every epoch the
weights, the history row and the state that names them are written atomically, in that
order, so a run killed at any moment resumes at its last finished epoch with each epoch
in ``history.csv`` once. After the last epoch the post-processing thresholds are tuned
on the validation images and the validation metrics stored for the leaderboard (with the
parent's on the same images, when fine-tuning).
"""

import contextlib
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from cellseg.annotations import OutlineStyle
from cellseg.batch import counted
from cellseg.errors import CellsegError
from cellseg.image_io import read_image_shape
from cellseg.interruption import deferred
from cellseg.neural_network.callbacks import (
    EpochRecorder,
    ProgressBar,
    StopWhenInterrupted,
    TimeEstimate,
    cosine_schedule,
)
from cellseg.neural_network.dataset import (
    annotated_pairs,
    prepare,
    split_validation,
    training_dataset,
    validation_dataset,
)
from cellseg.neural_network.distribution import training_strategy
from cellseg.neural_network.hyperparameters import epoch_steps
from cellseg.neural_network.label_cache import check_pairs, keep_checked
from cellseg.neural_network.loss_checks import training_error
from cellseg.neural_network.model_config import ModelConfig
from cellseg.neural_network.model_folder import MODELS_ROOT, ModelFolder, save_network
from cellseg.neural_network.model_listing import mark_running, mark_stopped
from cellseg.neural_network.runs import (
    Parent,
    finished_run,
    run_hyperparameters,
    run_settings,
    start_or_resume,
    training_augmentation,
)
from cellseg.neural_network.targets import DEFAULT_TARGET
from cellseg.neural_network.user_files import (
    build_user_model,
    load_architecture_file,
    load_loss_file,
)

#: What the first Ctrl-C (or SIGTERM, which `cellseg.interruption` takes as one) says.
STOPPING = "cellseg train: stopping after this step"
#: Fine-tuning holds whole images out for validation from this many annotated images on;
#: with fewer, every one is trained on and the thresholds are tuned on them.
LEAST_IMAGES_TO_VALIDATE = 3


@dataclass(frozen=True)
class TrainingRequest:
    """What ``cellseg train`` was asked to do."""

    images: Path
    annotations: Path
    name: str
    target: str | None = DEFAULT_TARGET  # None: the parent's when fine-tuning, else the default
    loss_file: Path | None = None
    architecture_file: Path | None = None
    hyperparameters_file: Path | None = None
    seed: int = 0
    split_seed: int | None = None  # chooses the validation images; None: ``seed``
    restart: bool = False
    distribute: bool = False
    outline_style: OutlineStyle = field(default_factory=OutlineStyle)
    models_root: Path = MODELS_ROOT
    parent: str | Path | None = None  # the model to fine-tune (--from): name or folder


def train(request: TrainingRequest) -> ModelFolder:
    """Train (or resume training) the model ``request.name``; returns its folder.

    Everything the user gave is checked before anything is written; then the model folder
    is created (or the unfinished run in it taken up again), marked as being trained while
    this process runs, and filled epoch by epoch.
    """
    parent = None
    if request.parent is not None:
        parent = Parent.load(request.parent, models_root=request.models_root)
    if request.target is None:
        request = replace(request, target=parent.config.target if parent else DEFAULT_TARGET)
    user_loss = (
        load_loss_file(request.loss_file, target=request.target) if request.loss_file else None
    )
    get_model = (
        load_architecture_file(request.architecture_file) if request.architecture_file else None
    )
    hyperparameters = run_hyperparameters(request.hyperparameters_file, parent)
    if parent is not None:
        parent.check(request, hyperparameters)
    if get_model is not None:  # check the user's network before anything is written
        build_user_model(
            get_model,
            request.architecture_file,
            (hyperparameters.tile_size, hyperparameters.tile_size, 3),
            request.target,
        )
    pairs = annotated_pairs(request.images, request.annotations)
    too_few = parent is not None and len(pairs) < LEAST_IMAGES_TO_VALIDATE
    training_pairs, validation_pairs = split_validation(
        pairs,
        0.0 if too_few else hyperparameters.validation_split,
        request.seed if request.split_seed is None else request.split_seed,
    )
    augmentation = training_augmentation(hyperparameters)
    settings = run_settings(
        request, hyperparameters, augmentation, training_pairs, validation_pairs, parent
    )
    # It refuses --distribute before anything is written.
    strategy = training_strategy(request.distribute)
    folder = ModelFolder(request.models_root / request.name)
    config = finished_run(folder, request, settings)
    if config is None:  # every bad annotation refused at once, before anything is written
        checked = check_pairs(pairs, folder.cache, request.outline_style)
        config = start_or_resume(folder, request, settings, parent)
        keep_checked(pairs, folder.cache, checked)  # for `prepare`, not read again
        del checked  # up to 1 GiB of labels, not held through training
    if config.status == "finished":  # the same command run again
        kept = f"kept as it is in {folder.path} (--restart trains it again from scratch)"
        print(f"cellseg train: {request.name}: already trained with these settings, {kept}")
        return folder
    source = f" (fine-tuning {parent.name})" if parent is not None else ""
    pixels = sum(np.prod(read_image_shape(pair.image)) for pair in training_pairs)
    steps = epoch_steps(hyperparameters, pixels, fine_tuning=parent is not None)
    print(
        f"cellseg train: {request.name}{source}: "
        f"{counted(len(training_pairs), 'training image')}, "
        f"{counted(len(validation_pairs), 'validation image')} (whole images), "
        f"{counted(hyperparameters.epochs, 'epoch')} of {counted(steps, 'step')}; saving in "
        f"{folder.path}",
        flush=True,
    )
    run = SimpleNamespace(
        request=request, hyperparameters=hyperparameters, augmentation=augmentation,
        strategy=strategy, folder=folder, config=config, get_model=get_model,
        user_loss=user_loss, parent=parent, steps=steps,
    )  # fmt: skip
    running = mark_running(folder)
    try:
        _train(run, training_pairs, validation_pairs)
    except CellsegError as error:  # a bad file, a NaN loss: not resumable as it is
        mark_stopped(folder, error)
        raise
    finally:
        running.unlink(missing_ok=True)
    print(f"cellseg train: model saved in {folder.path}")
    return folder


def _train(run, training_pairs, validation_pairs) -> None:
    """Prepare the data, build or restore the network, fit it, and finish the folder."""
    import keras

    from cellseg.neural_network.architectures import dtype_policy

    request, hyperparameters, folder = run.request, run.hyperparameters, run.folder
    keras.utils.set_random_seed(request.seed)
    width = hyperparameters.boundary_width
    (prepared_training, statistics), (prepared_validation, _) = (
        prepare(pairs, folder.cache, target=request.target, style=request.outline_style,
                boundary_width=width)
        for pairs in (training_pairs, validation_pairs)
    )  # fmt: skip
    parent = run.parent
    if parent is not None:  # its normalisation is inside the network it starts from
        normalisation, divisor = parent.config.normalisation, parent.config.divisor
    else:
        normalisation = run.config.normalisation or {k: statistics[k] for k in ("mean", "std")}
        divisor = 32 if run.get_model is not None else 2**hyperparameters.depth
    config = run.config.with_changes(  # a resumed run keeps what it started with
        normalisation=normalisation,
        class_frequencies=run.config.class_frequencies or tuple(statistics["class_frequencies"]),
        cell_area=run.config.cell_area or statistics["cell_area"],
        haematoxylin=statistics["haematoxylin"],  # of the images this run learns from
        divisor=divisor,
        test_time_flips=hyperparameters.test_time_flips,
    )
    tile = hyperparameters.tile_size
    steps = run.steps
    folder.write_config(config)

    with run.strategy.scope(), dtype_policy(hyperparameters.precision):
        model, loss = _build(run, config, tile)
        metrics = [_cell_dice(request.target)]
        if run.user_loss is not None and run.user_loss.metric is not None:
            metrics.append(run.user_loss.metric)
        model.compile(optimizer=_optimizer(hyperparameters), loss=loss, metrics=metrics)
    epochs = hyperparameters.epochs
    recorder = EpochRecorder(folder, total_epochs=epochs)
    first_epoch = recorder.restore(model)
    if first_epoch >= epochs:
        print(f"cellseg train: {folder.path}: all {first_epoch} epochs were already finished")
        # What fit() ends with: the weights' moving average, if kept, set into the network.
        model.optimizer.finalize_variable_values(model.trainable_variables)
    else:
        if first_epoch:
            print(f"cellseg train: resuming {folder.path} after epoch {first_epoch}")
        training = training_dataset(
            prepared_training,
            target=request.target,
            tile=tile,
            batch_size=hyperparameters.batch_size,
            augmentation=run.augmentation,
            seed=request.seed,
            steps_per_epoch=steps,
            first_epoch=first_epoch,
            epochs=epochs,
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
        schedule = cosine_schedule(
            hyperparameters.learning_rate,
            epochs,
            warmup_epochs=hyperparameters.warmup_epochs,
            steps=steps,
        )
        estimate = TimeEstimate(
            epochs=epochs, steps=steps, first_epoch=first_epoch,
            batch_size=hyperparameters.batch_size, tile=tile,
        )  # fmt: skip
        # Ctrl-C stops between steps: in the middle of one, TensorFlow may lose it.
        with (
            deferred(STOPPING),
            _said_of_user_files(run.user_loss, run.request.architecture_file),
        ):
            model.fit(
                training,
                validation_data=validation,
                epochs=epochs,
                initial_epoch=first_epoch,
                steps_per_epoch=steps,
                callbacks=[
                    *([keras.callbacks.SwapEMAWeights()] if hyperparameters.weight_average else []),
                    schedule,
                    recorder,
                    estimate,
                    ProgressBar(epochs, steps),
                    StopWhenInterrupted(),
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
    _finish(run, config, model, recorder, prepared_training, prepared_validation)


@contextlib.contextmanager
def _said_of_user_files(user_loss, architecture):
    """Turn an error of the user's loss, metric or network that only training met (the
    checks before it try them on made-up batches, the network uncompiled) into one line
    naming their file."""
    try:
        yield
    except Exception as error:
        problem = training_error(error, user_loss, architecture)
        if problem is None:
            raise
        raise problem from None


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


def _build(run, config: ModelConfig, tile):
    """The network, normalisation inside (the parent's, when fine-tuning), and its loss."""
    from cellseg.neural_network.architectures import unet, with_normalisation
    from cellseg.neural_network.losses import default_loss
    from cellseg.neural_network.model_folder import load_network

    request, hyperparameters = run.request, run.hyperparameters
    if run.parent is not None:
        model = load_network(run.parent.folder)  # in Keras' safe mode
    elif run.get_model is None:
        core = unet(
            (None, None, 3),
            target=request.target,
            base_filters=hyperparameters.base_filters,
            depth=hyperparameters.depth,
        )
    else:
        core = build_user_model(
            run.get_model, request.architecture_file, (tile, tile, 3), request.target
        )
    if run.parent is None:
        normalisation = config.normalisation
        model = with_normalisation(core, normalisation["mean"], normalisation["std"])
    if run.user_loss is not None:
        loss = run.user_loss.loss
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


def _finish(run, config, model, recorder, prepared_training, prepared_validation) -> None:
    """Save the final network; fit the post-processing (thresholds, the cells'
    confidence) to the validation images and record its scores there, and the parent's
    when fine-tuning; or, fine-tuning with no image held out, fit it to the training
    images; clean up."""
    from cellseg.image_io import read_image, read_picture
    from cellseg.neural_network.model import TrainedModel
    from cellseg.neural_network.model_folder import load_network
    from cellseg.neural_network.tuning import tuned_on

    folder, parent = run.folder, run.parent
    save_network(model, folder.model_path)
    if not folder.best_path.is_file():
        shutil.copyfile(folder.model_path, folder.best_path)
    config = config.with_changes(best_epoch=recorder.best_epoch)
    if parent is not None:  # kept where too few cells or images would fit them again
        config = config.with_changes(
            calibration=parent.config.calibration, count_spread=parent.config.count_spread
        )
    fitted_on = prepared_validation or (prepared_training if parent is not None else [])
    if fitted_on:
        best = TrainedModel(load_network(folder, folder.best_path), config, folder=folder)
        images = [read_picture(item.image) for item in fitted_on]
        truths = [read_image(item.labels) for item in fitted_on]
        tuned, scores = tuned_on(best, images, truths)
        config = tuned.config
        if prepared_validation:
            config = config.with_changes(validation=scores)
            print(f"cellseg train: validation {_scores_line(scores)}")
        else:
            print(
                f"cellseg train: fewer than {LEAST_IMAGES_TO_VALIDATE} images, so none was "
                f"held out for validation: the thresholds of {parent.name} were tuned again "
                f"on the {counted(len(images), 'training image')} ({_scores_line(scores)} "
                "there, which flatters the model)"
            )
        if parent is not None and prepared_validation:
            before = parent.scores_on(images, truths)
            config = config.with_changes(parent={**config.parent, "validation": before})
            print(f"cellseg train: {parent.name} as it was, on the same images: "
                  f"{_scores_line(before)}")  # fmt: skip
    folder.write_config(config.with_changes(status="finished"))
    shutil.rmtree(folder.checkpoints, ignore_errors=True)
    shutil.rmtree(folder.cache, ignore_errors=True)


def _scores_line(scores: dict) -> str:
    shown = ("aji", "f1", "panoptic_quality", "dice", "count_error", "calibration_error")
    return ", ".join(f"{key} {scores[key]:.3f}" for key in shown if key in scores)
