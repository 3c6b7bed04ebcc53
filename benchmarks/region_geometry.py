"""How much of a slide goes through the network, for regions and halos of other sizes.

    python benchmarks/region_geometry.py [--side 10000] [--tissue 0.3]

Writes `whole_slide.py`'s slide with TISSUE of it tissue on glass (`aperio_slides.py`),
finds its tissue as `cellseg predict` does (`find_tissue`), and counts the pixels of every
region's window (`slide_regions`: a region and its halo of context, cut down to the tissue
they hold) for regions of 512 to 2048 of the network's pixels and halos of 32 to 64, against
the same slide fully covered with tissue. `cellseg predict`'s time on a slide follows these
pixels (`python benchmarks/whole_slide.py` prints both), so their ratio is about the time a
slide of that much tissue takes against a fully covered one, whatever the machine: no
network runs here. Cellseg's own regions (1024, halo 64) are marked.
"""

import argparse
import tempfile
from pathlib import Path

from aperio_slides import Slide, tissue_blocks, write_slide

SIDES = ((512, 64), (768, 64), (1024, 64), (1536, 64), (2048, 64), (1024, 48), (1024, 32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=10_000, help="slide side, pixels")
    parser.add_argument("--tissue", type=float, default=0.3, help="tissue share of the slide")
    arguments = parser.parse_args()

    from cellseg.neural_network.whole_slide import HALO, REGION, find_tissue, slide_regions
    from cellseg.slide_io import open_slide

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tissue.svs"
        write_slide(path, Slide(arguments.side, arguments.tissue, tissue_blocks()))
        source = open_slide(path)
        tissue = find_tissue(source)
        shape = source.shape
        source.close()
    print(
        f"A {arguments.side} x {arguments.side} slide, {tissue.fraction:.1%} of it tissue by "
        "its mask: the pixels the network sees, as a share of the slide's"
    )

    def share(mask, region: int, halo: int) -> float:
        regions = slide_regions(shape, mask, region=region, halo=halo)
        windows = (found.window for found in regions)
        pixels = sum((bottom - top) * (right - left) for top, left, bottom, right in windows)
        return pixels / (shape[0] * shape[1])

    print(f"{'region':>7} {'halo':>5} {'covered':>8} {'tissue':>7} {'ratio':>6}")
    for region, halo in SIDES:
        covered, sent = share(None, region, halo), share(tissue, region, halo)
        mark = "  (cellseg's)" if (region, halo) == (REGION, HALO) else ""
        print(f"{region:>7} {halo:>5} {covered:>8.3f} {sent:>7.3f} {sent / covered:>6.3f}{mark}")


if __name__ == "__main__":
    main()
