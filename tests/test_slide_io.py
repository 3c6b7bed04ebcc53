"""Whole slides as scanners write them, read and written region by region.

The slides are built small, in the scanners' own layouts (`slide_writers`: Aperio SVS,
OME-TIFF, Hamamatsu NDPI, ARGOS, Philips TIFF, DICOM; `mirax_writer`: MIRAX;
`czi_writer`: Zeiss CZI), from `tissue_slide`'s synthetic H&E on glass.
"""

import warnings

import numpy as np
import pytest
import tifffile
from czi_writer import czi_slide
from memory_peaks import peak_in_a_fresh_python
from mirax_writer import mirax_slide
from slide_writers import (
    aperio_slide,
    argos_slide,
    dicom_slide,
    ndpi_slide,
    ome_slide,
    philips_slide,
    single_level_svs,
    tissue_slide,
    ventana_slide,
)

from cellseg import slide_io
from cellseg.batch import image_files
from cellseg.errors import CellsegError, CellsegWarning
from cellseg.image_io import write_image
from cellseg.image_metadata import read_pixel_size
from cellseg.neural_network.model import TrainedModel
from cellseg.neural_network.model_config import ModelConfig
from cellseg.slide_io import CziRegions, OpenSlideRegions, TiffRegions, open_slide
from cellseg.slide_outputs import LABEL_TILE, RegionStore, write_label_pyramid


def assert_jpeg_window(source, picture):
    """A window of a slide of JPEG tiles reads back close to the picture, not equal to it."""
    window = source.read(100, 200, 400, 650)
    assert window.shape == (300, 450, 3) and window.dtype == np.uint8
    assert np.abs(window.astype(int) - picture[100:400, 200:650]).mean() < 4


def assert_shrunk_8x(small, picture):
    """A low-resolution picture 8x smaller holds the means of the picture's 8 x 8 blocks."""
    means = picture[:696].reshape(87, 8, 125, 8, 3).mean(axis=(1, 3))
    assert np.abs(small[:87, :125] - means).mean() < 12


@pytest.fixture(scope="module")
def picture():
    image, _, _ = tissue_slide((700, 1000), tissue=0.5, seed=1)
    return image


def test_an_aperio_slide_is_read_through_openslide_with_its_pixel_size(picture, tmp_path):
    aperio_slide(tmp_path / "scan.svs", picture, 0.499)
    source = open_slide(tmp_path / "scan.svs")
    assert isinstance(source, OpenSlideRegions) and source.shape == (700, 1000)
    window = source.read(100, 200, 400, 650)
    assert window.dtype == np.uint8 and np.array_equal(window, picture[100:400, 200:650])
    # The low-resolution picture comes from the 4x level, shrunk 2x more: 8x in all.
    small = source.low_resolution(8)
    assert small.shape == (88, 125, 3)
    assert_shrunk_8x(small, picture)
    source.close()
    assert read_pixel_size(tmp_path / "scan.svs") == 0.499


@pytest.mark.parametrize("tiled", [True, False])
def test_a_single_level_svs_is_read_with_its_pixel_size(picture, tmp_path, tiled):
    """Its pixel size from its Aperio ``MPP`` (OpenSlide gives none for it), its pixels
    through OpenSlide when tiled, through tifffile when not."""
    path = tmp_path / "scan.svs"
    single_level_svs(path, picture, 0.5, tiled=tiled)
    source = open_slide(path)
    assert isinstance(source, OpenSlideRegions if tiled else TiffRegions)
    assert source.shape == (700, 1000)
    assert np.array_equal(source.read(100, 200, 400, 650), picture[100:400, 200:650])
    source.close()
    assert read_pixel_size(path) == 0.5


@pytest.mark.parametrize(
    ("write", "name", "reader", "pixel_size"),
    [
        (ndpi_slide, "scan.ndpi", OpenSlideRegions, 0.2265),
        (argos_slide, "scan.avs", OpenSlideRegions, 0.2634),
        # Its pixel spacing in its first description's XML, which OpenSlide does not read.
        (philips_slide, "scan.tiff", TiffRegions, 0.2271),
        # Its ScanRes in its XMP, which tifffile does not read.
        (ventana_slide, "scan.tif", TiffRegions, 0.2325),
    ],
)
def test_hamamatsu_argos_philips_and_ventana_slides_are_read_with_their_pixel_size(
    picture, tmp_path, write, name, reader, pixel_size
):
    write(tmp_path / name, picture, pixel_size)
    source = open_slide(tmp_path / name)
    assert isinstance(source, reader) and source.shape == (700, 1000)
    assert_jpeg_window(source, picture)
    assert source.low_resolution(8).shape == (88, 125, 3)  # the 4x level, halved
    source.close()
    assert read_pixel_size(tmp_path / name) == pixel_size


def test_a_mirax_slide_is_read_through_openslide_with_its_pixel_size(picture, tmp_path):
    mirax_slide(tmp_path / "scan.mrxs", picture, 0.2428)
    source = open_slide(tmp_path / "scan.mrxs")
    # MIRAX keeps whole images: 4 x 3 of 256 pixels, the picture padded white to fill them.
    assert isinstance(source, OpenSlideRegions) and source.shape == (768, 1024)
    assert_jpeg_window(source, picture)
    assert source.read(700, 0, 768, 1024).mean() > 250
    # The low-resolution picture comes from the 4x level, shrunk 2x more: 8x in all.
    small = source.low_resolution(8)
    assert small.shape == (96, 128, 3)
    assert_shrunk_8x(small, picture)
    source.close()
    assert read_pixel_size(tmp_path / "scan.mrxs") == 0.2428
    # A folder scan lists the slide once, nothing from its folder (Slidedat.ini, Index.dat...).
    assert [path.name for path in image_files([tmp_path], slides=True)] == ["scan.mrxs"]


def test_a_philips_or_ventana_tiff_without_its_own_pixel_size_has_its_resolution_tags(
    tmp_path,
):
    description = '<?xml version="1.0" ?><DataObject ObjectType="DPUfsImport"></DataObject>'
    tifffile.imwrite(
        tmp_path / "scan.tiff",
        np.full((300, 300, 3), 200, np.uint8),
        software="Philips DP v1.0",
        description=description,
        resolution=(2e4, 2e4),  # pixels per centimetre: 0.5 um
        resolutionunit="CENTIMETER",
        metadata=None,
    )
    assert read_pixel_size(tmp_path / "scan.tiff") == 0.5
    broken = b"<iScan ScanRes=0.25 this is no XML"
    tifffile.imwrite(
        tmp_path / "scan.tif",
        np.full((300, 300, 3), 200, np.uint8),
        extratags=[(700, 1, len(broken), broken, True)],
        resolution=(2e4, 2e4),
        resolutionunit="CENTIMETER",
        metadata=None,
    )
    assert read_pixel_size(tmp_path / "scan.tif") == 0.5  # a damaged XMP: the tags say


def test_a_zeiss_slide_is_read_through_openslide_with_its_pixel_size(picture, tmp_path):
    czi_slide(tmp_path / "scan.czi", picture, 0.2201)
    source = open_slide(tmp_path / "scan.czi")
    assert isinstance(source, OpenSlideRegions) and source.shape == (700, 1000)
    assert np.array_equal(source.read(100, 200, 400, 650), picture[100:400, 200:650])
    # The low-resolution picture comes from the 4x level, shrunk 2x more: 8x in all.
    small = source.low_resolution(8)
    assert small.shape == (88, 125, 3)
    assert_shrunk_8x(small, picture)
    source.close()
    assert read_pixel_size(tmp_path / "scan.czi") == pytest.approx(0.2201)


@pytest.mark.parametrize("compression", ["zstd", "jpegxr"])
def test_a_zeiss_slide_is_read_through_pylibczirw_where_openslide_refuses_it(
    picture, tmp_path, compression
):
    """Zeiss' own pylibCZIrw reads what OpenSlide 4.0.1 refuses: JPEG XR tiles, as many
    Zeiss scanners write them. Read with it, a slide gives the same windows, pyramid and
    pixel size, its decoded tiles kept in a bounded cache."""
    path = tmp_path / "scan.czi"
    czi_slide(path, picture, 0.2201, compression=compression)
    source = CziRegions(path)
    assert source.shape == (700, 1000)
    window = source.read(100, 200, 400, 650)
    assert window.dtype == np.uint8 and window.shape == (300, 450, 3)
    assert np.abs(window.astype(int) - picture[100:400, 200:650]).mean() < 1
    assert_shrunk_8x(source.low_resolution(8), picture)
    # Decoded tiles are kept for the windows that share them, within CZI_CACHE_BYTES.
    assert 0 < source.document.get_cache_info().memory_usage <= slide_io.CZI_CACHE_BYTES
    source.close()
    source = CziRegions(path, cache_bytes=500_000)  # two or three tiles
    for top in range(0, 700, 100):
        source.read(top, 0, top + 100, 1000)
    assert 0 < source.document.get_cache_info().memory_usage <= 500_000
    source.close()
    assert read_pixel_size(path) == 0.2201
    assert open_slide(path).read(100, 200, 400, 650).shape == (300, 450, 3)


def test_a_dicom_slide_is_read_through_openslide_from_any_of_its_files(picture, tmp_path):
    dicom_slide(tmp_path / "scan", picture, 0.25)
    for name in ("level0.dcm", "level1.dcm"):
        source = open_slide(tmp_path / "scan" / name)
        assert isinstance(source, OpenSlideRegions) and source.shape == (700, 1000)
        assert np.array_equal(source.read(100, 200, 400, 650), picture[100:400, 200:650])
        assert source.low_resolution(8).shape == (88, 125, 3)  # the 4x level, halved
        source.close()
        assert read_pixel_size(tmp_path / "scan" / name) == 0.25
    assert [path.name for path in image_files([tmp_path / "scan"], slides=True)] == ["level0.dcm"]


def test_an_ome_tiff_pyramid_is_read_through_tifffile(picture, tmp_path):
    ome_slide(tmp_path / "scan.ome.tif", picture, 0.25)
    source = open_slide(tmp_path / "scan.ome.tif")
    assert isinstance(source, TiffRegions)
    assert source.level_shapes == [(700, 1000), (350, 500), (175, 250)]
    assert np.array_equal(source.read(0, 900, 700, 1000), picture[:, 900:])
    assert source.low_resolution(8).shape == (88, 125, 3)  # from the 4x level, halved
    source.close()
    assert read_pixel_size(tmp_path / "scan.ome.tif") == 0.25


@pytest.mark.parametrize(
    ("write", "pixel_size", "scale"),
    [
        (aperio_slide, 0.5, 2.0),
        (aperio_slide, 0.25, 1.0),
        (ome_slide, 0.5, 2.0),
        (ndpi_slide, 0.4536, 1.81),
        (czi_slide, 0.5, 2.0),
        (argos_slide, 0.5, 2.0),
        (philips_slide, 0.5, 2.0),
        (ventana_slide, 0.5, 2.0),
    ],
)
def test_a_20x_slide_is_enlarged_2x_for_a_40x_model(picture, tmp_path, write, pixel_size, scale):
    suffixes = {ome_slide: ".ome.tif", ndpi_slide: ".ndpi", czi_slide: ".czi", argos_slide: ".avs"}
    suffixes |= {philips_slide: ".tiff", ventana_slide: ".tif"}
    path = tmp_path / f"scan{suffixes.get(write, '.svs')}"
    write(path, picture, pixel_size)
    model = TrainedModel([], ModelConfig(pixel_size=0.25))
    assert model.scale_for_pixel_size(read_pixel_size(path)) == scale


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.svs", b"not a slide at all" * 100),
        ("empty.ndpi", b""),
        ("cut.svs", None),  # an Aperio slide cut short
        ("picture.mrxs", "png"),  # a PNG named as a MIRAX slide
        ("scan.mrxs", "mirax without its index"),
        ("broken.tif", b"II*\x00" + b"\xff" * 40),
        ("broken.svs", b"II*\x00" + b"\xff" * 40),  # a TIFF neither library reads
        ("broken.czi", b"ZISRAWFILE" + bytes(500)),  # a Zeiss header, and nothing it points to
    ],
)
def test_an_unreadable_slide_is_one_line_naming_it(picture, tmp_path, name, content):
    """One line naming the slide, and its files left as they were."""
    path = tmp_path / name
    if content == "mirax without its index":
        mirax_slide(path, picture, 0.25)
        (tmp_path / "scan" / "Index.dat").unlink()
    elif content is None:
        aperio_slide(tmp_path / "whole.svs", picture, 0.25)
        path.write_bytes((tmp_path / "whole.svs").read_bytes()[:5000])
    elif content == "png":
        write_image(tmp_path / "picture.png", picture)
        (tmp_path / "picture.png").rename(path)
    else:
        path.write_bytes(content)
    before = {file: file.read_bytes() for file in tmp_path.rglob("*") if file.is_file()}
    with pytest.raises(CellsegError) as refused:
        open_slide(path).read(0, 0, 10, 10)
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    if content == b"":  # not "not a slide OpenSlide can read (Unsupported or missing...)"
        assert message == f"{path}: empty file (0 bytes)"
    assert {file: file.read_bytes() for file in tmp_path.rglob("*") if file.is_file()} == before


def test_the_label_pyramid_is_an_ome_tiff_at_the_slides_pixel_size(tmp_path):
    labels = np.random.default_rng(2).integers(0, 5000, (1300, 2100)).astype(np.uint32)
    bands = (labels[top : top + LABEL_TILE] for top in range(0, 1300, LABEL_TILE))
    write_label_pyramid(tmp_path / "labels.tif", labels.shape, bands, pixel_size=0.5)
    with tifffile.TiffFile(tmp_path / "labels.tif") as tiff:
        assert tiff.is_ome and tiff.is_bigtiff and tiff.pages[0].is_tiled
        assert 'PhysicalSizeX="0.5"' in tiff.ome_metadata
        levels = tiff.series[0].levels
        assert [level.shape for level in levels] == [(1300, 2100), (650, 1050), (325, 525)]
        for level, factor in zip(levels, (1, 2, 4), strict=True):
            assert np.array_equal(level.asarray(), labels[::factor, ::factor])
        x_resolution = tiff.pages[0].tags["XResolution"].value
        assert x_resolution[0] / x_resolution[1] == pytest.approx(1e4 / 0.5)  # per cm
    assert list(tmp_path.iterdir()) == [tmp_path / "labels.tif"]  # no level left behind


def test_a_killed_runs_pyramid_scratch_folder_is_removed_by_the_next(tmp_path):
    """kill -9 while the levels were written left a hidden .pyramid.* folder, never removed;
    another slide's, which another process may be writing, is left alone."""
    for stale in (".pyramid.a_labels.x1y2", ".pyramid.b_labels.z3"):
        (tmp_path / stale).mkdir()
        (tmp_path / stale / "level1").write_bytes(b"half a level")
    labels = np.ones((1300, 1300), np.uint32)
    bands = (labels[top : top + LABEL_TILE] for top in range(0, 1300, LABEL_TILE))
    write_label_pyramid(tmp_path / "a_labels.tif", labels.shape, bands, name="a_labels")
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        ".pyramid.b_labels.z3",
        "a_labels.tif",
    ]


def test_glass_in_the_label_pyramid_reads_back_as_zeros_at_every_level(tmp_path):
    """Tiles and whole bands of glass (no cell) are written without compressing each one;
    the pyramid reads back exactly, cells and glass, at every level."""
    labels = np.zeros((2400, 1900), np.uint32)
    labels[300:420, 500:1300] = np.arange(1, 120 * 800 + 1).reshape(120, 800)  # one band
    labels[1790:1800, 1880:] = 7  # the corner of the last column of tiles, padded
    bands = (labels[top : top + LABEL_TILE] for top in range(0, 2400, LABEL_TILE))
    write_label_pyramid(tmp_path / "labels.tif", labels.shape, bands)
    with tifffile.TiffFile(tmp_path / "labels.tif") as tiff:
        levels = tiff.series[0].levels
        assert [level.shape for level in levels] == [(2400, 1900), (1200, 950), (600, 475)]
        for level, factor in zip(levels, (1, 2, 4), strict=True):
            assert np.array_equal(level.asarray(), labels[::factor, ::factor])
        sizes = tiff.pages[0].databytecounts
        assert len(set(sizes)) < len(sizes) / 2  # most tiles are the one tile of glass


def test_the_label_pyramid_is_written_without_holding_the_slide(tmp_path):
    """A 4096 x 4096 slide's labels (64 MB) are written holding a few bands at a time."""
    rows = columns = 4096
    peak = peak_in_a_fresh_python("label_pyramid_peak", str(tmp_path), rows)  # labels.tif
    band = LABEL_TILE * columns * 4  # bytes
    assert peak < 4 * band, f"{peak / 1e6:.0f} MB of a {rows * columns * 4 / 1e6:.0f} MB slide"
    with tifffile.TiffFile(tmp_path / "labels.tif") as tiff:
        assert tiff.series[0].levels[0].asarray()[-1, -1] == (rows * columns - 1) // 97


def test_regions_kept_on_disk_rebuild_the_slides_labels(tmp_path):
    shape = (600, 500)
    first = np.zeros((400, 300), np.uint32)
    first[10:20, 10:20], first[300:310, 200:210] = 1, 2
    second = np.zeros((350, 500), np.uint32)
    second[100:120, 400:420] = 1
    store = RegionStore(tmp_path / ".slide.regions", {"model": "a"})
    store.add(0, (0, 0, 400, 300), first, np.zeros((2, 9)))
    store.add(3, (250, 0, 600, 500), second, np.ones((1, 9)), rings=[np.ones((5, 2))])
    assert store.done() == {0, 3}
    assert store.read(3, "ring_ends", "ring_points")[0].tolist() == [5]
    labels = np.concatenate(list(store.label_bands(shape, {0: 0, 3: 2})))
    expected = np.zeros(shape, np.uint32)
    expected[:400, :300] = first
    expected[350:370, 400:420] = 3  # the second region's cell 1, after the first's 2
    assert np.array_equal(labels, expected)
    assert RegionStore(tmp_path / ".slide.regions", {"model": "a"}).done() == {0, 3}
    assert RegionStore(tmp_path / ".slide.regions", {"model": "b"}).done() == set()
    store.remove()
    assert not (tmp_path / ".slide.regions").exists()


def test_folder_scans_list_slides_and_one_file_of_a_dicom_slide(tmp_path):
    names = ("a.png", "b.svs", "c.ndpi", "d.mrxs", "f.czi", "g.avs", "level0.dcm", "level1.dcm")
    for name in (*names, "e.txt"):
        (tmp_path / name).write_bytes(b"x")
    with pytest.warns(CellsegWarning, match="7 images skipped, not PNG, JPEG or TIFF: b.svs"):
        assert [path.name for path in image_files([tmp_path])] == ["a.png"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", CellsegWarning)  # slides are read: no warning
        found = [path.name for path in image_files([tmp_path], slides=True)]
    assert found == ["a.png", "b.svs", "c.ndpi", "d.mrxs", "f.czi", "g.avs", "level0.dcm"]


@pytest.mark.parametrize(("suffix", "kind"), [(".png", "PNG"), (".jpg", "JPEG")])
def test_a_picture_named_as_a_slide_is_told_for_what_it_is(tmp_path, suffix, kind):
    picture = tmp_path / f"scan{suffix}"
    write_image(picture, np.full((40, 50, 3), 200, np.uint8))
    for name in ("scan.svs", "scan.ndpi"):
        path = tmp_path / name
        path.write_bytes(picture.read_bytes())
        with pytest.raises(CellsegError) as refused:
            open_slide(path)
        assert str(refused.value) == (
            f"{path}: is a {kind} picture, not a slide: name it .{kind.lower()}"
        )
