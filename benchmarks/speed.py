"""Speed on this machine: prediction per megapixel next to the classical baseline, and
training throughput.

    python benchmarks/speed.py predict [--model NAME_OR_FOLDER] [--sizes 512 1000 2000]
    python benchmarks/speed.py train [--steps 20]

``predict`` times, per image size and after a warm-up, the deep pipeline from an image in
memory to its cells (network, post-processing, per-cell measurements; model loading and
file I/O excluded) against `classical_segmentation` plus the same measurements, on real
H&E tissue from ../shared/datasets/monuseg when present (tiled up to the size), synthetic
tissue otherwise. Each size runs in its own process so that its peak resident memory is
measured alone: the deep pipeline's (it runs first), then both pipelines'. ``--model``
defaults to the bundled ``default`` model; if there is none, an untrained default U-Net
stands in: the network costs the same, but its noisy output makes post-processing slower
than a trained model's, so say so when quoting such figures.

``train`` runs the real training pipeline (tf.data tiles with augmentation, default U-Net,
class-balanced loss) for a number of steps and reports tiles per second.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def test_image(size: int):
    """A size x size RGB image of real H&E tissue (mirrored tiles of one MoNuSeg image)."""
    import numpy as np

    from cellseg.image_io import read_image
    from cellseg.preprocessing.synthetic import synthetic_tissue

    images = sorted((DATASETS / "monuseg" / "train" / "images").glob("*.png"))
    if images:
        tissue = read_image(images[0])
        reps = -(-size // min(tissue.shape[:2]))
        row = np.concatenate([tissue if i % 2 == 0 else tissue[:, ::-1] for i in range(reps)], 1)
        tiled = np.concatenate([row if i % 2 == 0 else row[::-1] for i in range(reps)], 0)
        return tiled[:size, :size], "MoNuSeg H&E"
    return synthetic_tissue((size, size), seed=0)[0], "synthetic"


def predict_one_size(size: int, model_reference: str | None, repeats: int) -> dict:
    """Run in a child process: time both pipelines on one image size."""
    from cellseg.errors import CellsegError
    from cellseg.neural_network.architectures import unet, with_normalisation
    from cellseg.neural_network.model import TrainedModel
    from cellseg.neural_network.model_config import ModelConfig
    from cellseg.postprocessing.classical import classical_segmentation
    from cellseg.postprocessing.measurements import measure_cells

    image, source = test_image(size)
    try:
        model = TrainedModel.load(model_reference)
    except CellsegError:
        if model_reference != "default":
            raise
        network = with_normalisation(unet(), (180.0,) * 3, (40.0,) * 3)
        config = ModelConfig(target="3class", divisor=16)
        model = TrainedModel(network, config, name="untrained U-Net")

    def deep():
        labels = model.segment(image, scale="auto").labels  # as cellseg predict
        measure_cells(image, labels)
        return labels

    def classical():
        labels = classical_segmentation(image)
        measure_cells(image, labels)
        return labels

    row = {"size": size, "source": source, "model": model.name}
    for name, pipeline in (("deep", deep), ("classical", classical)):
        pipeline()  # warm-up: graph tracing, caches
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            labels = pipeline()
            times.append(time.perf_counter() - start)
        row[f"{name}_seconds"] = sorted(times)[len(times) // 2]
        row[f"{name}_cells"] = int(labels.max())
        # The peak so far: after the deep pipeline (run first), its own; after both, theirs.
        row[f"{name}_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row["peak_rss_mb"] = row.pop("classical_peak_rss_mb")
    return row


def benchmark_predict(arguments) -> None:
    print(
        f"{'size':>6} {'source':<12} {'deep s':>7} {'s/MP':>6} {'classical s':>11} "
        f"{'s/MP':>6} {'cells deep/classical':>21} {'peak RSS MB deep/both':>21}"
    )
    for size in arguments.sizes:
        command = [
            sys.executable,
            __file__,
            "predict-one",
            str(size),
            "--repeats",
            str(arguments.repeats),
        ] + (["--model", arguments.model] if arguments.model else [])
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        row = json.loads(output.strip().splitlines()[-1])
        megapixels = size * size / 1e6
        print(
            f"{size:>6} {row['source']:<12} {row['deep_seconds']:>7.2f} "
            f"{row['deep_seconds'] / megapixels:>6.2f} {row['classical_seconds']:>11.2f} "
            f"{row['classical_seconds'] / megapixels:>6.2f} "
            f"{row['deep_cells']:>10}/{row['classical_cells']:<10} "
            f"{row['deep_peak_rss_mb']:>10.0f}/{row['peak_rss_mb']:<10.0f}"
        )


def benchmark_train(arguments) -> None:
    from cellseg.cli import main

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        main(["synth", str(folder / "data"), "--count", "6", "--size", "512"])
        (folder / "hyperparameters.py").write_text(
            f"BATCH_SIZE = {arguments.batch_size}\nEPOCHS = 2\nLEARNING_RATE = 1e-3\n"
            f"VALIDATION_SPLIT = 0.2\nSTEPS_PER_EPOCH = {arguments.steps}\n"
        )
        main(
            [
                "train",
                "--images",
                str(folder / "data" / "images"),
                "--annotations",
                str(folder / "data" / "outlines"),
                "--name",
                "speed",
                "--hyperparameters",
                str(folder / "hyperparameters.py"),
                "--models-dir",
                str(folder / "models"),
            ]
        )
        history = (folder / "models" / "speed" / "history.csv").read_text().splitlines()
        header = history[0].split(",")
        # The second epoch: the first includes tracing the graph.
        seconds = float(history[2].split(",")[header.index("seconds")])
    tiles = arguments.steps * arguments.batch_size
    print(
        f"training: {tiles} tiles of 256 px (batch {arguments.batch_size}) in {seconds:.1f} s "
        f"= {tiles / seconds:.1f} tiles/s (default U-Net, 3-class, augmentation on, "
        f"validation included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict")
    predict.add_argument("--model", default="default")
    predict.add_argument("--sizes", type=int, nargs="+", default=[512, 1000, 2000])
    predict.add_argument("--repeats", type=int, default=3)
    one = commands.add_parser("predict-one")
    one.add_argument("size", type=int)
    one.add_argument("--model", default="default")
    one.add_argument("--repeats", type=int, default=3)
    train = commands.add_parser("train")
    train.add_argument("--steps", type=int, default=20)
    train.add_argument("--batch-size", type=int, default=8)
    arguments = parser.parse_args()
    if arguments.command == "predict":
        benchmark_predict(arguments)
    elif arguments.command == "predict-one":
        print(json.dumps(predict_one_size(arguments.size, arguments.model, arguments.repeats)))
    else:
        benchmark_train(arguments)


if __name__ == "__main__":
    main()
