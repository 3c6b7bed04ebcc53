"""``cellseg predict`` of slides in the scanners' formats: read at their pixel size, and only
where they hold tissue."""

import os
import re

import numpy as np
import pytest
from tables import read_csv

from cellseg.image_io import read_image


@pytest.fixture
def dark_cells(monkeypatch) -> list[tuple[int, int, float]]:
    """The network faked: the model's cells are the image's dark pieces, the same at any
    scale. Returns the (rows, columns, scale) of each image it is given, in order."""
    from skimage.measure import label

    import cellseg.neural_network.model as model

    seen = []

    def segment(self, image, *, scale="auto", counterstain=None):
        seen.append((*image.shape[:2], scale))
        return model.Cells(
            image, label(image[..., 0] < 160, connectivity=1).astype(np.int32), scale
        )

    monkeypatch.setattr(model.TrainedModel, "segment", segment)
    return seen


def test_slides_are_read_at_their_pixel_size_and_only_where_there_is_tissue(
    cellseg, tmp_path, monkeypatch, dark_cells
):
    """A 20x Aperio slide and a 40x OME-TIFF, 70% glass, and a file that is no slide: each
    slide is enlarged by its pixel size against the default model's (0.25 um), only its
    tissue goes through the network, and its results are at its scale; the broken one is
    one line naming it."""
    import gzip
    import json

    import tifffile
    from slide_writers import aperio_slide, ome_slide, tissue_slide

    import cellseg.neural_network.whole_slide as whole_slide

    monkeypatch.setattr(whole_slide, "REGION", 512)
    monkeypatch.setattr(whole_slide, "HALO", 64)
    windows = dark_cells
    image, _, _ = tissue_slide((1500, 1800), tissue=0.3, seed=2)
    slides = tmp_path / "slides"
    slides.mkdir()
    aperio_slide(slides / "twenty.svs", image, 0.5)
    ome_slide(slides / "forty.tif", image, 0.25)
    (slides / "broken.ndpi").write_bytes(b"no slide at all")
    out = tmp_path / "out"
    result = cellseg(
        "predict", "default", slides, "--output", out, "--format", "tiff", "geojson.gz"
    )
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and str(slides / "broken.ndpi") in errors[0]
    assert (
        "twenty.svs: 1800 x 1500 pixels of 0.5 um, scale 2 (0.5 um pixels, the model's 0.25)"
        in result.out
    )
    assert "forty.tif: 1800 x 1500 pixels of 0.25 um, scale 1 (0.25 um pixels" in result.out
    assert re.search(
        r"twenty\.svs: .*; tissue in (\d+) of 48 regions \(3\d% of the slide", result.out
    )
    assert {scale for *_, scale in windows} == {1.0, 2.0}
    counts = {row["image"]: row for row in read_csv(out / "counts.csv")}
    assert (counts["twenty.svs"]["scale"], counts["twenty.svs"]["pixel_size"]) == ("2.0", "0.5")
    assert (counts["forty.tif"]["scale"], counts["forty.tif"]["pixel_size"]) == ("1.0", "0.25")
    assert counts["twenty.svs"]["count"] == counts["forty.tif"]["count"] != "0"
    areas = [float(counts[name]["mean_area_um2"]) for name in ("twenty.svs", "forty.tif")]
    assert areas[0] == pytest.approx(4 * areas[1], rel=1e-3)  # the same pixels, twice as wide
    for name, pixel_size in (("twenty.svs", 0.5), ("forty.tif", 0.25)):
        stem = name.split(".")[0]
        with tifffile.TiffFile(out / f"{stem}_labels.tif") as tiff:
            assert tiff.is_ome and f'PhysicalSizeX="{pixel_size}"' in tiff.ome_metadata
            assert len(tiff.series[0].levels) == 2
        features = json.loads(gzip.decompress((out / f"{stem}.geojson.gz").read_bytes()))
        assert len(features["features"]) == int(counts[name]["count"])
        assert read_image(out / f"{stem}_tissue.png").shape == (94, 113)  # 16x smaller
    assert not [path for path in out.iterdir() if path.name.startswith(".")]
    tissue_pixels = sum(rows * columns for rows, columns, _ in windows) / 2  # of each slide
    windows.clear()
    every = cellseg(
        "predict", "default", slides / "forty.tif", "--output", tmp_path / "all", "--all-regions"
    )
    assert every.code == 0, every.err
    assert (
        "forty.tif: 1800 x 1500 pixels of 0.25 um, scale 1 (0.25 um pixels, the model's "
        "0.25); all 12 regions (--all-regions)" in every.out
    )
    assert not (tmp_path / "all" / "forty_tissue.png").exists()
    assert sum(rows * columns for rows, columns, _ in windows) > 1.5 * tissue_pixels


def test_a_mirax_slide_is_taken_once_from_its_folder_and_read_at_its_pixel_size(
    cellseg, tmp_path, monkeypatch, dark_cells
):
    """A MIRAX slide (an empty ``.mrxs`` beside a folder of its index and data files) among
    the slides of a folder: predicted once, through OpenSlide, at its pixel size, only its
    tissue sent to the network; its one region is told in the singular. With no --format
    a slide gets what napari and QuPath show over it: its labels and its cells' polygons."""
    import gzip
    import json

    from mirax_writer import mirax_slide
    from slide_writers import tissue_slide

    import cellseg.neural_network.whole_slide as whole_slide

    windows = dark_cells
    # Regions large enough for one to hold all the tissue.
    monkeypatch.setattr(whole_slide, "REGION", 1792)
    monkeypatch.setattr(whole_slide, "HALO", 128)
    image, _, _ = tissue_slide((1500, 1800), tissue=0.2, seed=4)
    slides = tmp_path / "slides"
    slides.mkdir()
    mirax_slide(slides / "scan.mrxs", image, 0.25)
    out = tmp_path / "out"
    result = cellseg("predict", "default", slides, "--output", out)
    assert result.code == 0, result.err
    # MIRAX pads the picture to whole images of 256 pixels: 2048 x 1536.
    assert "scan.mrxs: 2048 x 1536 pixels of 0.25 um, scale 1 (0.25 um pixels" in result.out
    assert "tissue in 1 of 2 regions" in result.out
    assert re.search(r"scan\.mrxs: \d+ cells in 1 region, \d+ s", result.out)
    assert len(windows) == 1 and windows[0][0] * windows[0][1] < 0.5 * 1536 * 1792
    (row,) = read_csv(out / "counts.csv")
    assert (row["image"], row["pixel_size"]) == ("scan.mrxs", "0.25") and int(row["count"]) > 50
    made = sorted(path.name for path in out.iterdir() if not path.name.startswith("."))
    assert [name for name in made if not name.startswith("scan")] == ["cells.csv", "counts.csv"]
    assert {"scan_labels.tif", "scan.geojson.gz", "scan_tissue.png"} <= set(made)
    assert not {"scan_labels.png", "scan_overlay.png", "scan_outlines.png"} & set(made)
    features = json.loads(gzip.decompress((out / "scan.geojson.gz").read_bytes()))["features"]
    assert len(features) == int(row["count"])


@pytest.mark.parametrize("name", ["broken.svs", "broken.tif"])
def test_a_tiff_with_no_image_is_one_line_naming_it(models, tmp_path, name):
    """A TIFF header and nothing behind it, as a slide and as a plain TIFF: reading its
    pixel size must not let tifffile's own message through, unnamed, beside the error (in
    a process of its own: pytest's log capture would catch that message here)."""

    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / name
    path.write_bytes(b"II*\x00" + b"\xff" * 40)
    code, lines = predict_apart(models / "first", path, tmp_path / "out")
    assert code == 1
    assert lines == [f"cellseg predict: error: {path}: TIFF holds no image"]
    assert path.read_bytes() == b"II*\x00" + b"\xff" * 40


def test_a_truncated_pyramid_is_one_line_naming_it(models, tmp_path):
    """A pyramidal TIFF cut in half, as an interrupted copy leaves it: tifffile complains of
    its tags, then its pixels cannot be decoded. One line: the error, not the complaints
    before it."""

    import tifffile

    pixels = np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    whole, path = tmp_path / "whole.tif", tmp_path / "in" / "scan.tif"
    with tifffile.TiffWriter(whole) as tiff:
        tiff.write(pixels, tile=(256, 256), subifds=1, compression="zlib")
        tiff.write(pixels[::2, ::2], tile=(256, 256), subfiletype=1, compression="zlib")
    path.parent.mkdir()
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    code, lines = predict_apart(models / "first", path, tmp_path / "out")
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"cellseg predict: error: {path}: truncated or corrupt TIFF")


def predict_apart(model, path, output) -> tuple[int, list[str]]:
    """``cellseg predict`` in a process of its own (pytest's log capture would catch
    tifffile's messages here): its exit code and the lines of its standard error, but
    TensorFlow's."""
    import subprocess
    import sys

    command = ["predict", str(model), str(path), "--output", str(output)]
    result = subprocess.run(
        [sys.executable, "-m", "cellseg", *command],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    tensorflow = re.compile(r"[IWEF]\d{4} ")  # its C++ log lines, if any get through
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return result.returncode, [line for line in lines if not tensorflow.match(line)]


def test_zeiss_slides_are_read_at_their_pixel_size_whatever_their_tiles(
    cellseg, tmp_path, dark_cells
):
    """Zeiss CZIs of 0.22 um pixels, their cells larger than the default model's: read
    (through OpenSlide, or pylibCZIrw for JPEG XR tiles, which OpenSlide 4.0.1 does not
    decode) and shrunk to the model's 0.25 um, and said so; the same cells in both."""
    from czi_writer import czi_slide
    from slide_writers import tissue_slide

    image, _, _ = tissue_slide((900, 1100), tissue=0.3, seed=5)
    slides = tmp_path / "slides"
    slides.mkdir()
    czi_slide(slides / "zstd.czi", image, 0.22)
    czi_slide(slides / "xr.czi", image, 0.22, compression="jpegxr")
    result = cellseg("predict", "default", slides, "--output", tmp_path / "out")
    assert result.code == 0, result.err
    for name in ("xr.czi", "zstd.czi"):
        assert (
            f"{name}: 1100 x 900 pixels of 0.22 um, scale 0.88 (0.22 um pixels, the model's "
            "0.25)" in result.out
        )
    assert (
        "images of larger cells than the model's, shrunk before the network (--scale auto): "
        "0.88x from 0.22 um pixels, the model's 0.25 (xr.czi, zstd.czi)" in result.out
    )
    rows = {row["image"]: row for row in read_csv(tmp_path / "out" / "counts.csv")}
    assert {(row["pixel_size"], row["scale"]) for row in rows.values()} == {("0.22", "0.88")}
    counts = [int(rows[name]["count"]) for name in ("xr.czi", "zstd.czi")]
    assert counts[1] > 20 and abs(counts[0] - counts[1]) <= 0.05 * counts[1]


def test_a_slide_another_process_finishes_meanwhile_is_one_line(
    cellseg, models, tmp_path, monkeypatch
):
    """Two processes on one slide (a job submitted twice, a requeue): the first to finish
    removes the regions the other keeps writing, which stopped it with a traceback."""
    import shutil

    from slide_writers import aperio_slide, tissue_slide

    from cellseg.slide_outputs import RegionStore

    image, _, _ = tissue_slide((600, 800), tissue=0.5, seed=2)
    slide = tmp_path / "s.svs"
    aperio_slide(slide, image, 0.25)
    add = RegionStore.add

    def finished_by_the_other(self, *arguments, **keywords):
        shutil.rmtree(self.folder)  # as the other process does when it is done
        return add(self, *arguments, **keywords)

    monkeypatch.setattr(RegionStore, "add", finished_by_the_other)
    output = tmp_path / "out"
    result = cellseg("predict", models / "first", slide, "--output", output)
    assert result.code == 1 and "Traceback" not in result.err, result.err
    [line] = [line for line in result.error_lines if ": error: " in line]
    assert line.startswith(f"cellseg predict: error: s.svs: its regions kept in {output}")
    assert "is another process predicting it into" in line
