"""Hostile files from a probe (issue #33), built here by the tests themselves.

Each is refused in one line naming it, with exit code 1, while the other files of its folder
are processed, the inputs stay byte for byte as they were and nothing half-written is left;
or, where the file is fine, the command succeeds within bounded memory.

(Ordinary broken images are in test_bad_inputs.py; hostile inputs to the model commands in
test_hostile_inputs.py; to report, serve and numeric options in test_hostile_report_serve.py.)
"""

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hostile_entries import Run
from memory_peaks import peak_in_a_fresh_python

from cellseg.errors import CellsegError
from cellseg.image_io import read_image, write_image
from cellseg.image_limits import MAX_BYTES
from cellseg.preprocessing.colour import as_rgb, significant_bits


def assert_refused(result, path):
    """Exit code 1, no traceback, and exactly one error line, which names ``path``."""
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    errors = [line for line in result.error_lines if ": error: " in line]
    assert len(errors) == 1, result.err
    assert str(path) in errors[0], result.err


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def folder_with_a_good_image(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_image(folder / "good.png", np.full((16, 16), 90, np.uint8))
    return folder


# --- 4: compressed TIFFs whose pixels are damaged --------------------------------------


def damaged_tiff(path: Path, compression: str, damage: str) -> Path:
    """A TIFF with an intact header whose compressed pixels are cut short, blanked (zeros)
    or scrambled (0xff); the first two bytes of the stream are kept."""
    colour = compression in ("jpeg", "webp")
    image = np.random.default_rng(1).integers(
        0, 256, (64, 64, 3) if colour else (64, 64), dtype=np.uint8
    )
    photometric = "rgb" if colour else "minisblack"
    tifffile.imwrite(path, image, compression=compression, photometric=photometric)
    with tifffile.TiffFile(path) as tiff:
        start, length = tiff.pages[0].dataoffsets[0], tiff.pages[0].databytecounts[0]
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        del data[start + length // 2 :]
    else:
        data[start + 2 : start + length] = (b"\0" if damage == "blanked" else b"\xff") * (
            length - 2
        )
    path.write_bytes(bytes(data))
    return path


DAMAGED_TIFFS = [
    ("zlib", "truncated"),  # imagecodecs' DeflateError
    ("jpeg", "blanked"),  # Jpeg8Error
    ("zstd", "truncated"),  # ZstdError
    ("webp", "truncated"),  # WebpError
    ("lzma", "blanked"),  # LzmaError
    ("lzw", "scrambled"),  # ImcdError
]


@pytest.mark.parametrize(("compression", "damage"), DAMAGED_TIFFS)
def test_damaged_compressed_tiff_reads_as_one_line_naming_it(tmp_path, compression, damage):
    path = damaged_tiff(tmp_path / f"{compression}.tif", compression, damage)
    with pytest.raises(CellsegError) as caught:
        read_image(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("compression", "damage"), DAMAGED_TIFFS)
def test_blur_skips_a_damaged_compressed_tiff_and_does_the_rest(
    tmp_path, cellseg, folder_digest, compression, damage
):
    folder = folder_with_a_good_image(tmp_path / "scans")
    bad = damaged_tiff(folder / "damaged.tif", compression, damage)
    before = folder_digest(folder)
    result = cellseg("blur", folder, tmp_path / "out")
    assert_refused(result, bad)
    assert "1 of 2 images failed" in result.err
    assert names(tmp_path / "out") == ["good.png"]
    assert folder_digest(folder) == before


# --- 5: a small PNG that decodes to half a gigabyte -----------------------------------


def black_png(path: Path, rows: int, columns: int, channels: int) -> Path:
    """A black 8-bit PNG compressed row by row, so that a huge one costs the test no memory:
    11000 x 11000 RGBA is 470 KB on disk and 484 MB decoded."""
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    compressor = zlib.compressobj(9)
    row = bytes(1 + columns * channels)  # filter byte 0, then black samples
    pixels = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", columns, rows, 8, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
    return path


#: Address space given to a command run under a memory limit: Python with numpy, scipy and
#: imagecodecs takes about 0.4 GB of it before reading any image.
MEMORY_LIMIT = 2 * 2**30

_LIMITED_CELLSEG = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from cellseg.cli import main
sys.exit(main(sys.argv[1:]))
"""


def cellseg_within(limit: int, *arguments) -> Run:
    """Run ``cellseg ARGS...`` in a subprocess whose address space is capped at ``limit``."""
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED_CELLSEG.format(limit=limit), *map(str, arguments)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    return Run(done.returncode, done.stderr)


def test_blur_of_a_png_that_decodes_to_484_mb_is_refused_within_2_gb(tmp_path, folder_digest):
    folder = folder_with_a_good_image(tmp_path / "scans")
    bomb = black_png(folder / "huge.png", 11000, 11000, 4)
    assert bomb.stat().st_size < 500_000
    before = folder_digest(folder)
    result = cellseg_within(MEMORY_LIMIT, "blur", folder, tmp_path / "out")
    assert_refused(result, bomb)
    assert "MemoryError" not in result.err
    assert f"{MAX_BYTES:,} bytes" in result.err
    assert names(tmp_path / "out") == ["good.png"]
    assert folder_digest(folder) == before


@pytest.mark.slow
def test_blur_of_the_largest_png_read_succeeds_within_2_gb(tmp_path):
    # 8000 x 8000 RGBA: 256,000,000 bytes, just under MAX_BYTES; float64 copies of it took
    # 2 GB each.
    (tmp_path / "in").mkdir()
    black_png(tmp_path / "in" / "large.png", 8000, 8000, 4)
    result = cellseg_within(MEMORY_LIMIT, "blur", tmp_path / "in", tmp_path / "out")
    assert result.code == 0, result.err
    assert names(tmp_path / "out") == ["large.png"]


@pytest.mark.parametrize(
    ("dtype", "shape"),
    [(np.uint8, (1000, 1000)), (np.uint8, (500, 500, 4)), (np.uint16, (500, 500, 3))],
)
def test_blur_holds_the_result_and_one_float32_channel_at_a_time(dtype, shape):
    image = np.zeros(shape, dtype)
    pixels = shape[0] * shape[1]
    peak = peak_in_a_fresh_python("blur_peak", np.dtype(dtype).name, shape)
    # The result, and one channel in float32 while it is blurred and rounded (float64 copies
    # of every channel, as before, took 16 to 24 bytes per sample).
    assert peak <= image.nbytes + 4 * pixels + 2**16, peak / image.nbytes


# --- 8: 12-bit and 10-bit camera data in 16-bit files ---------------------------------


@pytest.mark.parametrize(
    ("brightest", "bits"),
    [(0, 8), (255, 8), (256, 10), (1023, 10), (4095, 12), (4096, 14), (16383, 14), (65535, 16)],
)
def test_bit_depth_of_16_bit_data_follows_its_brightest_value(brightest, bits):
    image = np.array([[0, brightest]], np.uint16)
    assert significant_bits(image) == bits


def test_12_bit_data_fills_the_8_bit_range():
    twelve = np.array([[0, 2048, 4095]], np.uint16)
    np.testing.assert_allclose(as_rgb(twelve)[0, :, 0], [0, 2048 * 255 / 4095, 255], rtol=1e-6)
    ten = np.array([[[1023, 0, 512]]], np.uint16)
    np.testing.assert_allclose(as_rgb(ten)[0, 0], [255, 0, 512 * 255 / 1023], rtol=1e-6)


def test_declared_bit_depth_wins_over_the_brightest_value():
    dim = np.array([[0, 900]], np.uint16)  # a dark 12-bit image: its values alone say 10 bits
    assert significant_bits(dim, declared=12) == 12
    np.testing.assert_allclose(as_rgb(dim, bits=12)[0, 1], 900 * 255 / 4095, rtol=1e-6)
    assert as_rgb(np.array([[5000]], np.uint16), bits=12).max() == 255  # the file lied


def test_as_rgb_leaves_8_bit_images_and_its_input_alone():
    image = np.array([[[10, 20, 30, 40]]], np.uint16)
    before = image.copy()
    as_rgb(image)
    assert np.array_equal(image, before)
    assert as_rgb(np.array([[7]], np.uint8)).tolist() == [[[7.0, 7.0, 7.0]]]


# --- 10: merge asked to build a gigantic image ------------------------------------------


def tiles_folder(folder: Path) -> Path:
    """Tiles of a fine image ``fine`` (16 x 16 from four 8 x 8 tiles)."""
    folder.mkdir(parents=True, exist_ok=True)
    for row in (0, 8):
        for column in (0, 8):
            tile = np.full((8, 8), row + column, np.uint8)
            write_image(folder / f"fine_r{row:05d}_c{column:05d}.png", tile)
    return folder


def test_merge_refuses_a_tile_placed_90000_pixels_away(tmp_path, cellseg, folder_digest):
    folder = tiles_folder(tmp_path / "tiles")
    write_image(folder / "far_r00000_c00000.png", np.zeros((8, 8), np.uint8))
    far = folder / "far_r90000_c90000.png"
    write_image(far, np.zeros((8, 8), np.uint8))
    before = folder_digest(folder)
    result = cellseg("merge", folder, tmp_path / "out")
    assert_refused(result, far)
    assert "90008 x 90008" in result.err
    assert names(tmp_path / "out") == ["fine.png"]
    assert read_image(tmp_path / "out" / "fine.png")[12, 12] == 16
    assert folder_digest(folder) == before


@pytest.mark.parametrize(
    "shape",
    [[60000, 60000], [9000, 9000, 4], ["many", "more"], [-16, 16], [16.5, 16], [True, 16], 7],
    ids=["60000 square", "bytes", "words", "negative", "fraction", "boolean", "no list"],
)
def test_merge_refuses_a_manifest_of_an_absurd_size(tmp_path, cellseg, folder_digest, shape):
    folder = tiles_folder(tmp_path / "tiles")
    for row in (0, 8):
        for column in (0, 8):
            tile = np.zeros((8, 8, 4), np.uint8)
            write_image(folder / f"big_r{row:05d}_c{column:05d}.png", tile)
    manifest = folder / "big_tiles.json"
    manifest.write_text(json.dumps({"shape": shape}))
    before = folder_digest(folder)
    result = cellseg("merge", folder, tmp_path / "out")
    assert_refused(result, manifest)
    assert names(tmp_path / "out") == ["fine.png"]
    assert folder_digest(folder) == before
