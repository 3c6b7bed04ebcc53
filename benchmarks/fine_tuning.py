"""Fine-tuning a shipped model on a few annotated images (`cellseg train --from`), against
the model unchanged and against training from scratch on the same images.

On image sets that the starting model (``--parent``, the shipped ``default``) never saw,
each split once, by a fixed draw, into test images and a pool to train on:

- ``brightfield``: Data Science Bowl 2018's stained brightfield tissue
  (`held_out.brightfield_tissue_pairs`, 50 images of 256 x 320 pixels);
- ``fluorescence``: its fluorescence images of 520 x 696 pixels (47 images of one imaging
  set-up, about 110 nuclei each), grey, where an H&E model finds little.

For each K of ``--shots`` and each seed, K images are drawn from the pool (the seed's own
draw; K = 1, 3 and 10 nested), and two models trained on them with ``cellseg train``:
fine-tuned (``--from PARENT`` and no hyperparameters file: the fine-tuning defaults), and
from scratch with the parent's own recipe (its recorded hyperparameters) for the same
epochs and steps as the fine-tuning, so that both take the same time (the minutes column
shows it). A from-scratch model on the whole pool (``--full-epochs`` epochs of
``--full-steps`` steps) gives the ceiling. Every model, and the parent unchanged, is
scored on the test images as ``cellseg predict`` finds their cells (``--scale auto``;
``--scale 1`` for the images as they are): AJI, F1 at IoU 0.5 and the count's relative
error, means over the images. The spread is half the range over the seeds.

    python benchmarks/fine_tuning.py --work DIR [--sets brightfield fluorescence] \\
        [--shots 1 3 10] [--seeds 0 1] [--full-epochs 40] [--full-steps 60] [--no-full]
    python benchmarks/fine_tuning.py --work DIR --timing K

``--timing K`` times instead the whole ``cellseg train --from PARENT`` command, with no
hyperparameters file, on K of MoNuSeg's 1000 x 1000 H&E images annotated as red outline
layers (what a user's fine-tuning on images of about a megapixel costs; the scores of
that model mean nothing, since the default learned on those images).

Models, logs and scores stay in DIR (``results.json``): run again, it trains and scores
only what is missing, so a reduced configuration can be run first and extended later.
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DSB2018 = ROOT.parent / "shared" / "datasets" / "dsb2018" / "train"
SETS = ("brightfield", "fluorescence")
#: The fluorescence images of one set-up: this size in rows and columns, grey.
FLUORESCENCE_SHAPE = (520, 696)
#: The draw that splits each set into test images and the pool to train on.
SPLIT_SEED = 1234
SHOWN = ("aji", "f1", "count_error")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, metavar="DIR")
    parser.add_argument("--parent", default="default", help="the model to fine-tune (default)")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--shots", nargs="+", type=int, default=[1, 3, 10], metavar="K")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--test-images", type=int, default=20, metavar="N")
    parser.add_argument("--full-epochs", type=int, default=40)
    parser.add_argument("--full-steps", type=int, default=60)
    parser.add_argument("--no-full", action="store_true", help="skip the whole-pool models")
    parser.add_argument("--timing", type=int, metavar="K", help="only time K 1-MP images")
    parser.add_argument(
        "--scale",
        default="auto",
        help="the scale the test images are predicted at (auto, as predict; or a number: "
        "its scores go to results-scale-N.json, the models trained once for both)",
    )
    arguments = parser.parse_args()

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()
    arguments.work.mkdir(parents=True, exist_ok=True)
    if arguments.timing:
        time_megapixel_images(arguments)
        return
    scale = "auto" if arguments.scale == "auto" else float(arguments.scale)
    name = "results.json" if scale == "auto" else f"results-scale-{scale:g}.json"
    results = Results(arguments.work / name, scale)
    for name in arguments.sets:
        test, pool = split(image_set(name), arguments.test_images)
        print(f"{name}: {len(test)} test images, a pool of {len(pool)}", flush=True)
        results.score(f"{name}/unchanged", arguments.parent, test, minutes=None)
        for seed in arguments.seeds:
            drawn = [pool[index] for index in np.random.default_rng(seed).permutation(len(pool))]
            for shots in sorted(arguments.shots):
                benchmark_shots(arguments, results, name, drawn[:shots], seed, test)
        if not arguments.no_full:
            full = f"{name}-all-scratch"
            folder = data_folder(arguments.work, full, pool)
            steps = (arguments.full_epochs, arguments.full_steps)
            minutes = train(arguments, full, folder, seed=0, parent=None, schedule=steps)
            results.score(f"{name}/all/scratch", arguments.work / "models" / full, test, minutes)
    report(results.rows, arguments.parent)


def benchmark_shots(arguments, results, name: str, pairs, seed: int, test) -> None:
    """Fine-tune the parent on ``pairs``, and train from scratch on them in as long."""
    shots = len(pairs)
    folder = data_folder(arguments.work, f"{name}-k{shots}-s{seed}", pairs)
    schedule = None
    for kind, parent in (("fine-tuned", arguments.parent), ("scratch", None)):
        model = f"{name}-k{shots}-s{seed}-{kind}"
        minutes = train(arguments, model, folder, seed=seed, parent=parent, schedule=schedule)
        key = f"{name}/{shots}/{seed}/{kind}"
        results.score(key, arguments.work / "models" / model, test, minutes)
        schedule = fine_tuning_schedule(arguments.work / "models" / model, folder)


def fine_tuning_schedule(model: Path, data: Path) -> tuple[int, int]:
    """The epochs and steps per epoch a fine-tuning run took: its training images' pixels
    (`cellseg.neural_network.hyperparameters.epoch_steps`) with its hyperparameters."""
    from cellseg.image_io import read_image_shape
    from cellseg.neural_network.hyperparameters import Hyperparameters, epoch_steps
    from cellseg.neural_network.model_folder import ModelFolder

    config = ModelFolder(model).read_config()
    hyperparameters = Hyperparameters(**config.training["hyperparameters"])
    pixels = sum(
        int(np.prod(read_image_shape(data / "images" / entry["image"])[:2]))
        for entry in config.training_files
        if entry["split"] == "training"
    )
    return hyperparameters.epochs, epoch_steps(hyperparameters, pixels, fine_tuning=True)


def time_megapixel_images(arguments) -> None:
    """The minutes fine-tuning takes, with its defaults, on ``--timing`` 1-MP images."""
    from held_out import MONUSEG

    shots = arguments.timing
    images = sorted((MONUSEG / "images").glob("*.png"))[:shots]
    pairs = [(path, MONUSEG / "outlines" / path.name) for path in images]
    folder = data_folder(arguments.work, f"timing-k{shots}", pairs)
    name = f"timing-k{shots}"
    minutes = train(arguments, name, folder, seed=0, parent=arguments.parent, schedule=None)
    print(
        f"cellseg train --from {arguments.parent} on {shots} MoNuSeg images of 1000 x 1000 "
        f"pixels, no hyperparameters file: {minutes} minutes, the whole command "
        f"(log: {arguments.work / f'{name}.log'})"
    )


def image_set(name: str) -> list[tuple[Path, Path]]:
    """The (image, labels) pairs of one of `SETS`."""
    from held_out import brightfield_tissue_pairs

    from cellseg.image_io import read_image

    if name == "brightfield":
        return brightfield_tissue_pairs(DSB2018)
    pairs = []
    for path in sorted((DSB2018 / "images").glob("*.png")):
        image = read_image(path)
        grey = image.ndim == 2 or np.ptp(image[..., :3].astype(int), axis=-1).mean() < 2
        if image.shape[:2] == FLUORESCENCE_SHAPE and grey:
            pairs.append((path, DSB2018 / "labels" / path.name))
    if not pairs:
        sys.exit(f"fine_tuning.py: {DSB2018}: no fluorescence images of {FLUORESCENCE_SHAPE}")
    return pairs


def split(pairs, test_images: int):
    """Test images and the pool, by the fixed draw `SPLIT_SEED`."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(pairs))
    shuffled = [pairs[index] for index in order]
    return shuffled[:test_images], shuffled[test_images:]


def data_folder(work: Path, name: str, pairs) -> Path:
    """A folder of ``images/`` and ``labels/`` holding copies of ``pairs``."""
    folder = work / "data" / name
    for image, labels in pairs:
        for source, kind in ((image, "images"), (labels, "labels")):
            (folder / kind).mkdir(parents=True, exist_ok=True)
            if not (folder / kind / source.name).is_file():
                shutil.copyfile(source, folder / kind / source.name)
    return folder


def train(arguments, name: str, data: Path, *, seed: int, parent, schedule) -> float | None:
    """Train one model with ``cellseg train`` (skipped when finished); its minutes."""
    from cellseg.neural_network.model_folder import ModelFolder

    models = arguments.work / "models"
    folder = ModelFolder(models / name)
    log = arguments.work / f"{name}.log"
    if folder.config_path.is_file() and folder.read_config().status == "finished":
        return json.loads((arguments.work / f"{name}.time").read_text())["minutes"]
    command = [sys.executable, "-m", "cellseg", "train", "--name", name, "--seed", str(seed)]
    command += ["--images", str(data / "images"), "--annotations", str(data / "labels")]
    command += ["--models-dir", str(models)]
    if parent is not None:
        command += ["--from", str(parent)]
    else:
        recipe = scratch_recipe(arguments.parent, *schedule)
        path = arguments.work / f"{name}-hyperparameters.py"
        path.write_text(recipe)
        command += ["--hyperparameters", str(path)]
    print(f"  training {name}", flush=True)
    started = time.perf_counter()
    with log.open("w") as output:
        done = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        sys.exit(f"fine_tuning.py: training {name} failed; see {log}")
    minutes = round((time.perf_counter() - started) / 60, 2)
    (arguments.work / f"{name}.time").write_text(json.dumps({"minutes": minutes}))
    return minutes


def scratch_recipe(parent: str, epochs: int, steps: int) -> str:
    """A hyperparameters file of the parent's own recipe, for ``epochs`` of ``steps``."""
    from dataclasses import replace

    from cellseg.neural_network.hyperparameters import DEFINITIONS
    from cellseg.neural_network.runs import Parent

    recipe = replace(
        Parent.load(parent).hyperparameters(),
        epochs=epochs,
        steps_per_epoch=steps,
        validation_split=0.2,
    )
    lines = [f"{item.name} = {getattr(recipe, item.attribute)!r}" for item in DEFINITIONS]
    return "\n".join(lines) + "\n"


class Results:
    """Each model's scores on its set's test images, kept in a JSON file as they come."""

    def __init__(self, path: Path, scale):
        self.path, self.scale = path, scale
        self.rows = json.loads(path.read_text()) if path.is_file() else {}

    def score(self, key: str, model_reference, test, minutes) -> None:
        if key in self.rows:
            return
        from cellseg.image_io import read_image
        from cellseg.metrics import image_scores
        from cellseg.neural_network.evaluation import mean_scores
        from cellseg.neural_network.model import TrainedModel
        from cellseg.preprocessing.colour import as_rgb

        model = TrainedModel.load(model_reference)
        scores = mean_scores(
            [
                image_scores(
                    read_image(labels),
                    model.segment(as_rgb(read_image(image)), scale=self.scale).labels,
                )
                for image, labels in test
            ]
        )
        self.rows[key] = {**{name: scores[name] for name in SHOWN}, "minutes": minutes}
        self.path.write_text(json.dumps(self.rows, indent=1, sort_keys=True) + "\n")
        print(f"  {key}: " + ", ".join(f"{n} {scores[n]:.3f}" for n in SHOWN), flush=True)


def report(rows: dict, parent: str) -> None:
    """The learning curves as a Markdown table per set: mean and spread over the seeds."""
    for name in dict.fromkeys(key.split("/")[0] for key in rows):
        unchanged, full = rows.get(f"{name}/unchanged"), rows.get(f"{name}/all/scratch")
        print(f"\n{name}: {parent} unchanged {_scores(unchanged)}")
        if full:
            print(f"{name}: from scratch on the whole pool {_scores(full)}, {full['minutes']} min")
        print(
            "\n| K | seeds | fine-tuned AJI | F1 | count error | minutes "
            "| from scratch AJI | F1 | count error | minutes |"
        )
        print("| ---: " * 10 + "|")
        shots = sorted({int(key.split("/")[1]) for key in rows if _is_shot(key, name)})
        verdicts = []
        for k in shots:
            cells, seeds = [], set()
            for kind in ("fine-tuned", "scratch"):
                found = _runs(rows, name, k, kind)
                seeds |= set(found)
                cells += [_spread([row[score] for row in found.values()]) for score in SHOWN]
                cells.append(_spread([row["minutes"] for row in found.values()], 1))
            print(f"| {k} | {len(seeds)} | " + " | ".join(cells) + " |")
            verdicts += _verdicts(rows, name, k, unchanged, full)
        print("\n".join(verdicts))


def _is_shot(key: str, name: str) -> bool:
    parts = key.split("/")
    return len(parts) == 4 and parts[0] == name


def _runs(rows: dict, name: str, k: int, kind: str) -> dict:
    """Seed -> scores of the ``kind`` models of K images of set ``name``."""
    return {
        key.split("/")[2]: row
        for key, row in rows.items()
        if _is_shot(key, name) and key.split("/")[1] == str(k) and key.endswith(f"/{kind}")
    }


def _verdicts(rows, name, k, unchanged, full) -> list[str]:
    """Whether the fine-tuned models of K images met the issue's aims, by their mean AJI."""
    tuned = [row["aji"] for row in _runs(rows, name, k, "fine-tuned").values()]
    scratch = [row["aji"] for row in _runs(rows, name, k, "scratch").values()]
    said = []
    if tuned and scratch and unchanged:
        beats = np.mean(tuned) > max(np.mean(scratch), unchanged["aji"])
        said.append(f"K = {k}: fine-tuned beats both on AJI: {'yes' if beats else 'no'}")
    if tuned and full:
        gap = full["aji"] - np.mean(tuned)
        said.append(f"K = {k}: {gap:+.3f} AJI below the whole-pool model (aim: at most 0.05)")
    return said


def _spread(values, digits: int = 3) -> str:
    if not values:
        return "-"
    middle, half = float(np.mean(values)), (max(values) - min(values)) / 2
    return f"{middle:.{digits}f}" + (f" ± {half:.{digits}f}" if len(values) > 1 else "")


def _scores(row) -> str:
    return ", ".join(f"{name} {row[name]:.3f}" for name in SHOWN) if row else "(not run)"


if __name__ == "__main__":
    main()
