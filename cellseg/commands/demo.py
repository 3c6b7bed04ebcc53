"""``cellseg demo``: the main job on a bundled stained-tissue image, offline."""

import argparse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg demo",
        description="Run cellseg on the immunohistochemistry image that scikit-image ships "
        "(no download): tile and stitch it, blur it, and turn red-outline annotations "
        "into separated cells, writing every result to OUTPUT_DIR.",
    )
    parser.add_argument(
        "--output",
        default="cellseg-demo",
        metavar="OUTPUT_DIR",
        help="folder for the results (cellseg-demo)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier demo's files")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from pathlib import Path

    import numpy as np
    from skimage import data

    from cellseg.image_io import write_image
    from cellseg.metrics import aggregated_jaccard_index, count_objects
    from cellseg.preprocessing.blur import gaussian_blur
    from cellseg.preprocessing.outlines import outline_layer, outline_mask, outlines_to_labels
    from cellseg.preprocessing.synthetic import synthetic_tissue
    from cellseg.preprocessing.tiling import split_into_tiles, stitch_tiles

    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    overwrite = arguments.overwrite

    def save(name, image):
        write_image(output / name, image, overwrite=overwrite)
        return output / name

    tissue = data.immunohistochemistry()
    print(
        f"Bundled image: immunohistochemistry (DAB + haematoxylin), {tissue.shape[1]} x "
        f"{tissue.shape[0]} pixels -> {save('tissue.png', tissue)}"
    )

    tiles = list(split_into_tiles(tissue, tile=200, overlap=100))
    stitched = stitch_tiles(tiles, tissue.shape, method="blend")
    identical = np.array_equal(stitched, tissue)
    print(
        f"Split into {len(tiles)} tiles of 200 px overlapping by 100 and stitched back: "
        f"{'identical to the original' if identical else 'DIFFERENT (a bug)'}"
    )

    blurred = gaussian_blur(tissue, 2.0)
    print(f"Gaussian blur, sigma 2 px -> {save('tissue_blurred.png', blurred)}")

    image, truth = synthetic_tissue((400, 400), seed=1, positive_fraction=0.3)
    layer = outline_layer(truth)
    cells = outlines_to_labels(outline_mask(layer))
    save("annotated.png", image)
    save("annotated_outlines.png", layer)
    save("annotated_labels.png", cells.astype(np.uint16))
    print(
        f"Red-outline annotation -> {count_objects(cells)} separated cells "
        f"({count_objects(truth)} drawn), AJI {aggregated_jaccard_index(truth, cells):.3f} "
        f"against the exact labels -> {output / 'annotated_labels.png'}"
    )
    print(f"Done: results in {output}/")
    return 0 if identical else 1
