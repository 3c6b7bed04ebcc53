"""How a model holds up when H&E images are re-coloured as haematoxylin + DAB sections.

There is no annotated immunohistochemistry (IHC) data here, so the held-out H&E images
stand in: each is split into stain optical densities (colour deconvolution, Ruifrok &
Johnston), its eosin re-coloured as DAB brown 4 times denser, and its haematoxylin thinned
(x1, x0.5, x0.3: IHC counterstains are often paler than H&E), then scored against the same
exact labels. This is a proxy, close to the training augmentation, not real IHC; check a
real section by eye too (`cellseg demo`). Each model runs twice: as `cellseg predict` runs
it, a counterstain paler than its training images' strengthened first
(`cellseg.preprocessing.colour.counterstain_factor`; the "strengthened" column is the mean
factor), and with that step left out.

    python benchmarks/stain_robustness.py [--model default ...] [--images DIR --labels DIR]

Without folders it uses the MoNuSeg images held out from the default model's training
(`benchmarks/held_out.py`).
"""

import numpy as np
from held_out import compared_models_arguments, held_out_pairs, load_model

from cellseg.tensorflow_import import import_tensorflow

#: Haematoxylin kept, per version of each image; None: the H&E image as it is.
HAEMATOXYLIN = (None, 1.0, 0.5, 0.3)
DAB_PER_EOSIN = 4.0


def as_haematoxylin_dab(image: np.ndarray, haematoxylin: float) -> np.ndarray:
    """An H&E RGB image (0-255) re-coloured as a haematoxylin + DAB section (uint8)."""
    from skimage.color import hed2rgb, rgb2hed

    stains = rgb2hed(np.clip(image[..., :3] / 255.0, 0, 1))
    stains[..., 0] *= haematoxylin
    stains[..., 2] = stains[..., 1] * DAB_PER_EOSIN
    stains[..., 1] = 0
    return np.clip(np.rint(hed2rgb(stains) * 255), 0, 255).astype(np.uint8)


def main() -> None:
    arguments = compared_models_arguments(__doc__.split("\n\n")[0])
    import_tensorflow()

    from cellseg.image_io import read_image
    from cellseg.metrics import image_scores
    from cellseg.neural_network.evaluation import mean_scores

    pairs = held_out_pairs(arguments.images, arguments.labels)
    images = [(read_image(image)[..., :3], read_image(labels)) for image, labels in pairs]
    print(f"{len(images)} images; eosin re-coloured as DAB x{DAB_PER_EOSIN:g}\n")
    print(
        f"{'model':<24} {'haematoxylin':>12} {'strengthened':>12} "
        f"{'AJI':>7} {'F1':>7} {'count error':>12}"
    )
    for name in arguments.models:
        model = load_model(name)
        for kept in HAEMATOXYLIN:
            shown = [
                (image if kept is None else as_haematoxylin_dab(image, kept), truth)
                for image, truth in images
            ]
            for variant in (model, model.with_config(haematoxylin=None)):
                rows, factors = [], []
                for image, truth in shown:
                    cells = variant.segment(image, scale="auto")  # as cellseg predict
                    rows.append(image_scores(truth, cells.labels))
                    factors.append(cells.counterstain)
                mean = mean_scores(rows)
                label = "H&E" if kept is None else f"x{kept:g}"
                strengthened = "left out" if variant is not model else f"x{np.mean(factors):.2f}"
                print(
                    f"{model.name[:24]:<24} {label:>12} {strengthened:>12} {mean['aji']:7.3f} "
                    f"{mean['f1']:7.3f} {mean['count_error']:12.1%}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
