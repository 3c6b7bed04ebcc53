"""How fast a Zeiss slide is read region by region: JPEG XR tiles through pylibCZIrw
(`cellseg.slide_io.CziRegions`), with its cache of decoded tiles and without, against zstd
tiles through OpenSlide.

    python benchmarks/czi_reading.py [--side 6000] [--tile 2048]

Writes a SIDE x SIDE slide of synthetic H&E in subblocks of TILE pixels (Zeiss scanners
write about 2000 x 2500), once of JPEG XR tiles and once of zstd (tests/czi_writer.py),
reads every region's window as `cellseg predict` does (`slide_regions`, at scale 1) and
prints the seconds each reading took and the peak memory of the cache.
"""

import argparse
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=6000, help="the slide's side (6000)")
    parser.add_argument("--tile", type=int, default=2048, help="its subblocks' side (2048)")
    arguments = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from czi_writer import czi_slide
    from slide_writers import tissue_slide

    from cellseg import slide_io
    from cellseg.neural_network.whole_slide import slide_regions

    picture, _, _ = tissue_slide((2000, 2000), tissue=0.9, seed=1)
    copies = -(-arguments.side // 2000)
    image = np.tile(picture, (copies, copies, 1))[: arguments.side, : arguments.side]
    with tempfile.TemporaryDirectory() as folder:
        paths = {kind: Path(folder) / f"{kind}.czi" for kind in ("jpegxr", "zstd")}
        for compression, path in paths.items():
            czi_slide(path, image, 0.25, tile=arguments.tile, compression=compression)
        readers = [
            ("jpegxr tiles, pylibCZIrw", paths["jpegxr"], slide_io.CziRegions),
            (
                "jpegxr tiles, pylibCZIrw without its cache",
                paths["jpegxr"],
                partial(slide_io.CziRegions, cache_bytes=0),
            ),
            ("zstd tiles, pylibCZIrw", paths["zstd"], slide_io.CziRegions),
            ("zstd tiles, OpenSlide", paths["zstd"], slide_io.OpenSlideRegions),
        ]
        regions = slide_regions(image.shape[:2])
        print(
            f"{arguments.side} x {arguments.side} pixels in subblocks of {arguments.tile}, "
            f"{len(regions)} regions:"
        )
        for name, path, reader in readers:
            source = reader(path)
            started, cached = time.monotonic(), 0
            for region in regions:
                source.read(*region.window)
                if isinstance(source, slide_io.CziRegions):
                    cached = max(cached, source.document.get_cache_info().memory_usage)
            seconds = time.monotonic() - started
            source.close()
            memory = f", its cache at most {cached / 2**20:.0f} MB" if cached else ""
            print(f"  {name}: {seconds:.1f} s{memory}", flush=True)


if __name__ == "__main__":
    main()
