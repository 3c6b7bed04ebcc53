"""Whole-slide prediction region by region: every cell whole, once, with bounded memory."""

import csv

import numpy as np
import pytest
import tifffile
from skimage.measure import label

import cellseg.neural_network.whole_slide as whole_slide
from cellseg.image_io import read_image
from cellseg.metrics import aggregated_jaccard_index, count_objects
from cellseg.neural_network.model import Cells, TrainedModel
from cellseg.neural_network.model_config import ModelConfig
from cellseg.prediction_files import PredictionFiles
from cellseg.preprocessing.synthetic import synthetic_tissue
from cellseg.slide_io import LABEL_TILE, ArrayRegions, LabelStrips, TiffRegions


class Oracle(TrainedModel):
    """A perfect 'network': the image's pixel values are the true labels, so each window's
    cells are the truth cut at the window's edges. ``"auto"`` chooses ``auto_scale``."""

    def __init__(self, auto_scale=1.0):
        super().__init__([], ModelConfig(), name="oracle")
        self.auto_scale, self.calls = auto_scale, []

    def segment(self, image, *, scale="auto"):
        self.calls.append((image.shape, scale))
        chosen = self.auto_scale if scale == "auto" else scale
        return Cells(image, label(image, background=0, connectivity=1).astype(np.int32), chosen)


class LabelRegions(ArrayRegions):
    """Windows of the true labels as they are (the oracle reads them as its image)."""

    def read(self, top, left, bottom, right):
        return self.image[top:bottom, left:right]


@pytest.fixture
def small_regions(monkeypatch):
    monkeypatch.setattr(whole_slide, "REGION", 512)
    monkeypatch.setattr(whole_slide, "HALO", 64)


@pytest.fixture(scope="module")
def truth():
    _, labels = synthetic_tissue((1300, 1700), seed=8, cell_radius=(5, 14), density=0.3)
    return labels.astype(np.uint16)


def test_regions_find_every_cell_whole_and_once(small_regions, truth, tmp_path):
    slide = Oracle().segment_slide(LabelRegions(truth), scale=1.0)
    files = PredictionFiles(tmp_path, formats=("tiff", "geojson"))
    files.add("slide.tif", slide)
    found = read_image(tmp_path / "slide_labels.tif")
    assert found.dtype == np.uint32 and found.shape == truth.shape
    assert count_objects(found) == count_objects(truth)  # none doubled, none lost
    assert aggregated_jaccard_index(truth, found) == 1.0  # none cut at a region border
    with tifffile.TiffFile(tmp_path / "slide_labels.tif") as tiff:
        assert tiff.pages[0].is_tiled and tiff.is_bigtiff
    with open(tmp_path / "slide_cells.csv", newline="") as file:
        cells = list(csv.DictReader(file))
    assert len(cells) == count_objects(truth)
    assert sorted(int(cell["id"]) for cell in cells) == list(range(1, len(cells) + 1))
    # Each cell's centroid is where its pixels are, in the slide's coordinates.
    for cell in cells[::50]:
        rows, columns = np.nonzero(found == int(cell["id"]))
        assert abs(rows.mean() - float(cell["centroid_row"])) < 1e-6
        assert abs(columns.mean() - float(cell["centroid_column"])) < 1e-6
    assert (tmp_path / "slide.geojson").is_file()
    assert not list(tmp_path.glob(".*.tmp"))


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


def test_strips_release_their_tiles_in_order():
    strips = LabelStrips(5000, 600, 2048)
    strips.paint(np.full((10, 10), 7, np.uint32), 2040, 300)  # across strips 0 and 1
    first = list(strips.tiles(before=1))
    # Strip 0 is 8 rows of 3 tiles; rows 2040-2047, column 300: tile row 7, tile column 1.
    assert len(first) == 8 * 3 and first[7 * 3 + 1][248, 44] == 7
    assert 0 not in strips.strips  # released from memory
    rest = list(strips.tiles())
    assert rest[1][1, 44] == 7  # rows 2048-2049 open strip 1
    assert len(first) + len(rest) == 20 * 3  # 5000 rows: 20 tile rows


def test_auto_scale_is_chosen_once_and_its_region_not_found_again(small_regions, truth, tmp_path):
    oracle = Oracle(auto_scale=1.5)
    slide = oracle.segment_slide(LabelRegions(truth), scale="auto")
    assert slide.scale == 1.5
    PredictionFiles(tmp_path, formats=("tiff",)).add("slide.tif", slide)
    # One measurement, on the window (region and halo) of the region at the slide's centre
    # (rows 512-1023, columns 512-1023 of 1300 x 1700); every other region at its scale.
    measured, *others = oracle.calls
    assert measured == ((512 + 2 * 64, 512 + 2 * 64), "auto")
    assert [scale for _, scale in others] == [1.5] * (whole_slide.region_count(truth.shape) - 1)
    # The central region's cells, reused, are as whole and as many as when found again.
    found = read_image(tmp_path / "slide_labels.tif")
    assert count_objects(found) == count_objects(truth)
    assert aggregated_jaccard_index(truth, found) == 1.0


def test_a_region_and_its_halo_go_through_the_network_in_one_piece():
    """Regions are sized so that their network output is never tiled and stitched."""
    window = whole_slide.REGION + 2 * whole_slide.HALO
    assert window**2 <= whole_slide.WHOLE_IMAGE_PIXELS < (window + LABEL_TILE) ** 2
    assert whole_slide.REGION % LABEL_TILE == 0
