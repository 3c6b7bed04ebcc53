"""Whole-slide prediction region by region: every cell whole, once, only where there is
tissue, resumed after a kill, with bounded memory."""

import gzip
import json

import numpy as np
import pytest
import tifffile
from dark_slides import DarkCells, results
from memory_peaks import peak_in_a_fresh_python
from skimage.measure import label
from slide_writers import aperio_slide, single_level_svs, tissue_slide
from tables import read_csv

import cellseg.neural_network.whole_slide as whole_slide
from cellseg.image_io import read_image
from cellseg.metrics import aggregated_jaccard_index, count_objects
from cellseg.neural_network.model import Cells, SlideCells, TrainedModel
from cellseg.neural_network.model_config import ModelConfig
from cellseg.neural_network.prediction import WHOLE_IMAGE_PIXELS
from cellseg.postprocessing.geojson import cell_polygons
from cellseg.prediction_files import PredictionFiles
from cellseg.preprocessing.synthetic import synthetic_tissue
from cellseg.slide_io import ArrayRegions, TiffRegions, open_slide
from cellseg.slide_outputs import LABEL_TILE


class Oracle(TrainedModel):
    """A perfect 'network': the image's pixel values are the true labels, so each window's
    cells are the truth cut at the window's edges. ``"auto"`` chooses ``auto_scale``."""

    def __init__(self, auto_scale=1.0):
        super().__init__([], ModelConfig(), name="oracle")
        self.auto_scale, self.calls = auto_scale, []

    def segment(self, image, *, scale="auto", counterstain=None):
        self.calls.append((image.shape, scale))
        chosen = self.auto_scale if scale == "auto" else scale
        return Cells(image, label(image, background=0, connectivity=1).astype(np.int32), chosen)

    def choose_scale(self, image):
        self.calls.append((image.shape, "auto"))
        self.chosen_on = image
        return self.auto_scale


class LabelRegions(ArrayRegions):
    """Windows of the true labels as they are (the oracle reads them as its image)."""

    def read(self, top, left, bottom, right):
        return self.image[top:bottom, left:right]


@pytest.fixture(scope="module")
def truth():
    _, labels = synthetic_tissue((1300, 1700), seed=8, cell_radius=(5, 14), density=0.3)
    return labels.astype(np.uint16)


def test_regions_find_every_cell_whole_and_once(small_regions, truth, tmp_path):
    slide = Oracle().segment_slide(LabelRegions(truth), scale=1.0, tissue_only=False)
    files = PredictionFiles(tmp_path, formats=("tiff", "geojson"))
    files.add("slide.tif", slide)
    found = read_image(tmp_path / "slide_labels.tif")
    assert found.dtype == np.uint32 and found.shape == truth.shape
    assert count_objects(found) == count_objects(truth)  # none doubled, none lost
    assert aggregated_jaccard_index(truth, found) == 1.0  # none cut at a region border
    with tifffile.TiffFile(tmp_path / "slide_labels.tif") as tiff:
        assert tiff.pages[0].is_tiled and tiff.is_bigtiff and tiff.is_ome
        assert [level.shape for level in tiff.series[0].levels] == [(1300, 1700), (650, 850)]
    cells = read_csv(tmp_path / "slide_cells.csv")
    assert len(cells) == count_objects(truth)
    assert sorted(int(cell["id"]) for cell in cells) == list(range(1, len(cells) + 1))
    # Each cell's centroid is where its pixels are, in the slide's coordinates (written to a
    # thousandth of a pixel).
    for cell in cells[::50]:
        rows, columns = np.nonzero(found == int(cell["id"]))
        assert abs(rows.mean() - float(cell["centroid_row"])) <= 5e-4
        assert abs(columns.mean() - float(cell["centroid_column"])) <= 5e-4
    features = json.loads((tmp_path / "slide.geojson").read_text())["features"]
    assert len(features) == len(cells)
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_tiff_regions_read_what_the_file_holds(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (700, 900, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "tiled.tif", image, tile=(256, 256), bigtiff=True)
    tifffile.imwrite(
        tmp_path / "planar.tif",
        np.moveaxis(image, -1, 0),
        photometric="rgb",
        planarconfig="separate",
        rowsperstrip=32,
    )
    for name in ("tiled.tif", "planar.tif"):
        source = TiffRegions(tmp_path / name)
        assert source.shape == (700, 900)
        assert np.array_equal(source.read(100, 200, 400, 650), image[100:400, 200:650])
        source.close()


def test_auto_scale_is_chosen_once_and_regions_are_the_networks_size_at_it(
    small_regions, truth, tmp_path
):
    oracle = Oracle(auto_scale=1.5)
    slide = oracle.segment_slide(LabelRegions(truth), scale="auto", tissue_only=False)
    assert slide.scale == 1.5
    PredictionFiles(tmp_path, formats=("tiff",)).add("slide.tif", slide)
    # Chosen once, on the central 384 x 384 (AUTO_SCALE_CROP) of the window (region and
    # halo: rows and columns 448-1087) of the region at the slide's centre (rows 512-1023,
    # columns 512-1023 of 1300 x 1700); every region found at that scale, in regions of
    # 512 of the network's pixels with 64 of halo: 341 and 43 of the slide's.
    chosen, *found = oracle.calls
    assert chosen == ((384, 384), "auto")
    assert np.array_equal(oracle.chosen_on, truth[448 + 128 : 448 + 512, 448 + 128 : 448 + 512])
    assert whole_slide.region_sides(1.5) == (341, 43)
    assert len(found) == whole_slide.region_count(truth.shape, 1.5) == 4 * 5
    assert {scale for _, scale in found} == {1.5}
    assert max(shape for shape, _ in found) == (341 + 2 * 43, 341 + 2 * 43)
    # Smaller regions, the same cells: every one whole and once.
    labels = read_image(tmp_path / "slide_labels.tif")
    assert count_objects(labels) == count_objects(truth)
    assert aggregated_jaccard_index(truth, labels) == 1.0


class Counterstains(TrainedModel):
    """A 'network' that keeps the counterstain factor every region was found with."""

    def __init__(self, haematoxylin):
        super().__init__([], ModelConfig(haematoxylin=haematoxylin), name="stains")
        self.factors = []

    def segment(self, image, *, scale="auto", counterstain=None):
        self.factors.append(counterstain)
        cells = label(image[..., 0] < 160, connectivity=1).astype(np.int32)
        return Cells(image, cells, 1.0 if scale == "auto" else scale, None, counterstain)

    def choose_scale(self, image):
        return 1.0


@pytest.mark.parametrize("scale", ["auto", 1.0])
def test_a_pale_slide_is_strengthened_by_one_factor_told_from_its_centre(
    small_regions, tmp_path, scale
):
    """Regions of glass or a few pale nuclei must not each get a factor of their own: the
    whole slide is strengthened alike, by the factor of its central region."""
    from cellseg.preprocessing.colour import counterstain_factor, rgb_from_stain_amounts

    _, labels = synthetic_tissue((1300, 1700), seed=8, cell_radius=(5, 14), density=0.3)
    stains = np.zeros((*labels.shape, 3), np.float32)
    stains[labels > 0, 0] = 0.04  # pale haematoxylin, no eosin
    stains[:, 1200:, 0] *= 0.5  # paler still on the right
    image = np.rint(rgb_from_stain_amounts(stains) * 255).astype(np.uint8)
    reference = {"lowest": 0.08, "median": 0.14}
    model = Counterstains(reference)
    slide = model.segment_slide(ArrayRegions(image), scale=scale, tissue_only=False)
    list(slide.found())
    centre = image[512 - 64 : 1024 + 64, 512 - 64 : 1024 + 64]
    assert slide.counterstain == counterstain_factor(centre, reference) > 2
    assert set(model.factors) == {slide.counterstain}
    assert len(model.factors) == whole_slide.region_count(image.shape[:2])
    # A model that never learned the haematoxylin's strength reads nothing for it.
    plain = Counterstains(None)
    assert plain.segment_slide(ArrayRegions(image), scale=1.0).counterstain == 1


def test_a_region_and_its_halo_go_through_the_network_in_one_piece():
    """Regions are sized so that their network output is never tiled and stitched."""
    window = whole_slide.REGION + 2 * whole_slide.HALO
    assert window**2 <= WHOLE_IMAGE_PIXELS
    assert whole_slide.REGION % LABEL_TILE == 0


def test_glass_never_goes_through_the_network(small_regions, blank_slide, tmp_path):
    """A slide 70% glass: only its regions with tissue are found, each cut down to its
    tissue, and they hold the same cells as the whole slide found region by region."""
    path, image, _, inside = blank_slide
    tissue_only, everywhere = DarkCells(), DarkCells()
    slide = tissue_only.segment_file(path, scale=1)
    assert slide.tissue is not None and 0.27 < slide.tissue.fraction < 0.4
    assert slide.region_count < whole_slide.region_count(image.shape) == 20
    for region in slide.regions:  # every window read holds tissue
        top, left, bottom, right = region.window
        assert inside[top:bottom, left:right].any()
    results(tmp_path / "tissue").add("blank.svs", slide)
    results(tmp_path / "all").add(
        "blank.svs", everywhere.segment_file(path, scale=1, tissue_only=False)
    )
    found = [read_image(tmp_path / kind / "blank_labels.tif") for kind in ("tissue", "all")]
    assert count_objects(found[0]) == count_objects(found[1]) > 100
    assert aggregated_jaccard_index(found[1], found[0]) == 1.0
    pixels = [
        sum(rows * columns for rows, columns in model.windows)
        for model in (tissue_only, everywhere)
    ]
    assert pixels[0] < 0.5 * pixels[1]
    # The tissue mask, as the user sees it beside the results: the tissue, a little more.
    mask = read_image(tmp_path / "tissue" / "blank_tissue.png") > 0
    assert mask.shape == (125, 150) and 0.27 < mask.mean() < 0.4  # 16 times smaller
    assert mask[::-1, ::-1][:20, :20].sum() == 0 and mask[55:70, 65:85].all()
    assert not (tmp_path / "all" / "blank_tissue.png").exists()


@pytest.mark.parametrize("tiled", [True, False])
def test_a_small_single_level_svs_is_found_as_a_slide(small_regions, tmp_path, tiled):
    """A scanner's file is a slide whatever its size and layout: an ``.svs`` of one small
    level, untiled (tifffile reads it, not OpenSlide) or tiled, goes region by region with
    its tissue mask, where a plain TIFF of that size would be read whole."""
    image, _, _ = tissue_slide((600, 700), tissue=0.5, seed=4)
    single_level_svs(tmp_path / "scan.svs", image, 0.5, tiled=tiled)
    model = DarkCells()
    slide = model.segment_file(tmp_path / "scan.svs", scale=2)
    assert isinstance(slide, SlideCells) and slide.tissue is not None and slide.scale == 2
    results(tmp_path / "out").add("scan.svs", slide)
    labels = read_image(tmp_path / "out" / "scan_labels.tif")
    assert labels.shape == (600, 700) and labels.max() > 20
    assert (tmp_path / "out" / "scan_tissue.png").exists()


def test_a_slide_without_tissue_has_no_cells(small_regions, tmp_path):
    glass = np.full((900, 1100, 3), 236, np.uint8)
    aperio_slide(tmp_path / "glass.svs", glass, 0.25)
    model = DarkCells()
    slide = model.segment_file(tmp_path / "glass.svs")
    assert slide.regions == [] and slide.scale == 1.0
    results(tmp_path / "out", formats=("tiff", "geojson.gz")).add("glass.svs", slide)
    assert model.windows == []
    assert read_image(tmp_path / "out" / "glass_labels.tif").max() == 0
    assert read_csv(tmp_path / "out" / "glass_cells.csv") == []


def test_a_grey_or_fluorescence_slide_is_looked_at_everywhere(small_regions, tmp_path, monkeypatch):
    """Tissue is told from glass by its colour: a slide without colour, or dark, has all
    of its regions found."""
    import cellseg.neural_network.model as model_module

    monkeypatch.setattr(model_module, "REGION_MODE_PIXELS", 10_000)
    grey = np.full((1100, 1100), 200, np.uint8)
    fluorescence = np.zeros((1100, 1100, 3), np.uint8)
    fluorescence[300:400, 300:400] = (20, 200, 40)
    for name, image in (("grey.tif", grey), ("fluorescence.tif", fluorescence)):
        tifffile.imwrite(tmp_path / name, image, tile=(256, 256))
        slide = DarkCells().segment_file(tmp_path / name, scale=1)
        assert slide.tissue is None and slide.region_count == 9, name
        slide.close()


def test_a_killed_slide_resumes_without_finding_its_regions_again(
    small_regions, blank_slide, tmp_path
):
    path = blank_slide[0]
    output = tmp_path / "out"
    reference = DarkCells()
    PredictionFiles(tmp_path, formats=("tiff", "geojson")).add(
        "blank.svs", reference.segment_file(path, scale=1)
    )
    killed = DarkCells(stop_after=3)
    files = results(output, formats=("tiff", "geojson"))
    with pytest.raises(KeyboardInterrupt):
        files.add("blank.svs", killed.segment_file(path, scale=1))
    kept = output / ".blank.regions"
    assert len(list(kept.glob("region_*.npz"))) == 3 and not files.finished("blank.svs")
    # Its tissue mask is there to check from the start, as predict's first line says.
    tissue = "blank_tissue.png"
    assert (output / tissue).read_bytes() == (tmp_path / tissue).read_bytes()
    progress = []
    again = DarkCells()
    files.add(
        "blank.svs", again.segment_file(path, scale=1), progress=lambda *now: progress.append(now)
    )
    assert len(again.windows) == len(reference.windows) - 3  # the 3 finished, not again
    assert progress[0] == (3, len(reference.windows), progress[0][2]) and progress[0][2] > 0
    assert [done for done, _, _ in progress] == list(range(3, len(reference.windows) + 1))
    assert progress[-1][2] == len(read_csv(output / "blank_cells.csv"))
    for name in ("blank_labels.tif", "blank_cells.csv", "blank.geojson"):
        assert (output / name).read_bytes() == (tmp_path / name).read_bytes(), name
    assert files.finished("blank.svs") and not kept.exists()


def test_a_slides_geojson_is_simplified_and_gzipped_and_sizes_in_micrometres(
    small_regions, blank_slide, tmp_path
):
    path, _, _, _ = blank_slide
    slide = DarkCells().segment_file(path, scale=1)
    files = PredictionFiles(tmp_path, formats=("geojson", "geojson.gz", "tiff"))
    files.add("blank.svs", slide, pixel_size=0.25)
    text = (tmp_path / "blank.geojson").read_bytes()
    assert gzip.decompress((tmp_path / "blank.geojson.gz").read_bytes()) == text
    assert (tmp_path / "blank.geojson.gz").stat().st_size < len(text) / 3
    header = (tmp_path / "blank.geojson.gz").read_bytes()[:40]  # gunzip's name, no temporary
    assert header[3] & 8 and header[10:].split(b"\0")[0] == b"blank.geojson"
    features = json.loads(text)["features"]
    labels = read_image(tmp_path / "blank_labels.tif")
    assert len(features) == labels.max() > 100
    cells = read_csv(tmp_path / "blank_cells.csv")
    assert float(cells[0]["area_um2"]) == pytest.approx(float(cells[0]["area"]) / 16, abs=1e-4)
    assert features[0]["properties"]["measurements"]["Area µm^2"] > 0
    with tifffile.TiffFile(tmp_path / "blank_labels.tif") as tiff:
        assert 'PhysicalSizeX="0.25"' in tiff.ome_metadata
    points = 0
    for feature in features[::20]:  # within half a pixel of the cell's whole outline
        cell = feature["properties"]["measurements"]["Label"]
        rows, columns = np.nonzero(labels == cell)
        top, left = rows.min(), columns.min()
        crop = labels[top : rows.max() + 1, left : columns.max() + 1] == cell
        (outline,) = cell_polygons(crop.astype(np.int32), tolerance=0).values()
        ring = np.array(feature["geometry"]["coordinates"][0]) - [left, top]
        assert _distance_to_ring(outline, ring) <= 0.5 + 1e-6
        points += len(ring) / len(outline)
    assert points / len(features[::20]) < 0.4  # most points are gone
    zipped = (tmp_path / "blank.geojson.gz").stat().st_size
    print(
        f"GeoJSON: {len(text) / len(features):.0f} bytes a cell, "
        f"{zipped / len(features):.0f} gzipped"
    )


def _distance_to_ring(points: np.ndarray, ring: np.ndarray) -> float:
    """The farthest of ``points`` from the segments of ``ring``."""
    starts, ends = ring[:-1], ring[1:]
    along = ends - starts
    length = np.maximum((along**2).sum(axis=1), 1e-12)
    t = np.clip(((points[:, None] - starts) * along).sum(axis=2) / length, 0, 1)
    nearest = starts + t[..., None] * along
    return float(np.sqrt(((points[:, None] - nearest) ** 2).sum(axis=2)).min(axis=1).max())


def test_memory_stays_bounded_on_a_larger_slide(tmp_path):
    """Finding and writing a slide's cells holds a few regions and bands, not the slide:
    a slide 4 times larger peaks at about the same memory (each in a Python of its own)."""
    sides = (1024, 2048)
    peaks = [
        peak_in_a_fresh_python("slide_peak", side, str(tmp_path / str(side))) for side in sides
    ]
    assert peaks[1] < 1.5 * peaks[0], [f"{peak / 1e6:.0f} MB" for peak in peaks]


def test_a_slide_source_for_each_format(blank_slide):
    source = open_slide(blank_slide[0])
    assert source.shape == blank_slide[1].shape[:2]
    source.close()
