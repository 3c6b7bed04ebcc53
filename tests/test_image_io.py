"""Image reading and writing: every format and dtype, and every way a file can be bad."""

import errno
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hostile_bytes import png_declaring
from PIL import Image

from cellseg.errors import CellsegError
from cellseg.image_io import read_image, read_image_shape, write_image
from cellseg.image_limits import MAX_BYTES, MAX_PIXELS
from cellseg.image_metadata import read_bit_depth

RNG = np.random.default_rng(3)


@pytest.mark.parametrize(
    "image",
    [
        RNG.integers(0, 256, (13, 17), dtype=np.uint8),
        RNG.integers(0, 256, (13, 17, 2), dtype=np.uint8),
        RNG.integers(0, 256, (13, 17, 3), dtype=np.uint8),
        RNG.integers(0, 256, (13, 17, 4), dtype=np.uint8),
        RNG.integers(0, 2**16, (13, 17), dtype=np.uint16),
        RNG.integers(0, 2**16, (13, 17, 3), dtype=np.uint16),
        RNG.integers(0, 2**16, (13, 17, 4), dtype=np.uint16),
    ],
    ids=["gray8", "gray-alpha8", "rgb8", "rgba8", "gray16", "rgb16", "rgba16"],
)
def test_png_round_trip_keeps_every_mode_and_depth(tmp_path, image):
    write_image(tmp_path / "a.png", image)
    back = read_image(tmp_path / "a.png")
    assert back.dtype == image.dtype
    assert np.array_equal(back, image)
    assert read_image_shape(tmp_path / "a.png") == image.shape[:2]


@pytest.mark.parametrize(
    "image",
    [
        RNG.integers(0, 2**16, (9, 11), dtype=np.uint16),
        RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8),
        RNG.random((9, 11)).astype(np.float32),
        RNG.integers(0, 2**31, (9, 11), dtype=np.uint32),
    ],
    ids=["gray16", "rgb8", "float32", "labels32"],
)
def test_tiff_round_trip(tmp_path, image):
    write_image(tmp_path / "a.tif", image)
    back = read_image(tmp_path / "a.tif")
    assert back.dtype == image.dtype
    assert np.array_equal(back, image)


def test_jpeg_round_trip_is_close(tmp_path):
    image = np.full((16, 16, 3), (200, 120, 60), np.uint8)
    write_image(tmp_path / "a.jpg", image)
    back = read_image(tmp_path / "a.jpg")
    assert back.shape == image.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - image).max() <= 3


def test_planar_tiff_comes_back_channels_last(tmp_path):
    planar = RNG.integers(0, 256, (3, 10, 12), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "planar.tif", planar, photometric="rgb", planarconfig="separate")
    assert np.array_equal(read_image(tmp_path / "planar.tif"), planar.transpose(1, 2, 0))


def test_bilevel_png_reads_as_black_and_white(tmp_path):
    Image.fromarray(np.array([[0, 1, 1]], bool)).save(tmp_path / "bits.png")
    assert read_image(tmp_path / "bits.png").tolist() == [[0, 255, 255]]


def test_bad_file_gives_one_line_naming_it(bad_image):
    with pytest.raises(CellsegError) as caught:
        read_image(bad_image)
    message = str(caught.value)
    assert message.startswith(str(bad_image))
    assert "\n" not in message


def test_bomb_is_refused_before_decoding(tmp_path, make_bad_image):
    path = make_bad_image(tmp_path, "decompression bomb")
    with pytest.raises(CellsegError, match=f"more than the {MAX_PIXELS:,}"):
        read_image_shape(path)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg"])
def test_writing_the_same_image_again_keeps_the_file(tmp_path, suffix):
    path = tmp_path / f"a{suffix}"
    image = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    assert write_image(path, image) is True
    written = path.stat().st_mtime_ns, path.read_bytes()
    assert write_image(path, image) is False  # the same content: kept, not an error
    assert (path.stat().st_mtime_ns, path.read_bytes()) == written
    assert not [item for item in tmp_path.iterdir() if item.name.startswith(".")]


def test_existing_file_is_kept_without_overwrite(tmp_path):
    path = tmp_path / "a.png"
    write_image(path, np.zeros((2, 2), np.uint8))
    with pytest.raises(CellsegError, match="already exists with other content"):
        write_image(path, np.ones((2, 2), np.uint8))
    assert read_image(path).max() == 0
    write_image(path, np.full((2, 2), 9, np.uint8), overwrite=True)
    assert read_image(path).max() == 9


def test_full_disk_leaves_no_half_written_file(tmp_path, monkeypatch):
    path = tmp_path / "a.tif"

    def no_space(*args, **kwargs):
        Path(args[0]).write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tifffile, "imwrite", no_space)
    with pytest.raises(CellsegError, match="No space left on device"):
        write_image(path, np.zeros((4, 4), np.float32))
    assert list(tmp_path.iterdir()) == []


def test_read_only_folder_gives_a_clear_error(tmp_path, monkeypatch):
    import tempfile

    def denied(*args, **kwargs):  # what a read-only folder answers (root ignores chmod)
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(CellsegError, match=r"a\.png: cannot write: Permission denied"):
        write_image(tmp_path / "a.png", np.zeros((2, 2), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_png_cannot_hold_float(tmp_path):
    with pytest.raises(CellsegError, match="PNG cannot hold"):
        write_image(tmp_path / "a.png", np.zeros((2, 2), np.float32))
    assert list(tmp_path.iterdir()) == []


def test_written_files_get_ordinary_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    write_image(tmp_path / "a.png", np.zeros((2, 2), np.uint8))
    assert (tmp_path / "a.png").stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize(
    ("columns", "rows", "bit_depth", "colour_type"),
    [(11000, 11000, 8, 6), (9000, 9000, 16, 2), (9000, 9000, 16, 4)],
    ids=["RGBA 8-bit", "RGB 16-bit", "gray and alpha 16-bit"],
)
def test_png_declaring_more_bytes_than_cellseg_reads_is_refused_from_its_header(
    tmp_path, columns, rows, bit_depth, colour_type
):
    # Fewer pixels than MAX_PIXELS, but more bytes decoded than MAX_BYTES.
    assert rows * columns <= MAX_PIXELS
    path = tmp_path / "big.png"
    path.write_bytes(png_declaring(columns, rows, bit_depth, colour_type))
    for read in (read_image, read_image_shape):
        with pytest.raises(CellsegError, match=f"more than the {MAX_BYTES:,} bytes"):
            read(path)


def test_jpeg_declaring_more_bytes_than_cellseg_reads_is_refused(tmp_path):
    path = tmp_path / "big.jpg"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"\xff\xc0")  # baseline frame header: length, precision, rows, columns
    data[start + 5 : start + 9] = (10000).to_bytes(2, "big") + (10000).to_bytes(2, "big")
    path.write_bytes(bytes(data))
    with pytest.raises(CellsegError, match=f"more than the {MAX_BYTES:,} bytes"):
        read_image(path)


def test_tiff_declaring_more_bytes_than_cellseg_reads_is_refused_before_decoding(tmp_path):
    path = tmp_path / "big.tif"
    tile = np.zeros((1024, 1024, 3), np.uint8)
    tifffile.imwrite(
        path,
        (tile for _ in range(100)),
        shape=(10240, 10240, 3),
        dtype=np.uint8,
        tile=(1024, 1024),
        photometric="rgb",
        compression="zlib",
    )
    assert path.stat().st_size < 1_000_000
    with pytest.raises(CellsegError, match=f"more than the {MAX_BYTES:,} bytes"):
        read_image(path)


#: How a JPEG whose EXIF orientation is 1 to 8 is shown, from its stored pixels.
ORIENTED = {
    1: lambda stored: stored,
    2: lambda stored: stored[:, ::-1],
    3: lambda stored: stored[::-1, ::-1],
    4: lambda stored: stored[::-1],
    5: lambda stored: stored.transpose(1, 0, 2),
    6: lambda stored: np.rot90(stored, -1),  # a phone held upright: turned clockwise
    7: lambda stored: np.rot90(stored, 2).transpose(1, 0, 2),
    8: lambda stored: np.rot90(stored, 1),
}


@pytest.mark.parametrize("orientation", list(ORIENTED))
def test_jpeg_is_read_as_its_exif_orientation_shows_it(tmp_path, orientation):
    stored = np.zeros((24, 40, 3), np.uint8)
    stored[:8, :16] = (255, 0, 0)  # a red block in the stored top-left corner
    stored[16:, 32:] = (0, 0, 255)
    Image.fromarray(stored).save(tmp_path / "stored.jpg", quality=95)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(tmp_path / "turned.jpg", quality=95, exif=exif)
    expected = ORIENTED[orientation](read_image(tmp_path / "stored.jpg"))
    assert np.array_equal(read_image(tmp_path / "turned.jpg"), expected)
    assert read_image_shape(tmp_path / "turned.jpg") == expected.shape[:2]


def test_12_bit_tiff_says_its_bit_depth(tmp_path):
    twelve = (np.arange(32 * 32).reshape(32, 32) % 4096).astype(np.uint16)
    tifffile.imwrite(tmp_path / "camera.tif", twelve, bitspersample=12)
    tifffile.imwrite(tmp_path / "full.tif", twelve)
    assert np.array_equal(read_image(tmp_path / "camera.tif"), twelve)
    assert read_bit_depth(tmp_path / "camera.tif") == 12
    assert read_bit_depth(tmp_path / "full.tif") is None
    write_image(tmp_path / "a.png", twelve)
    assert read_bit_depth(tmp_path / "a.png") is None


def test_a_folder_of_twenty_thousand_images_is_scanned_in_a_moment(tmp_path):
    """A folder scan sorts its files once (an earlier one compared each with every other:
    48 s for this folder)."""
    import time

    from cellseg.batch import image_files

    for index in range(20_000):
        (tmp_path / f"scan{index:05d}.png").touch()
    (tmp_path / "notes.txt").touch()
    started = time.perf_counter()
    found = image_files([tmp_path])
    assert time.perf_counter() - started < 5
    assert len(found) == 20_000 and found[0].name == "scan00000.png"


def test_a_composite_of_channel_pages_is_named_as_one(tmp_path):
    """Fiji saves a 3-channel image as a composite, one page a channel: not "multi-page TIFF
    (3 pages); give one image per file", which says it is several images."""
    channels = np.random.default_rng(0).integers(0, 255, (3, 16, 16), dtype=np.uint8)
    path = tmp_path / "composite.tif"
    tifffile.imwrite(path, channels, imagej=True, metadata={"axes": "CYX", "mode": "composite"})
    with pytest.raises(CellsegError, match=r"holds 3 channels as separate pages.*one RGB image"):
        read_image(path)
