"""How a model counts images taken at a lower magnification than it was trained at.

Two cases, as `cellseg predict` sees them (`TrainedModel.segment`):

- the held-out MoNuSeg images (40x) halved with anti-aliasing, as if photographed at 20x,
  enlarged 2x before the network, and at ``--scale auto`` (the scale it chooses for each),
  scored against their labels halved (nearest);
- the bundled demo image (`skimage.data.immunohistochemistry`, about 20x) and its half-size
  copies made by common resamplers (Pillow's bilinear, scikit-image's anti-aliased rescale),
  each also saved as a JPEG (quality 95, as cellseg writes them), at ``--scale auto``: the
  scale chosen and the cells found, against the demo image's own count at 2x. A half-size
  copy holds less of each nucleus, and some are lost (`tests/commands/test_predict_scale.py`
  checks that ``auto`` counts each within 10% of its own best fixed scale).

    python benchmarks/low_magnification.py [--model default ...] [--images DIR --labels DIR]

Without folders it uses the MoNuSeg images held out from the default model's training
(`benchmarks/held_out.py`).
"""

import io

import numpy as np
from held_out import compared_models_arguments, held_out_pairs, load_model

from cellseg.tensorflow_import import import_tensorflow

JPEG_QUALITY = 95


def as_jpeg(image: np.ndarray, quality: int = JPEG_QUALITY) -> np.ndarray:
    """``image`` saved as a JPEG and read back (Pillow, as `cellseg.image_io` does)."""
    from PIL import Image

    encoded = io.BytesIO()
    Image.fromarray(image).save(encoded, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(encoded.getvalue())).convert("RGB"))


def halved(image: np.ndarray, how: str) -> np.ndarray:
    """``image`` at half its size, by Pillow's bilinear filter or scikit-image's rescale."""
    from PIL import Image
    from skimage.transform import rescale

    if how == "Pillow bilinear":
        rows, columns = image.shape[:2]
        return np.asarray(Image.fromarray(image).resize((columns // 2, rows // 2), Image.BILINEAR))
    smaller = rescale(image, 0.5, channel_axis=2, preserve_range=True, anti_aliasing=True)
    return np.rint(smaller).astype(np.uint8)


def main() -> None:
    arguments = compared_models_arguments(__doc__.split("\n\n")[0])
    import_tensorflow()

    from skimage import data
    from skimage.transform import resize

    from cellseg.image_io import read_image
    from cellseg.metrics import image_scores

    twentyx = []
    for image_path, labels_path in held_out_pairs(arguments.images, arguments.labels):
        small = halved(read_image(image_path)[..., :3], "scikit-image")
        labels = read_image(labels_path)
        labels = resize(labels, small.shape[:2], order=0, preserve_range=True, anti_aliasing=False)
        twentyx.append((small, labels.astype(np.int32)))
    demo = data.immunohistochemistry()
    copies = {"demo": demo, "demo, JPEG": as_jpeg(demo)}
    for how in ("Pillow bilinear", "scikit-image"):
        copies[f"half ({how})"] = halved(demo, how)
        copies[f"half ({how}), JPEG"] = as_jpeg(copies[f"half ({how})"])

    for name in arguments.models:
        model = load_model(name)
        for scale in (2.0, "auto"):
            found = [model.segment(image, scale=scale) for image, _ in twentyx]
            rows = [
                image_scores(truth, cells.labels)
                for cells, (_, truth) in zip(found, twentyx, strict=True)
            ]
            signed = [(row["predicted_count"] / row["true_count"] - 1) for row in rows]
            chosen = ", ".join(f"{cells.scale:g}x" for cells in found)
            print(
                f"{name}: {len(rows)} held-out images halved to 20x, at "
                f"{'2x' if scale == 2 else f'--scale auto ({chosen})'}: "
                f"AJI {np.mean([row['aji'] for row in rows]):.3f}, "
                f"F1 {np.mean([row['f1'] for row in rows]):.3f}, "
                f"count error {np.mean(np.abs(signed)):.1%} (mean {np.mean(signed):+.1%})"
            )
        at_two = int(model.segment(demo, scale=2.0).labels.max())
        for copy, image in copies.items():
            cells = model.segment(image)
            found = int(cells.labels.max())
            print(
                f"  {copy:<30} --scale auto: {cells.scale:g}x, {found} cells "
                f"({found / at_two - 1:+.1%} against the demo at 2x, {at_two})"
            )


if __name__ == "__main__":
    main()
