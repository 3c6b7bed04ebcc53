"""Whole slides as a scanner writes them: time, peak memory and cells of `cellseg predict`.

    python benchmarks/whole_slide.py [--side 10000] [--tissue 0.3] [--large-side 20000]
                                     [--magnification {40,20}] [--model default]
                                     [--format FORMAT ...]

Builds 40x Aperio slides (`aperio_slides.py`; ``.svs``: JPEG tiles, levels 4x and 16x
smaller, ``MPP = 0.25``) of SIDE x SIDE pixels from the real H&E of
../shared/datasets/monuseg (synthetic tissue without it), written tile by tile, never held
whole: one fully covered with tissue, the same with only a blob of TISSUE of it left on
blank glass, and a LARGE_SIDE one with a twentieth of it tissue. Each is predicted by
`cellseg predict MODEL SLIDE` (with no --format, as a user would: a slide's labels and
gzipped GeoJSON; or the formats given) in a child process, which reports its peak resident
memory (the kernel's accounting of that child, as ``/usr/bin/time -v`` prints it) and its
time (the command's, and the slide's own, as predict prints it). The tissue's bounding box
is then found as one image held whole (`TrainedModel.segment`, in a child) and its cells
matched with the slide's: the same cells, within 1%, when cutting the slide into regions and
skipping its glass lose none.

``--magnification 20`` is issue #31's check, of a 20x slide on mostly blank glass:

    python benchmarks/whole_slide.py --magnification 20 --side 5000 --tissue 0.2 --large-side 0

Its slides are written at ``MPP = 0.5`` (``AppMag = 20``) from the MoNuSeg tiles halved
(anti-aliased: 20x nuclei), with no fully covered one, and predicted with no flag but
--output (without --format too, its GeoJSON is one of the files): the scale predict says
it chose from the metadata must be 2. The tissue box alone is found at
scale 2, timed (`TrainedModel.segment`, and its child from start-up to the end of it), and
a line per aim says ok or FAILED: scale 2; the slide's cells within 5% of the tissue
alone's; the slide's own time at most twice the tissue alone's; the slide's peak memory
under 3 GB; its GeoJSON a FeatureCollection of Polygons of closed rings of 4 positions or
more, each valid to shapely (`shapely.is_valid`; `shapely.is_valid_reason` of the first).
"""

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from aperio_slides import Slide, tissue_blocks, write_slide


def child(command: list[str]) -> dict:
    """Run ``command`` in a child process: when it started (`time.monotonic`, one clock
    for all processes), its time, what it printed and its peak resident memory (the
    kernel's accounting of that child, as ``/usr/bin/time -v`` prints it). Ends the
    script, with the child's complaints, if it fails."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        out.seek(0), err.seek(0)
        said, complaints = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"whole_slide.py: {' '.join(command[1:3])} failed: {complaints}")
    peak_gb = usage.ru_maxrss / 1024**2
    return {"started": started, "seconds": seconds, "said": said, "peak_gb": peak_gb}


def predict(slide: Path, output: Path, arguments) -> dict:
    """`cellseg predict` of one slide in a child process: its time, peak memory, cells,
    and the scale it says it chose (with no --scale, from the slide's pixel size)."""
    cellseg = Path(sys.executable).parent / "cellseg"
    command = [str(cellseg), "predict", arguments.model, str(slide), "--output", str(output)]
    run = child([*command, *(["--format", *arguments.format] if arguments.format else [])])
    said = run["said"]
    own = re.search(rf"{slide.name}: (\d+) cells? in (\d+) regions?.*, (\d+) s", said)
    regions = re.search(r"tissue in (\d+) of (\d+) regions", said)
    scale = re.search(rf"{slide.name}: [^;]*, scale ([\d.]+) \(([^)]*)\);", said)
    zipped = output / f"{slide.stem}.geojson.gz"
    return {
        "seconds": run["seconds"],
        "slide_seconds": int(own[3]) if own else run["seconds"],
        "peak_gb": run["peak_gb"],
        "cells": int(own[1]) if own else 0,
        "regions": f"{regions[1]} of {regions[2]}" if regions else "?",
        "scale": f"{scale[1]} ({scale[2]})" if scale else "? (not said)",
        "geojson_mb": len(gzip.decompress(zipped.read_bytes())) / 1e6 if zipped.is_file() else 0,
        "geojson_gz_mb": zipped.stat().st_size / 1e6 if zipped.is_file() else 0,
        "cells_mb": (output / "cells.csv").stat().st_size / 1e6,
        "geojson": next(output.glob(f"{slide.stem}.geojson*"), None),
        "labels": output / f"{slide.stem}_labels.tif",
    }


def same_cells(slide: Path, labels: Path, box: list[int], model_name: str, scale: float) -> dict:
    """(Child, so that the parent's memory stays small: a child's peak counts its parent's
    at the fork.) The slide's tissue box, read from its file, found as one image held
    whole at ``scale`` (timed: the seconds of `TrainedModel.segment`, and when it ended);
    its cells matched one to one with the slide's (`cellseg.metrics.match`, IoU above 0.5);
    and the share of the slide that is tissue, and of the pixels a fully covered slide sends
    through the network that this one sends (its regions' windows, `slide_regions`)."""
    import tifffile
    import zarr

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()
    from cellseg.metrics import count_objects, match
    from cellseg.neural_network.model import TrainedModel
    from cellseg.neural_network.whole_slide import find_tissue, slide_regions
    from cellseg.slide_io import open_slide

    top, left, bottom, right = box
    source = open_slide(slide)
    image = source.read(top, left, bottom, right)
    tissue = find_tissue(source)
    sent, covered = (
        sum((r.window[2] - r.window[0]) * (r.window[3] - r.window[1]) for r in regions)
        for regions in (
            slide_regions(source.shape, tissue, scale),
            slide_regions(source.shape, None, scale),
        )
    )
    source.close()
    model = TrainedModel.load(model_name)
    started = time.monotonic()
    whole = model.segment(image, scale=scale).labels
    done = time.monotonic()
    with tifffile.imread(labels, aszarr=True) as store:
        found = np.asarray(zarr.open(store, mode="r")["0"][top:bottom, left:right])
    count = count_objects(whole)
    return {
        "size": f"{right - left} x {bottom - top}",
        "cells": count,
        "slide_cells": count_objects(found),
        "same": match(whole, found).true_positives / count if count else 0.0,
        "seconds": done - started,
        "done": done,
        "tissue_share": tissue.fraction,
        "network_share": sent / covered,
    }


def geojson_problems(path: Path) -> dict:
    """A GeoJSON file (gzipped or not) as a strict reader sees it: a FeatureCollection of
    Features, each a Polygon of closed rings of at least 4 positions (RFC 7946), each
    polygon valid to shapely (`shapely.is_valid`, and why not for the first few), its outer
    ring counterclockwise (RFC 7946's right-hand rule, which a reader should not insist on)."""
    import shapely
    from shapely.geometry import shape

    data = path.read_bytes()
    collection = json.loads(gzip.decompress(data) if path.suffix == ".gz" else data)
    if collection.get("type") != "FeatureCollection" or "features" not in collection:
        return {
            "polygons": 0,
            "malformed": ["not a FeatureCollection"],
            "invalid": 0,
            "clockwise": 0,
        }
    malformed, geometries = [], []
    for index, feature in enumerate(collection["features"]):
        geometry = feature.get("geometry") or {}
        rings = geometry.get("coordinates") or [[]]
        if feature.get("type") != "Feature" or "properties" not in feature:
            malformed.append(f"feature {index}: not a Feature with properties")
        elif geometry.get("type") != "Polygon":
            malformed.append(f"feature {index}: not a Polygon")
        elif any(len(ring) < 4 or ring[0] != ring[-1] for ring in rings):
            malformed.append(f"feature {index}: a ring not closed or of under 4 positions")
        elif any(len(position) != 2 for ring in rings for position in ring):
            malformed.append(f"feature {index}: a position not of 2 numbers")
        else:
            geometries.append(geometry)
    polygons = np.array([shape(geometry) for geometry in geometries])
    invalid = ~shapely.is_valid(polygons) if len(polygons) else np.zeros(0, bool)
    outer = shapely.get_exterior_ring(polygons[~invalid]) if len(polygons) else []
    return {
        "polygons": len(collection["features"]),
        "points": np.mean([len(g["coordinates"][0]) - 1 for g in geometries]) if geometries else 0,
        "malformed": malformed,
        "invalid": int(invalid.sum()),
        "clockwise": int(np.sum(~shapely.is_ccw(outer))) if len(outer) else 0,
        "why": [str(reason) for reason in shapely.is_valid_reason(polygons[invalid][:3])],
    }


def report_20x(run: dict, alone: dict, checked: dict, geojson: dict) -> str:
    """Issue #31's check, each figure with its aim: the scale said, the slide's cells and
    time against its tissue alone's (``alone``, in the child ``checked``), its peak memory
    and its GeoJSON."""
    command = alone["done"] - checked["started"]  # its start-up, reading and segmenting
    ratio, cells = run["slide_seconds"] / alone["seconds"], run["cells"] / alone["cells"] - 1
    why = "; ".join(geojson["malformed"][:3] + geojson["why"])
    checks = {
        f"scale {run['scale']}": run["scale"].startswith("2 "),
        f"cells {run['cells']}, the tissue alone's {alone['cells']}: {cells:+.2%} (aim within "
        "5%)": abs(cells) <= 0.05,
        f"time {run['slide_seconds']:.0f} s, the tissue alone's {alone['seconds']:.0f} s: "
        f"{ratio:.2f} times (aim at most 2; with start-up {run['seconds']:.0f} s against "
        f"{command:.0f} s, {run['seconds'] / command:.2f} times)": ratio <= 2,
        f"peak {run['peak_gb']:.2f} GB (aim under 3; the tissue alone's "
        f"{checked['peak_gb']:.2f} GB)": run["peak_gb"] < 3,
        f"GeoJSON: {geojson['polygons']} polygons, {len(geojson['malformed'])} malformed, "
        f"{geojson['invalid']} invalid to shapely{f' ({why})' if why else ''}, "
        f"{geojson['clockwise']} clockwise": not why and not geojson["clockwise"],
    }
    return "\n".join(f"  {'ok    ' if ok else 'FAILED'} {what}" for what, ok in checks.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=10_000, help="slide side, pixels")
    parser.add_argument("--tissue", type=float, default=0.3, help="tissue share of one slide")
    parser.add_argument(
        "--large-side", type=int, default=20_000, help="side of the mostly blank slide (0: none)"
    )
    parser.add_argument(
        "--magnification", type=int, choices=(40, 20), default=40, help="of the slides"
    )
    parser.add_argument("--model", default="default")
    parser.add_argument("--format", nargs="+", help="predict's (default: none given)")
    parser.add_argument("--same-cells", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--box", nargs=4, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.same_cells:
        found = same_cells(*arguments.same_cells, arguments.box, arguments.model, arguments.scale)
        print(json.dumps(found))
        return
    magnification = arguments.magnification
    blocks, pixel_size, scale = tissue_blocks(magnification), 10 / magnification, 40 / magnification
    side = arguments.side
    print(
        f"{magnification}x Aperio slides of {side} x {side} pixels ({side**2 / 1e6:.0f} "
        f"megapixels, {pixel_size:g} um), "
        f"{'MoNuSeg H&E' if len(blocks) > 4 else 'synthetic tissue'}"
        f"{'' if magnification == 40 else ' halved'} on glass, "
        f"model '{arguments.model}', "
        f"{'--format ' + ' '.join(arguments.format) if arguments.format else 'no --format'}, "
        f"{os.cpu_count()} CPU cores:"
    )
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        runs = {}
        for name, share, size in (
            ("covered", 1.0, side if magnification == 40 else 0),
            ("tissue", arguments.tissue, side),
            ("large", 0.05, arguments.large_side),
        ):
            if not size:
                continue
            slide = Slide(size, share, blocks, pixel_size)
            path = folder / f"{name}.svs"
            write_slide(path, slide)
            runs[name] = (slide, predict(path, folder / name, arguments))
            run = runs[name][1]
            what = {
                "covered": "fully covered",
                "tissue": f"{share:.0%} tissue",
                "large": f"{size} x {size}, {share:.0%} tissue",
            }[name]
            ratio = ""
            if name == "tissue" and "covered" in runs:
                share_of_time = run["slide_seconds"] / runs["covered"][1]["slide_seconds"]
                ratio = f" ({share_of_time:.2f} of fully covered's)"
            said_scale = "" if magnification == 40 else f"scale {run['scale']}, "
            print(
                f"  {what}: {said_scale}tissue in {run['regions']} regions, {run['cells']} cells, "
                f"{run['slide_seconds']:.0f} s{ratio} ({run['seconds']:.0f} s with start-up), "
                f"peak {run['peak_gb']:.2f} GB"
            )
            if name == "tissue" and run["cells"]:
                command = [sys.executable, __file__, "--same-cells", str(path), str(run["labels"])]
                command += ["--box", *map(str, slide.box()), "--model", arguments.model]
                checked = child([*command, "--scale", f"{scale:g}"])
                alone = json.loads(checked["said"].splitlines()[-1])
                count, counted = alone["cells"], alone["slide_cells"]
                print(
                    f"  its tissue ({alone['size']} pixels) as one image"
                    f"{'' if scale == 1 else f' at scale {scale:g}'}: {count} cells; "
                    f"the slide's there {counted} ({counted / count - 1:+.2%}), "
                    f"{alone['same']:.1%} of them the same cells (IoU above 0.5); "
                    f"its tissue mask {alone['tissue_share']:.0%} of the slide, the network "
                    f"saw {alone['network_share']:.0%} of the pixels it sees on a fully covered one"
                )
                if magnification != 40 and run["geojson"]:
                    problems = geojson_problems(run["geojson"])
                    print(report_20x(run, alone, checked, problems))
            path.unlink()
        covered = runs.get("covered", (None, {}))[1]
        if covered.get("cells") and covered["geojson_mb"]:
            per = 1e5 / covered["cells"]
            points = geojson_problems(covered["geojson"])["points"]
            print(
                f"  GeoJSON: {covered['geojson_mb'] * per:.0f} MB per 100,000 cells, "
                f"{covered['geojson_gz_mb'] * per:.1f} MB gzipped, {points:.1f} points an "
                f"outline; cells.csv {covered['cells_mb'] * per:.1f} MB"
            )


if __name__ == "__main__":
    main()
