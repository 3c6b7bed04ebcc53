"""The default model's recipe at several network widths, trained side by side.

Each width is one `cellseg train` run with the default hyperparameters
(scripts/default_model/hyperparameters.py) except BASE_FILTERS and EPOCHS, pinned to its
share of this process's CPU cores, where its worker processes cut the training tiles. On a
GPU machine the runs share the GPU; with Keras' JAX or PyTorch backend (KERAS_BACKEND) no
TensorFlow is needed there. Each run ends as `cellseg train` does, with thresholds tuned
on its validation images; the table compares those validation scores. Score held-out
images afterwards with `cellseg evaluate MODELS_DIR/width-N`.

    python benchmarks/train_widths.py --images DIR --annotations DIR --models-dir DIR \\
        [--widths 8 32] (--epochs N | --seconds S)

``--seconds S`` chooses the epochs so that the tiles take about S seconds to cut, from the
rate measured on one share of the cores for a few seconds first (the network's own time
is not counted: on a CPU use --epochs).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "scripts" / "default_model" / "hyperparameters.py"
SHOWN = ("aji", "f1", "panoptic_quality", "dice", "count_error", "merged", "split")
COUNTS = ("merged", "split")  # cells per image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--annotations", type=Path, required=True)
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--widths", type=int, nargs="+", default=[8, 32])
    budget = parser.add_mutually_exclusive_group(required=True)
    budget.add_argument("--epochs", type=int)
    budget.add_argument("--seconds", type=float)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()

    from cellseg.neural_network.model_folder import ModelFolder

    cores = sorted(os.sched_getaffinity(0))
    share = len(cores) // len(arguments.widths)
    if share < 1:
        parser.error(f"{len(arguments.widths)} widths need at least as many CPU cores")
    shares = [cores[index * share : (index + 1) * share] for index in range(len(arguments.widths))]
    epochs = arguments.epochs or epochs_for(arguments, shares[0])
    arguments.models_dir.mkdir(parents=True, exist_ok=True)

    runs = []
    started = time.perf_counter()
    for width, cpus in zip(arguments.widths, shares, strict=True):
        name = f"width-{width}"
        hyperparameters = arguments.models_dir / f"{name}-hyperparameters.py"
        hyperparameters.write_text(
            RECIPE.read_text() + f"\n# {Path(__file__).name}\nBASE_FILTERS = {width}\n"
            f"EPOCHS = {epochs}\n"
        )
        command = [
            *(sys.executable, "-m", "cellseg", "train"),
            *("--images", str(arguments.images), "--annotations", str(arguments.annotations)),
            *("--name", name, "--models-dir", str(arguments.models_dir)),
            *("--hyperparameters", str(hyperparameters), "--seed", str(arguments.seed)),
        ]
        log = (arguments.models_dir / f"{name}.log").open("w")
        environment = {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            preexec_fn=lambda cpus=cpus: os.sched_setaffinity(0, cpus),
        )
        runs.append((width, name, process))
        print(f"{name}: {epochs} epochs on CPU cores {cpus[0]}-{cpus[-1]}", flush=True)

    print("| width | epochs | minutes | " + " | ".join(SHOWN) + " |")
    print("|" + " --- |" * (3 + len(SHOWN)))
    for width, name, process in runs:
        process.wait()
        minutes = (time.perf_counter() - started) / 60
        folder = ModelFolder(arguments.models_dir / name)
        scores = folder.read_config().validation if folder.config_path.is_file() else None
        if process.returncode or not scores:
            print(f"| {width} | {epochs} | {minutes:.1f} | failed: see {name}.log |")
            continue
        cells = " | ".join(f"{scores[key]:.{1 if key in COUNTS else 3}f}" for key in SHOWN)
        print(f"| {width} | {epochs} | {minutes:.1f} | {cells} |", flush=True)


def epochs_for(arguments, cpus: list[int]) -> int:
    """Epochs whose tiles one share of the cores cuts in about ``arguments.seconds``."""
    from cellseg.neural_network.dataset import pair_by_stem, prepare, training_dataset
    from cellseg.neural_network.runs import training_augmentation
    from cellseg.neural_network.user_files import load_hyperparameters_file

    recipe = load_hyperparameters_file(RECIPE)
    all_cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)  # measure as one run will cut its tiles
    with tempfile.TemporaryDirectory() as cache:
        pairs = pair_by_stem(arguments.images, arguments.annotations)
        prepared, _ = prepare(pairs, Path(cache), target="3class")
        batches = training_dataset(
            prepared,
            target="3class",
            tile=recipe.tile_size,
            batch_size=recipe.batch_size,
            augmentation=training_augmentation(recipe),
            seed=arguments.seed,
            steps_per_epoch=recipe.steps_per_epoch,
            first_epoch=0,
            epochs=recipe.epochs,
        )
        rate = tiles_per_second(batches, warm_up=len(cpus), seconds=8)
    os.sched_setaffinity(0, all_cores)
    per_epoch = recipe.steps_per_epoch * recipe.batch_size
    epochs = max(1, int(arguments.seconds * rate / per_epoch))
    print(f"{rate:.0f} tiles/s on {len(cpus)} cores: {epochs} epochs in {arguments.seconds:.0f} s")
    return epochs


def tiles_per_second(batches, *, warm_up: int, seconds: float) -> float:
    """How fast ``batches`` come, read as Keras reads them (with its worker processes).

    The first ``warm_up`` batches (the workers' start-up and first decoding) are not timed.
    """
    import keras

    class Timer(keras.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            if batch + 1 == warm_up:
                self.start, self.tiles = time.perf_counter(), 0
            elif batch + 1 > warm_up:
                self.tiles += len(logs["outputs"])
                if time.perf_counter() - self.start >= seconds:
                    self.model.stop_predicting = True

    class TileCount(keras.Model):
        def predict_step(self, data):
            return keras.ops.zeros(keras.ops.shape(data[0])[:1])  # one number per tile

    timer = Timer()
    TileCount().predict(batches, verbose=0, callbacks=[timer])
    return timer.tiles / (time.perf_counter() - timer.start)


if __name__ == "__main__":
    main()
