"""Seconds per training step of the default model's network, float32 against bfloat16.

Keras' ``mixed_bfloat16`` policy computes in bfloat16 and keeps the weights in float32.
CPUs with bfloat16 instructions (``avx512_bf16`` or AMX in ``/proc/cpuinfo``) may run it
faster; others emulate it, much slower. Each policy is timed in its own process, in turn,
``--runs`` times: one batch of the default recipe (8 random 256 x 256 tiles) through the
U-Net of scripts/default_model/hyperparameters.py, Adam, categorical cross-entropy. The
median of the runs is printed per policy. Only speed: whether a model trained so scores
as well needs a full training run.

    python benchmarks/train_step_precision.py [--policies float32 mixed_bfloat16] [--runs 3]
"""

import argparse
import statistics
import subprocess
import sys
import time

WARM_UP_STEPS = 3


def time_steps(policy: str, steps: int, base_filters: int, depth: int) -> float:
    """Mean seconds per step of ``steps`` training steps, after a warm-up, in this process."""
    import numpy as np

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()
    import keras

    from cellseg.neural_network.architectures import unet

    keras.mixed_precision.set_global_policy(policy)
    model = unet((256, 256, 3), base_filters=base_filters, depth=depth)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    tiles = rng.uniform(-2, 2, size=(8, 256, 256, 3)).astype("float32")
    classes = np.eye(3, dtype="float32")[rng.integers(0, 3, size=(8, 256, 256))]
    for _ in range(WARM_UP_STEPS):
        model.train_on_batch(tiles, classes)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(tiles, classes)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", nargs="+", default=["float32", "mixed_bfloat16"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--base-filters", type=int, default=8)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--one", metavar="POLICY", help=argparse.SUPPRESS)  # a child process
    arguments = parser.parse_args()
    if arguments.one:
        print(time_steps(arguments.one, arguments.steps, arguments.base_filters, arguments.depth))
        return
    times = {policy: [] for policy in arguments.policies}
    for run in range(arguments.runs):
        for policy in arguments.policies:
            command = [
                sys.executable,
                __file__,
                "--one",
                policy,
                "--steps",
                str(arguments.steps),
                "--base-filters",
                str(arguments.base_filters),
                "--depth",
                str(arguments.depth),
            ]
            child = subprocess.run(command, capture_output=True, text=True)
            if child.returncode != 0:
                reason = (child.stderr.strip().splitlines() or ["no message"])[-1]
                sys.exit(f"train_step_precision.py: policy {policy!r}: {reason}")
            times[policy].append(float(child.stdout.split()[-1]))
            print(f"run {run + 1}: {policy} {times[policy][-1]:.3f} s per step", flush=True)
    reference = statistics.median(times[arguments.policies[0]])
    print(f"\n{'policy':<16} {'s/step':>7} {'spread':>13} {'speed-up':>8}")
    for policy, values in times.items():
        median = statistics.median(values)
        print(
            f"{policy:<16} {median:>7.3f} {min(values):>6.3f}-{max(values):<6.3f} "
            f"{reference / median:>8.2f}"
        )


if __name__ == "__main__":
    main()
