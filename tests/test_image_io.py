"""Image reading and writing: every format and dtype, and every way a file can be bad."""

import errno
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from cellseg.errors import CellsegError
from cellseg.image_io import MAX_PIXELS, read_image, read_image_shape, write_image

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


def test_existing_file_is_kept_without_overwrite(tmp_path):
    path = tmp_path / "a.png"
    write_image(path, np.zeros((2, 2), np.uint8))
    with pytest.raises(CellsegError, match="already exists"):
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
