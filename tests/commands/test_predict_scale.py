"""``cellseg predict`` at a scale: given, chosen from the image (``--scale auto``), or from a
whole slide's pixel size, and slides read only where they hold tissue."""

import re

import numpy as np
import pytest
from tables import read_csv

from cellseg.image_io import read_image


def test_scale_keeps_the_images_size(cellseg, models, training_data, tmp_path):
    images = training_data / "images"
    result = cellseg(
        "predict", models / "first", images, "--output", tmp_path / "out", "--scale", "1.5"
    )
    assert result.code == 0, result.err
    for image in images.iterdir():
        labels = read_image(tmp_path / "out" / f"{image.stem}_labels.png")
        assert labels.shape == read_image(image).shape[:2]
        assert set(np.unique(labels)) - {0} == set(range(1, int(labels.max()) + 1))
    assert {row["scale"] for row in read_csv(tmp_path / "out" / "counts.csv")} == {"1.5"}
    bad = cellseg("predict", models / "first", images, "--output", tmp_path / "x", "--scale", "0")
    assert bad.code == 2 and "must be above 0" in bad.err
    word = cellseg(
        "predict", models / "first", images, "--output", tmp_path / "y", "--scale", "big"
    )
    assert word.code == 2 and "must be auto or a number, got big" in word.err
    auto = cellseg(
        "evaluate",
        models / "first",
        "--images",
        images,
        "--annotations",
        training_data / "outlines",
        "--output",
        tmp_path / "e.csv",
        "--scale",
        "Auto",
    )
    assert auto.code == 0, auto.err  # fmt: skip


def test_auto_scale_enlarges_a_20x_image_for_the_40x_default(cellseg, datasets, tmp_path):
    """A MoNuSeg image (40x) halved, as if photographed at 20x: found at its own size, the
    default model misses a third of the nuclei; `--scale auto` (the default) enlarges it."""
    from skimage.transform import rescale

    from cellseg.image_io import write_image

    name = "TCGA-E2-A14V-01Z-00-DX1"  # held out from the default model's training
    monuseg = datasets / "monuseg" / "train"
    image = read_image(monuseg / "images" / f"{name}.png")
    halved = rescale(image, 0.5, channel_axis=2, preserve_range=True, anti_aliasing=True)
    folder = tmp_path / "20x"
    folder.mkdir()
    write_image(folder / f"{name}.png", np.rint(halved).astype(np.uint8))
    true_count = int(read_image(monuseg / "labels" / f"{name}.png").max())

    auto = cellseg("predict", "default", folder, "--output", tmp_path / "auto")
    assert auto.code == 0, auto.err
    assert f"{name}.png" in auto.out and "enlarged" in auto.out and "--scale" in auto.out
    fixed = cellseg("predict", "default", folder, "--output", tmp_path / "one", "--scale", "1")
    assert fixed.code == 0 and "enlarged" not in fixed.out
    rows = {kind: read_csv(tmp_path / kind / "counts.csv")[0] for kind in ("auto", "one")}
    found = {kind: int(row["count"]) for kind, row in rows.items()}
    # counts.csv says how much each image was enlarged, as predict printed it.
    assert f"{name}.png {float(rows['auto']['scale']):g}x" in auto.out
    assert float(rows["auto"]["scale"]) > 1 and float(rows["one"]["scale"]) == 1
    assert abs(found["auto"] - true_count) < abs(found["one"] - true_count)
    assert abs(found["auto"] - true_count) <= 0.2 * true_count
    print(auto.out.splitlines()[-1])
    for kind, count in found.items():
        option = "auto" if kind == "auto" else "1"
        print(f"--scale {option}: {count} nuclei of {true_count} ({count / true_count - 1:+.0%})")


def test_auto_scale_counts_the_demo_and_its_half_size_copy_as_at_their_best_scale(
    cellseg, tmp_path
):
    """The bundled sample looks like a 20x photo: the default (40x) model counts it best
    enlarged 2x; its half-size copy, a 10x one, 4x. ``--scale auto`` must come within 10%."""
    from skimage import data
    from skimage.transform import rescale

    from cellseg.image_io import write_image

    tissue = data.immunohistochemistry()
    half = np.rint(rescale(tissue, 0.5, channel_axis=2, preserve_range=True, anti_aliasing=True))
    folder = tmp_path / "images"
    folder.mkdir()
    write_image(folder / "tissue.png", tissue)
    write_image(folder / "half.png", half.astype(np.uint8))

    def counts(*options):
        output = tmp_path / "-".join(options or ("auto",))
        result = cellseg("predict", "default", folder, "--output", output, *options)
        assert result.code == 0, result.err
        return {
            row["image"]: (int(row["count"]), row["scale"])
            for row in read_csv(output / "counts.csv")
        }

    auto, at_two, at_four = counts(), counts("--scale", "2"), counts("--scale", "4")
    assert auto["tissue.png"][1] == "2.0" and auto["half.png"][1] == "4.0"
    for name, best in (("tissue.png", at_two), ("half.png", at_four)):
        assert abs(auto[name][0] - best[name][0]) <= 0.1 * best[name][0], (name, auto, best)


def test_counts_say_how_much_a_pale_counterstain_was_strengthened(cellseg, tmp_path):
    """The bundled haematoxylin + DAB sample, paler than the default's training images, is
    strengthened before the network: predict says so and counts.csv records the factor; the
    same section with its haematoxylin three times as dark is left as it is (factor 1)."""
    from skimage import data

    from cellseg.image_io import write_image
    from cellseg.preprocessing.colour import rgb_from_stain_amounts, stain_amounts

    pale = data.immunohistochemistry()[:256, :256]
    stains = stain_amounts(pale / np.float32(255))
    stains[..., 0] *= 3
    dark = np.rint(rgb_from_stain_amounts(stains) * 255).astype(np.uint8)
    folder = tmp_path / "images"
    folder.mkdir()
    write_image(folder / "pale.png", pale)
    write_image(folder / "dark.png", dark)
    output = tmp_path / "out"
    result = cellseg("predict", "default", folder, "--output", output, "--scale", "2")
    assert result.code == 0, result.err
    factors = {row["image"]: float(row["counterstain"]) for row in read_csv(output / "counts.csv")}
    assert factors["dark.png"] == 1 and 1 < factors["pale.png"] <= 4
    [line] = [line for line in result.out.splitlines() if "strengthened before" in line]
    assert re.search(r": pale\.png x[\d.]+$", line) and "dark.png" not in line


def test_a_pixel_size_no_microscope_gives_is_ignored_in_one_line(cellseg, models, tmp_path):
    """72 dots per inch (353 um), what many programs record whatever the picture, says
    nothing of a microscope image's magnification: predict ignores it and says so in one
    line naming the files (a PNG's pHYs, a TIFF's resolution tags); a real one is used."""
    import tifffile
    from PIL import Image

    from cellseg.preprocessing.synthetic import synthetic_tissue

    picture, _ = synthetic_tissue((96, 128), seed=1)
    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(picture).save(folder / "screen.png", dpi=(72, 72))
    Image.fromarray(picture).save(folder / "scope.png", dpi=(101600, 101600))  # 0.25 um
    tifffile.imwrite(folder / "saved.tif", picture, resolution=(72, 72), resolutionunit="INCH")
    output = tmp_path / "out"
    result = cellseg("predict", models / "first", folder, "--output", output, "--scale", "1")
    assert result.code == 0, result.err
    [line] = [line for line in result.out.splitlines() if "no microscope's" in line]
    assert "saved.tif 353 um" in line and "screen.png 353 um" in line
    assert "scope.png" not in line and "--pixel-size" in line
    sizes = {row["image"]: row["pixel_size"] for row in read_csv(output / "counts.csv")}
    assert sizes["scope.png"] == "0.25" and not sizes["screen.png"] and not sizes["saved.tif"]
    given = cellseg(
        "predict", models / "first", folder, "--output", tmp_path / "given", "--pixel-size", "0.5"
    )
    assert given.code == 0, given.err
    assert "no microscope's" not in given.out  # --pixel-size is the user's word
    broken = tmp_path / "broken"  # a file cut after its pHYs fails, and is not listed
    broken.mkdir()
    cut = (folder / "screen.png").read_bytes()[:300]
    (broken / "cut.png").write_bytes(cut)
    (broken / "screen.png").write_bytes((folder / "screen.png").read_bytes())
    failed = cellseg("predict", models / "first", broken, "--output", tmp_path / "b")
    assert failed.code == 1 and f"{broken / 'cut.png'}: truncated" in failed.err
    [line] = [line for line in failed.out.splitlines() if "no microscope's" in line]
    assert "screen.png 353 um" in line and "cut.png" not in line
    assert (broken / "cut.png").read_bytes() == cut


def test_auto_scale_of_a_slide_is_chosen_once_and_reported(cellseg, models, tmp_path, monkeypatch):
    """A TIFF predicted region by region: one scale for the slide, which predict reports."""
    import tifffile
    from skimage.measure import label

    import cellseg.neural_network.model as model
    import cellseg.neural_network.whole_slide as whole_slide
    from cellseg.preprocessing.synthetic import synthetic_tissue

    monkeypatch.setattr(model, "REGION_MODE_PIXELS", 100_000)
    monkeypatch.setattr(whole_slide, "REGION", 256)
    monkeypatch.setattr(whole_slide, "HALO", 32)
    chosen, used = [], []

    def segment(self, image, *, scale="auto", counterstain=None):
        """Dark cells."""
        used.append(scale)
        cells = label(image[..., 0] < 160, connectivity=1).astype(np.int32)
        return model.Cells(image, cells, 1.5 if scale == "auto" else scale)

    def choose_scale(self, image):
        chosen.append("auto")
        return 1.5

    monkeypatch.setattr(model.TrainedModel, "segment", segment)
    monkeypatch.setattr(model.TrainedModel, "choose_scale", choose_scale)
    image, _ = synthetic_tissue((600, 700), seed=3)
    slides = tmp_path / "slides"
    slides.mkdir()
    tifffile.imwrite(slides / "slide.tif", image, tile=(256, 256))
    result = cellseg("predict", models / "first", slides, "--output", tmp_path / "out")
    assert result.code == 0, result.err
    # Chosen once; then 4 x 5 regions of 256 of the network's pixels at 1.5x (171 of the
    # slide's), each found once at that scale.
    assert chosen == ["auto"] and set(used) == {1.5}
    assert len(used) == whole_slide.region_count((600, 700), 1.5) == 20
    assert "slide.tif 1.5x" in result.out
    assert "slide.tif: 700 x 600 pixels, scale 1.5 (the cells the network is surest of)" in (
        result.out
    )
    assert (tmp_path / "out" / "slide_labels.tif").is_file()
    assert read_csv(tmp_path / "out" / "counts.csv")[0]["scale"] == "1.5"


def test_auto_scale_is_chosen_before_an_image_is_held_whole(cellseg, models, tmp_path, monkeypatch):
    """An image small enough to hold at 1x but enlarged by ``auto`` past the size held whole
    (`REGION_MODE_PIXELS`, 25 megapixels) is found region by region, in bounded memory, as
    an image that large at 1x is; a smaller one is still held whole, its scale chosen once."""
    from skimage.measure import label

    import cellseg.neural_network.model as model
    import cellseg.neural_network.whole_slide as whole_slide
    from cellseg.image_io import write_image
    from cellseg.preprocessing.synthetic import synthetic_tissue

    monkeypatch.setattr(model, "REGION_MODE_PIXELS", 500_000)
    monkeypatch.setattr(whole_slide, "REGION", 256)
    monkeypatch.setattr(whole_slide, "HALO", 32)
    chosen, used = [], []

    def segment(self, image, *, scale="auto", counterstain=None):
        """Dark cells."""
        used.append((image.shape[:2], scale))
        cells = label(image[..., 0] < 160, connectivity=1).astype(np.int32)
        return model.Cells(image, cells, scale)

    def choose_scale(self, image):
        chosen.append(image.shape[:2])
        return 2.0

    monkeypatch.setattr(model.TrainedModel, "segment", segment)
    monkeypatch.setattr(model.TrainedModel, "choose_scale", choose_scale)
    images = tmp_path / "images"
    images.mkdir()
    large, _ = synthetic_tissue((400, 500), seed=3)  # 0.2 megapixels, 0.8 at 2x
    write_image(images / "large.png", large)
    result = cellseg("predict", models / "first", images, "--output", tmp_path / "out")
    assert result.code == 0, result.err
    # Chosen once, on the image's central crop (`AUTO_SCALE_CROP`), as for any image.
    assert chosen == [(384, 384)] and {scale for _, scale in used} == {2.0}
    # Regions of 256 of the network's pixels at 2x: 128 of the image's, 16 of halo.
    assert len(used) == whole_slide.region_count((400, 500), 2.0) == 4 * 4
    assert max(shape for shape, _ in used) <= (128 + 2 * 16, 128 + 2 * 16)
    assert "large.png: 500 x 400 pixels, scale 2 (the cells the network is surest of)" in (
        result.out
    )
    assert (tmp_path / "out" / "large_labels.tif").is_file()
    chosen.clear(), used.clear()
    write_image(images / "small.png", large[:300, :300])  # 0.36 megapixels at 2x
    result = cellseg(
        "predict", models / "first", images / "small.png", "--output", tmp_path / "out"
    )
    assert result.code == 0, result.err
    assert chosen == [(300, 300)] and used == [((300, 300), 2.0)]
    assert (tmp_path / "out" / "small_labels.png").is_file()


def test_slides_are_read_at_their_pixel_size_and_only_where_there_is_tissue(
    cellseg, tmp_path, monkeypatch
):
    """A 20x Aperio slide and a 40x OME-TIFF, 70% glass, and a file that is no slide: each
    slide is enlarged by its pixel size against the default model's (0.25 um), only its
    tissue goes through the network, and its results are at its scale; the broken one is
    one line naming it."""
    import gzip
    import json

    import tifffile
    from skimage.measure import label
    from test_slide_io import aperio_slide, ome_slide, tissue_slide

    import cellseg.neural_network.model as model
    import cellseg.neural_network.whole_slide as whole_slide

    monkeypatch.setattr(whole_slide, "REGION", 512)
    monkeypatch.setattr(whole_slide, "HALO", 64)
    windows = []

    def segment(self, image, *, scale="auto", counterstain=None):
        """Dark cells, the same at any scale."""
        windows.append((image.size // 3, scale))
        cells = label(image[..., 0] < 160, connectivity=1).astype(np.int32)
        return model.Cells(image, cells, scale)

    monkeypatch.setattr(model.TrainedModel, "segment", segment)
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
    assert {scale for _, scale in windows} == {1.0, 2.0}
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
    tissue_pixels = sum(size for size, _ in windows) / 2  # of each slide
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
    assert sum(size for size, _ in windows) > 1.5 * tissue_pixels


def test_a_mirax_slide_is_taken_once_from_its_folder_and_read_at_its_pixel_size(
    cellseg, tmp_path, monkeypatch
):
    """A MIRAX slide (an empty ``.mrxs`` beside a folder of its index and data files) among
    the slides of a folder: predicted once, through OpenSlide, at its pixel size, only its
    tissue sent to the network; its one region is told in the singular. With no --format
    a slide gets what napari and QuPath show over it: its labels and its cells' polygons."""
    import gzip
    import json

    from mirax_writer import mirax_slide
    from skimage.measure import label
    from test_slide_io import tissue_slide

    import cellseg.neural_network.model as model
    import cellseg.neural_network.whole_slide as whole_slide

    windows = []

    def segment(self, image, *, scale="auto", counterstain=None):
        """Dark cells, the same at any scale."""
        windows.append(image.shape[:2])
        return model.Cells(image, label(image[..., 0] < 160).astype(np.int32), scale)

    monkeypatch.setattr(model.TrainedModel, "segment", segment)
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
