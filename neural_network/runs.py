"""What makes two training runs the same run, and starting a fresh one or resuming it.

`run_settings` gathers every setting of a run (data by name and SHA-256, hyperparameters,
augmentation, seed, the users' files, the parent model fine-tuned); `start_or_resume`
creates the model folder, or resumes the unfinished run in it when those settings agree,
wherever the files now are. `Parent` is the model a run fine-tunes (``--from``), and
`run_hyperparameters` what a run trains with, fine-tuning or not.
"""

import copy
import importlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cellseg import __version__
from cellseg.errors import CellsegError, file_error
from cellseg.neural_network.hyperparameter_checks import hyperparameters_from_names
from cellseg.neural_network.hyperparameters import Hyperparameters, fine_tuning_hyperparameters
from cellseg.neural_network.label_cache import file_digest
from cellseg.neural_network.model_config import ModelConfig
from cellseg.neural_network.model_folder import ModelFolder, resolve_model
from cellseg.neural_network.user_files import (
    hyperparameter_names,
    load_hyperparameters_file,
    load_python_file,
)
from cellseg.preprocessing.augmentation import Augmentation

#: Each field of `Augmentation` that a hyperparameter sets, and that hyperparameter's field.
AUGMENTED = {
    "strength": "augmentation",
    "scale": "zoom",
    **{name: name for name in ("stain", "pale", "dab", "blur", "noise", "rotation")},
    **{name: name for name in ("elastic", "crowded")},
}


@dataclass(frozen=True)
class Parent:
    """The model a run fine-tunes (``cellseg train --from``): its folder, configuration and
    the SHA-256 of the network it predicts with, which the run starts from."""

    folder: ModelFolder
    config: ModelConfig
    sha256: str

    @classmethod
    def load(cls, reference, *, models_root=None) -> "Parent":
        """The model ``reference`` names, found as `TrainedModel.load` finds it; one that
        is unfinished or holds no network is refused with one line naming it."""
        try:
            folder = resolve_model(reference, models_root=models_root)
            config = folder.read_config()
        except CellsegError as error:
            raise CellsegError(f"--from {error}") from None
        if config.status != "finished":
            raise CellsegError(
                f"--from {reference}: {folder.path} is an unfinished run; finish it (run its "
                "training command again) before fine-tuning it"
            )
        network = folder.prediction_path()
        if not network.is_file():
            raise file_error(network, "missing: the model to fine-tune holds no network")
        return cls(folder, config, file_digest(network))

    @property
    def name(self) -> str:
        return self.folder.name

    def identity(self) -> dict:
        """What a run's settings record of it: its name and its network's SHA-256."""
        return {"name": self.name, "sha256": self.sha256}

    def record(self) -> dict:
        """What the fine-tuned model's ``config.json`` records of it (`ModelConfig.parent`):
        its identity, folder and whole configuration (with its own parent, if any)."""
        return {
            **self.identity(),
            "folder": str(self.folder.path.resolve()),
            "config": self.config.to_dict(),
        }

    def hyperparameters(self) -> Hyperparameters:
        """The hyperparameters it was trained with, as its training record has them: the
        augmentation record fills those an older version did not record, its names
        unrecorded take their defaults, and the test-time flips are those it predicts with."""
        training = self.config.training or {}
        recorded = dict(training.get("hyperparameters") or {})
        augmentation = training.get("augmentation") or {}
        for name, attribute in AUGMENTED.items():
            if name in augmentation:
                recorded.setdefault(attribute, augmentation[name])
        recorded["test_time_flips"] = self.config.test_time_flips
        return Hyperparameters.from_dict(recorded)

    def check(self, request, hyperparameters: Hyperparameters) -> None:
        """Refuse, in one line, what fine-tuning this model cannot do for ``request``
        (a `TrainingRequest`) with these hyperparameters."""
        name, target = self.name, self.config.target
        if request.architecture_file is not None:
            raise CellsegError(
                f"--architecture {request.architecture_file}: fine-tuning (--from) keeps the "
                f"network of {name}; leave --architecture out"
            )
        if request.target != target:
            raise CellsegError(
                f"--target {request.target}: {name} learned the {target} target, which "
                "fine-tuning (--from) keeps; leave --target out"
            )
        if (Path(request.models_root) / request.name).resolve() == self.folder.path.resolve():
            raise CellsegError(
                f"--name {request.name}: that is the model to fine-tune (--from); the new "
                "model needs a name of its own"
            )
        divisor, tile = self.config.divisor, hyperparameters.tile_size
        if tile % divisor:
            where = request.hyperparameters_file or f"{name}'s hyperparameters"
            raise CellsegError(
                f"{where}: TILE_SIZE must be a multiple of {divisor} (the network of {name} "
                f"halves its input that often), not {tile}"
            )

    def scores_on(self, images, truths) -> dict:
        """Its mean scores on annotated images (`cellseg.metrics.image_scores`), as it
        is, with its own thresholds, at the images' own scale."""
        from cellseg.metrics import image_scores, without_undefined
        from cellseg.neural_network.evaluation import mean_scores
        from cellseg.neural_network.model import TrainedModel

        model = TrainedModel.from_folder(self.folder)
        return mean_scores(
            [
                without_undefined(image_scores(truth, model.cells_from_output(model.output(image))))
                for image, truth in zip(images, truths, strict=True)
            ]
        )


def run_hyperparameters(path, parent: Parent | None) -> Hyperparameters:
    """What a run trains with: the hyperparameters file's values (``path``, None for no
    file), the names it leaves out at their defaults or, fine-tuning ``parent``, at their
    fine-tuning values (`fine_tuning_hyperparameters` of the parent's)."""
    if parent is None:
        return Hyperparameters() if path is None else load_hyperparameters_file(path)
    defaults = fine_tuning_hyperparameters(parent.hyperparameters())
    if path is None:
        return defaults
    module = load_python_file(path, role="hyperparameters")
    hyperparameters, problems = hyperparameters_from_names(
        hyperparameter_names(module), defaults=defaults
    )
    if problems:
        raise file_error(path, "; ".join(problems))
    return hyperparameters


def run_settings(
    request,
    hyperparameters: Hyperparameters,
    augmentation: Augmentation,
    training_pairs,
    validation_pairs,
    parent: Parent | None = None,
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
        "parent": None if parent is None else parent.identity(),
        "data": {
            "images": str(Path(request.images).resolve()),
            "annotations": str(Path(request.annotations).resolve()),
            "files": files,
        },
    }


def training_augmentation(hyperparameters: Hyperparameters) -> Augmentation:
    """How the training tiles of a run with these hyperparameters are varied."""
    return Augmentation(
        **{name: getattr(hyperparameters, attribute) for name, attribute in AUGMENTED.items()}
    )


def start_or_resume(
    folder: ModelFolder, request, settings: dict, parent: Parent | None = None
) -> ModelConfig:
    """The configuration to train with: a fresh one, or the unfinished run's to resume, or
    the finished run's when it is the same run (status ``finished``: nothing to train).

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
        changed = _changed_settings(config, request, settings)
        if config.status == "finished":
            if not changed:
                return config  # the same run, finished: kept as it is
            raise CellsegError(
                f"{folder.path}: a model of this name was trained with other settings "
                f"({', '.join(changed)}); choose another --name, or pass --restart to train "
                "it again from scratch"
            )
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
        parent=None if parent is None else parent.record(),
        libraries=_library_versions(),
    )
    folder.create(config)
    return config


def finished_run(folder: ModelFolder, request, settings: dict) -> ModelConfig | None:
    """The configuration of the finished run in ``folder`` when it is this run (the same
    command run again: nothing to check or train), else None."""
    if request.restart or not folder.config_path.is_file():
        return None
    try:
        config = folder.read_config()
    except CellsegError:
        return None  # `start_or_resume` says what is wrong with it
    if config.status != "finished" or _changed_settings(config, request, settings):
        return None
    return config


def _changed_settings(config: ModelConfig, request, settings: dict) -> list[str]:
    """The settings of the run ``config`` records that ``request`` and ``settings`` change."""
    recorded = _without_places(_with_defaults(dict(config.training or {})))
    wanted = _without_places(settings)
    changed = [key for key in wanted if recorded.get(key) != wanted[key]]
    return (["target"] if config.target != request.target else []) + changed


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
