"""Score ``cellseg labels`` (red outlines to cells) on real annotations against exact labels.

For every set in DATASETS (default ../shared/datasets): mean AJI on the clean outlines and
with 2.5% of the outline pixels knocked out at random (seed 0), the mean relative error of
the cell count, and the time per image on this machine.

    python benchmarks/outline_conversion.py [DATASETS] [--sets monuseg dsb2018 isbi2012]
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from cellseg.image_io import read_image
from cellseg.metrics import aggregated_jaccard_index, count_objects
from cellseg.preprocessing.outlines import OpenOutlineWarning, outline_mask, outlines_to_labels
from cellseg.preprocessing.synthetic import knock_out_pixels

DEFAULT_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def score_set(folder: Path, gap_fraction: float) -> dict:
    clean, gaps, count_errors, seconds = [], [], [], []
    for path in sorted((folder / "labels").glob("*.png")):
        truth = read_image(path)
        outline = outline_mask(read_image(folder / "outlines" / path.name))
        start = time.perf_counter()
        found = outlines_to_labels(outline)
        seconds.append(time.perf_counter() - start)
        clean.append(aggregated_jaccard_index(truth, found))
        knocked = outlines_to_labels(knock_out_pixels(outline, gap_fraction))
        gaps.append(aggregated_jaccard_index(truth, knocked))
        drawn = count_objects(truth)
        count_errors.append(abs(count_objects(found) - drawn) / max(drawn, 1))
    return {
        "images": len(clean),
        "aji_clean": np.mean(clean),
        "aji_gaps": np.mean(gaps),
        "count_error": np.mean(count_errors),
        "seconds": np.mean(seconds),
    }


def main() -> None:
    # Knocking pixels out opens some outlines on purpose: that they are left out is measured.
    warnings.simplefilter("ignore", OpenOutlineWarning)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="?", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--sets", nargs="+", default=["monuseg", "dsb2018", "isbi2012"])
    parser.add_argument("--gaps", type=float, default=0.025, help="fraction knocked out")
    arguments = parser.parse_args()
    print(
        f"{'set':<10} {'images':>6} {'AJI clean':>10} {'AJI gaps':>9} "
        f"{'count err':>9} {'s/image':>8}"
    )
    for name in arguments.sets:
        row = score_set(arguments.datasets / name / "train", arguments.gaps)
        print(
            f"{name:<10} {row['images']:>6} {row['aji_clean']:>10.4f} {row['aji_gaps']:>9.4f} "
            f"{row['count_error']:>9.2%} {row['seconds']:>8.3f}"
        )


if __name__ == "__main__":
    main()
