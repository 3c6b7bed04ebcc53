"""What makes two training runs the same run, and starting a fresh one or resuming it.

`run_settings` gathers every setting of a run (data by name and SHA-256, hyperparameters,
augmentation, seed, the users' files); `start_or_resume` creates the model folder, or
resumes the unfinished run in it when those settings agree, wherever the files now are.
"""

import copy
import importlib
import shutil
import sys
from pathlib import Path

import numpy as np

from cellseg import __version__
from cellseg.errors import CellsegError
from cellseg.neural_network.dataset import file_digest
from cellseg.neural_network.hyperparameters import Hyperparameters
from cellseg.neural_network.model_config import ModelConfig
from cellseg.neural_network.model_folder import ModelFolder
from cellseg.preprocessing.augmentation import Augmentation


def run_settings(
    request,
    hyperparameters: Hyperparameters,
    augmentation: Augmentation,
    training_pairs,
    validation_pairs,
) -> dict:
    """Every setting that makes two runs the same run (resuming needs all of them equal)."""

    def user_file(path):
        return None if path is None else {"path": str(path), "sha256": file_digest(path)}

    files = [
        {
            "image": pair.image.name,
            "image_sha256": file_digest(pair.image),
            "annotation": pair.annotation.name,
            "annotation_sha256": file_digest(pair.annotation),
            "split": split,
        }
        for split, group in (("training", training_pairs), ("validation", validation_pairs))
        for pair in group
    ]
    return {
        "seed": request.seed,
        "hyperparameters": hyperparameters.to_dict(),
        "augmentation": augmentation.__dict__,
        "loss_file": user_file(request.loss_file),
        "architecture_file": user_file(request.architecture_file),
        "outline_style": request.outline_style.__dict__,
        "data": {
            "images": str(Path(request.images).resolve()),
            "annotations": str(Path(request.annotations).resolve()),
            "files": files,
        },
    }


def training_augmentation(hyperparameters: Hyperparameters) -> Augmentation:
    """How the training tiles of a run with these hyperparameters are varied."""
    return Augmentation(
        strength=hyperparameters.augmentation,
        scale=hyperparameters.zoom,
        stain=hyperparameters.stain,
        pale=hyperparameters.pale,
        dab=hyperparameters.dab,
        blur=hyperparameters.blur,
        noise=hyperparameters.noise,
        rotation=hyperparameters.rotation,
        elastic=hyperparameters.elastic,
        crowded=hyperparameters.crowded,
    )


def start_or_resume(folder: ModelFolder, request, settings: dict) -> ModelConfig:
    """The configuration to train with: a fresh one, or the unfinished run's to resume.

    A run that has not finished an epoch yet (killed while its data were prepared, or
    stopped by a bad annotation) is taken up again with the same settings, its converted
    annotations reused, and replaced with other settings: it holds nothing to keep.
    """
    if folder.is_abandoned():
        shutil.rmtree(folder.path)
    if folder.path.exists() and request.restart:
        if not folder.config_path.is_file():
            raise CellsegError(
                f"{folder.path}: exists but is no cellseg model folder; not deleting it"
            )
        shutil.rmtree(folder.path)
    if folder.path.exists():
        config = folder.read_config()
        if config.status == "finished":
            raise CellsegError(
                f"{folder.path}: a trained model of this name exists; choose another --name, "
                "or pass --restart to train it again from scratch"
            )
        recorded = _without_places(_with_defaults(dict(config.training or {})))
        wanted = _without_places(settings)
        changed = [key for key in wanted if recorded.get(key) != wanted[key]]
        if config.target != request.target:
            changed.insert(0, "target")
        if not changed:
            return config.with_changes(training=settings)  # where the same files are now
        if folder.read_state() is not None:
            raise CellsegError(
                f"{folder.path}: an unfinished run with other settings ({', '.join(changed)}) "
                "exists; pass --restart to start over, or choose another --name"
            )
        shutil.rmtree(folder.path)  # no epoch finished: nothing to keep
    config = ModelConfig(
        target=request.target,
        name=request.name,
        status="training",
        training=settings,
        distribute=request.distribute,
        libraries=_library_versions(),
    )
    folder.create(config)
    return config


def _with_defaults(settings: dict) -> dict:
    """Recorded settings with the hyperparameters and augmentation a run's version did not
    have yet set to their defaults. A new setting's default does what earlier versions did
    (`CROWDED` 0 cuts the tiles they cut), so an unfinished run of an earlier version is
    the same run as one asking for that default now, and resumes."""
    settings = copy.deepcopy(settings)
    default = Hyperparameters()
    defaults = {
        "hyperparameters": default.to_dict(),
        "augmentation": training_augmentation(default).__dict__,
    }
    for key, values in defaults.items():
        if isinstance(settings.get(key), dict):
            settings[key] = {**values, **settings[key]}
    return settings


def _without_places(settings: dict) -> dict:
    """Settings less the folders and paths the files were read from: the same files (by
    name and content) moved elsewhere, a copied data set or loss file, make the same run."""
    settings = copy.deepcopy(settings)
    for key in ("loss_file", "architecture_file"):
        if isinstance(settings.get(key), dict):
            settings[key].pop("path", None)
    if isinstance(settings.get("data"), dict):
        settings["data"].pop("images", None)
        settings["data"].pop("annotations", None)
    return settings


def _library_versions() -> dict:
    import keras
    import scipy
    import skimage

    backend = keras.backend.backend()
    backend_module = importlib.import_module(backend)
    return {
        "cellseg": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-image": skimage.__version__,
        backend: backend_module.__version__,
        "keras": keras.__version__,
    }
