"""A trained model is a folder: everything needed to use it, or to resume training it.

trained_models/<name>/
    config.json        every setting, the data with file hashes, normalisation,
                       post-processing thresholds, validation metrics, library versions
                       (`cellseg.neural_network.model_config.ModelConfig`)
    history.csv        one row per finished epoch
    model.keras        the network after the last epoch
    best.keras         the network at its best validation loss (used for prediction)
    checkpoints/       while training: the last finished epoch, to resume after a kill
    cache/             while training: annotations converted to labels
"""

import csv
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

from cellseg.atomic_write import folder_mode, write_text_atomically
from cellseg.errors import CellsegError, file_error
from cellseg.neural_network.model_config import ModelConfig

#: The name of a project's folder of models (``cellseg train`` writes into it).
MODELS_ROOT = Path("trained_models")
#: The environment variable that names the models folder, where set.
MODELS_VARIABLE = "CELLSEG_MODELS"
#: A configuration file larger than this is no model's (its data list is a few KiB).
_LARGEST_CONFIG = 16 * 2**20
#: The most a ``.keras`` archive may unpack to: its weights (a few MB for the default
#: model), and its JSON descriptions, which a network of any size keeps small.
_LARGEST_WEIGHTS = 2**31
_LARGEST_DESCRIPTION = 16 * 2**20


class ModelFolder:
    """The files of one trained (or training) model."""

    def __init__(self, path):
        self.path = Path(path)

    config_path = property(lambda self: self.path / "config.json")
    history_path = property(lambda self: self.path / "history.csv")
    state_path = property(lambda self: self.path / "checkpoints" / "state.json")
    model_path = property(lambda self: self.path / "model.keras")
    best_path = property(lambda self: self.path / "best.keras")
    checkpoints = property(lambda self: self.path / "checkpoints")
    cache = property(lambda self: self.path / "cache")

    @property
    def name(self) -> str:
        return self.path.name

    def read_config(self) -> ModelConfig:
        """The model's configuration, of any cellseg version; a missing or corrupt file, an
        unknown key or a bad value is a one-line error naming the file."""
        if not self.config_path.is_file():
            raise file_error(self.config_path, "missing: this is not a cellseg model folder")
        try:
            if self.config_path.stat().st_size > _LARGEST_CONFIG:
                raise ValueError(f"larger than {_LARGEST_CONFIG // 2**20} MiB")
            values = json.loads(self.config_path.read_text())
        except (ValueError, OSError) as error:
            raise file_error(
                self.config_path, f"unreadable model configuration ({error})"
            ) from None
        try:
            return ModelConfig.from_dict(values)
        except (ValueError, TypeError) as error:
            raise file_error(self.config_path, f"bad model configuration: {error}") from None

    def create(self, config: ModelConfig) -> None:
        """Create the folder holding ``config`` as its ``config.json``, in one step.

        The folder is filled beside its destination and renamed into place, so a folder
        of this name is a model folder from its first byte: a run killed at any moment
        later is recognised, and resumed or replaced with ``--restart``.
        """
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{self.name}.", dir=parent))
            staging.chmod(folder_mode())  # mkdtemp's is private: a lab shares its models
        except OSError as error:
            raise file_error(
                self.path, f"cannot create the model folder ({error.strerror})"
            ) from None
        try:
            ModelFolder(staging).write_config(config)
            if self.path.exists():
                raise file_error(self.path, "exists already")
            staging.rename(self.path)
        except OSError as error:
            raise file_error(
                self.path, f"cannot create the model folder ({error.strerror})"
            ) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def is_abandoned(self) -> bool:
        """Whether the folder is what an earlier version's training left when stopped before
        writing its configuration: no ``config.json``, nothing but its ``cache/`` and
        ``checkpoints/`` folders."""
        if not self.path.is_dir() or self.config_path.exists():
            return False
        return all(entry.name in ("cache", "checkpoints") for entry in self.path.iterdir())

    def write_config(self, config: ModelConfig) -> None:
        """Write ``config.json`` atomically, in the current format."""
        text = json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n"
        write_text_atomically(self.config_path, text, overwrite=True)

    def read_history(self) -> list[dict]:
        """The finished epochs, oldest first, values as floats (``epoch`` as int); a damaged
        file is a one-line error naming it."""
        if not self.history_path.is_file():
            return []
        try:
            rows = list(csv.DictReader(io.StringIO(self.history_path.read_text())))
            return [
                {key: int(value) if key == "epoch" else float(value) for key, value in row.items()}
                for row in rows
            ]
        except (ValueError, TypeError, OSError, UnicodeDecodeError, csv.Error) as error:
            raise file_error(self.history_path, f"unreadable training history ({error})") from None

    def write_history(self, rows: list[dict]) -> None:
        if not rows:
            return
        columns = ["epoch"] + sorted({key for row in rows for key in row} - {"epoch"})
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomically(self.history_path, text.getvalue(), overwrite=True)

    def read_state(self) -> dict | None:
        """What the last finished epoch left to resume from, or None."""
        if not self.state_path.is_file():
            return None
        try:
            return json.loads(self.state_path.read_text())
        except ValueError:
            return None

    def write_state(self, state: dict) -> None:
        write_text_atomically(self.state_path, json.dumps(state, indent=1) + "\n", overwrite=True)

    def prediction_path(self) -> Path:
        """The network to predict with: the best validation checkpoint, else the last."""
        return self.best_path if self.best_path.is_file() else self.model_path


def save_network(model, path) -> None:
    """Save a Keras model's network to ``path`` (``.keras``) atomically, without the
    optimizer's state (twice the weights' size; resuming uses the epoch checkpoints)."""
    import keras

    import cellseg.neural_network.losses  # noqa: F401  registers cellseg's custom objects

    path = Path(path)
    temporary = path.with_name(f".{path.stem}.saving.keras")
    # Rebuilt from its configuration: an uncompiled twin (keras.models.clone_model keeps
    # the optimizer, and with it the optimizer's state in the file), computing in float32.
    network = keras.Model.from_config(float32_config(model.get_config()))
    network.set_weights(model.get_weights())
    try:
        network.save(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def float32_config(config):
    """A Keras configuration with every layer set to compute in float32.

    A network trained under a mixed-precision policy (``PRECISION``) keeps its weights in
    float32 but computes in 16 bits; saved as it is, it would compute so wherever it is
    loaded, emulated and slow on most CPUs. Its float32 twin has the same weights.

    Examples
    --------
    >>> policy = {"class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"}}
    >>> float32_config({"layers": [{"dtype": policy}, {"dtype": "bfloat16"}, {"dtype": "int32"}]})
    {'layers': [{'dtype': 'float32'}, {'dtype': 'float32'}, {'dtype': 'int32'}]}
    """
    if isinstance(config, list):
        return [float32_config(item) for item in config]
    if not isinstance(config, dict):
        return config
    converted = {}
    for key, value in config.items():
        if key == "dtype" and _is_16_bit(value):
            converted[key] = "float32"
        else:
            converted[key] = float32_config(value)
    return converted


def _is_16_bit(dtype) -> bool:
    if isinstance(dtype, dict):  # a serialised DTypePolicy
        dtype = dtype.get("config", {}).get("name")
    return dtype in ("mixed_bfloat16", "mixed_float16", "bfloat16", "float16")


def save_weights(model, path) -> None:
    """Save a model's weights and optimizer state to ``path`` (``.weights.h5``) atomically."""
    path = Path(path)
    temporary = path.with_name(f".{path.name.removesuffix('.weights.h5')}.saving.weights.h5")
    try:
        model.save_weights(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def models_folder(models_root=None) -> Path:
    """The folder of the user's models: ``models_root`` when given (``--models-dir``), else
    the folder the ``CELLSEG_MODELS`` environment variable names, else ``trained_models/``
    in the working folder or in the nearest folder above it that has one (as git finds a
    repository), else ``trained_models/`` in the working folder.
    """
    if models_root is not None:
        return Path(models_root)
    if os.environ.get(MODELS_VARIABLE):
        return Path(os.environ[MODELS_VARIABLE])
    working = Path.cwd()
    for folder in (working, *working.parents):
        if (folder / MODELS_ROOT).is_dir():
            return folder / MODELS_ROOT
    return working / MODELS_ROOT


def resolve_model(reference, *, models_root=None) -> ModelFolder:
    """The model folder that ``reference`` names: a name in the models folder
    (`models_folder`), the name of a model shipped with cellseg (``default``), or a path.

    A plain name is looked up among the models first, so a folder that happens to have
    that name in the working folder never shadows them; the name of a shipped model is
    that model, which a model of that name in the models folder (`train` refuses such
    names now) does not hide; a reference with a folder separator (``./default``,
    ``runs/lab``) is a path.
    """
    root = models_folder(models_root)
    text = str(reference)
    if "/" in text or "\\" in text or text in (".", ".."):
        candidates = [Path(reference)]
    elif text in shipped_names():
        candidates = [bundled_models() / text]
    else:
        candidates = [root / text, bundled_models() / text, Path(reference)]
    for candidate in candidates:
        if candidate.is_dir():
            folder = ModelFolder(candidate)
            folder.read_config()
            return folder
    shipped = ", ".join(path.name for path in shipped_models())
    raise CellsegError(
        f"{reference}: no model of that name in {root.resolve()}/ nor among the models "
        f"shipped with cellseg ({shipped}), and no model folder of that path"
    )


def shipped_names() -> set[str]:
    """The names of the models installed with cellseg, which no trained model may take."""
    return {path.name for path in shipped_models()}


def shipped_models() -> list[Path]:
    """The folders of the models installed with cellseg (``default``)."""
    return [path for path in sorted(bundled_models().iterdir()) if (path / "config.json").is_file()]


def bundled_models() -> Path:
    """The folder of the models installed with cellseg."""
    from importlib.resources import files

    return Path(str(files("cellseg.trained_models")))


def load_network(folder: ModelFolder, path=None):
    """Load the network to predict with, in Keras safe mode (no arbitrary code, no pickles).

    ``path`` loads another network of the folder instead, the same way: ``folder.model_path``,
    the one after the last epoch.

    Raises `CellsegError` naming the file when it is missing, corrupt, or asks for code
    (a Lambda layer, an unknown custom object) that safe mode refuses.
    """
    import keras

    import cellseg.neural_network.losses  # noqa: F401  registers cellseg's custom objects

    path = folder.prediction_path() if path is None else path
    if not path.is_file():
        raise file_error(path, "missing: the model folder holds no trained network")
    check_network_archive(path)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises ValueError, TypeError, OSError, zipfile errors...
        message = " ".join(str(error).split())
        if len(message) > 300:
            message = message[:300] + "..."
        raise file_error(
            path, f"cannot load the network ({type(error).__name__}: {message})"
        ) from None


def check_network_archive(path) -> None:
    """Refuse a ``.keras`` file whose members would unpack to more than a network needs,
    before Keras reads any of them: a small file can hold a "zip bomb".

    Raises
    ------
    CellsegError
        Naming the file, for an archive that is no zip file or whose members declare too
        many bytes.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise file_error(path, f"cannot load the network (not a .keras file: {error})") from None
    total = sum(member.file_size for member in members)
    for member in members:
        limit = _LARGEST_WEIGHTS if member.filename.endswith(".h5") else _LARGEST_DESCRIPTION
        if member.file_size > limit:
            raise file_error(
                path,
                f"its {member.filename} unpacks to {member.file_size:,} bytes, more than the "
                f"{limit:,} a network's may (a damaged or hostile file?)",
            )
    if total > _LARGEST_WEIGHTS:
        raise file_error(path, f"unpacks to {total:,} bytes, more than a network's may")
