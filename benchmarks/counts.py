"""How well a model counts: per-image count errors, the cells' confidence and the count's
interval, on held-out whole images of two sources, found as `cellseg predict` finds them.

    python benchmarks/counts.py [--model default] [--sources monuseg dsb] [--scale auto]

Sources: ``monuseg``, the MoNuSeg images held out from the default model's training
(scripts/default_model/held_out_images.txt); ``dsb``, the stained brightfield tissue of the
Data Science Bowl 2018 (`held_out.brightfield_tissue_pairs`), which no shipped model trained
on. For each image: cells found and drawn, the relative count error, AJI and F1 at IoU 0.5,
the expected number of real nuclei among the cells found (the sum of their confidences), and
the count's 95% interval of the nuclei in the image (`count_interval`, widened by the model's
``count_spread``, measured on its validation images). Per source: the mean absolute count
error, mean AJI and F1, the calibration error of the cells' confidence (10 bins, every cell
of the source pooled), and on how many images the interval holds the number of nuclei drawn,
and the number of real nuclei found (`real_cells`).
"""

import argparse

import numpy as np
from held_out import brightfield_tissue_pairs, held_out_pairs, load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument(
        "--sources", nargs="+", choices=("monuseg", "dsb"), default=["monuseg", "dsb"]
    )
    parser.add_argument("--scale", default="auto", help="as cellseg predict's (auto)")
    parser.add_argument("--quiet", action="store_true", help="the summary lines only")
    arguments = parser.parse_args()

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    from cellseg.image_io import read_image
    from cellseg.metrics import image_scores
    from cellseg.postprocessing.confidence import calibration_error, count_interval, real_cells

    model = load_model(arguments.model)
    scale = arguments.scale if arguments.scale == "auto" else float(arguments.scale)
    sources = {
        "monuseg": lambda: held_out_pairs(None, None),
        "dsb": brightfield_tissue_pairs,
    }
    for source in arguments.sources:
        rows, sure, real = [], [], []
        for image_path, labels_path in sources[source]():
            image, truth = read_image(image_path)[..., :3], read_image(labels_path)
            found = model.segment(image, scale=scale)
            scores = image_scores(truth, found.labels)
            is_real = real_cells(truth, found.labels)
            expected, low, high = count_interval(found.confidence, model.config.count_spread)
            sure.append(found.confidence)
            real.append(is_real)
            row = {
                "image": image_path.stem[:16],
                "scale": found.scale,
                "found": scores["predicted_count"],
                "drawn": scores["true_count"],
                "error": (scores["predicted_count"] - scores["true_count"])
                / max(scores["true_count"], 1),
                "aji": scores["aji"],
                "f1": scores["f1"],
                "expected": expected,
                "interval": (low, high),
                "real": int(is_real.sum()),
            }
            rows.append(row)
            if not arguments.quiet:
                print(
                    f"{source} {row['image']:<16} scale {row['scale']:g}: {row['found']} found, "
                    f"{row['drawn']} drawn ({row['error']:+.1%}), AJI {row['aji']:.3f}, F1 "
                    f"{row['f1']:.3f}; nuclei {low}-{high} (95%); real {row['real']}, expected "
                    f"{expected:.0f}",
                    flush=True,
                )
        errors = np.array([row["error"] for row in rows])
        holds_real = sum(row["interval"][0] <= row["real"] <= row["interval"][1] for row in rows)
        holds_drawn = sum(row["interval"][0] <= row["drawn"] <= row["interval"][1] for row in rows)
        ece = calibration_error(np.concatenate(sure), np.concatenate(real))
        print(
            f"{source}: {len(rows)} images; mean absolute count error {np.abs(errors).mean():.1%} "
            f"(mean {errors.mean():+.1%}); AJI {np.mean([r['aji'] for r in rows]):.3f}, F1 "
            f"{np.mean([r['f1'] for r in rows]):.3f}; confidence calibration error {ece:.3f}; "
            f"the count's interval holds the nuclei drawn on {holds_drawn} images, the real "
            f"nuclei found on {holds_real}"
        )


if __name__ == "__main__":
    main()
