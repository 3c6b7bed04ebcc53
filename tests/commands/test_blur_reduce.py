"""``cellseg blur`` and ``cellseg reduce`` write what the core computes, in the right format."""

import numpy as np

from cellseg.image_io import read_image, write_image
from cellseg.preprocessing.blur import gaussian_blur


def test_blur_keeps_dtype_and_channels(tmp_path, cellseg):
    rng = np.random.default_rng(0)
    rgb16 = rng.integers(0, 2**16, (40, 50, 3), dtype=np.uint16)
    gray_float = rng.random((40, 50)).astype(np.float32)
    (tmp_path / "in").mkdir()
    write_image(tmp_path / "in" / "rgb16.png", rgb16)
    write_image(tmp_path / "in" / "float.tif", gray_float)
    result = cellseg("blur", tmp_path / "in", tmp_path / "out", "--sigma", 1.5)
    assert result.code == 0, result.err
    blurred = read_image(tmp_path / "out" / "rgb16.png")
    assert blurred.dtype == np.uint16 and blurred.shape == rgb16.shape
    assert np.array_equal(blurred, gaussian_blur(rgb16, 1.5))
    assert np.array_equal(
        read_image(tmp_path / "out" / "float.tif"), gaussian_blur(gray_float, 1.5)
    )


def test_reduce_thresholds_red_opaque_pixels(tmp_path, cellseg):
    layer = np.zeros((3, 4, 4), np.uint8)
    layer[0, 0] = (255, 0, 0, 255)
    layer[1, 1] = (250, 10, 10, 200)  # anti-aliased red
    layer[2, 2] = (255, 0, 0, 40)  # nearly transparent
    layer[2, 3] = (255, 255, 255, 255)  # white
    write_image(tmp_path / "layer.png", layer)
    assert cellseg("reduce", tmp_path / "layer.png", tmp_path / "out").code == 0
    mask = read_image(tmp_path / "out" / "layer.png")
    assert mask.dtype == np.uint8 and mask.ndim == 2
    assert np.argwhere(mask == 255).tolist() == [[0, 0], [1, 1]]
    assert set(np.unique(mask)) == {0, 255}


def test_reduce_options_pick_another_colour(tmp_path, cellseg):
    layer = np.zeros((1, 2, 4), np.uint8)
    layer[0, 0] = (255, 0, 0, 255)
    layer[0, 1] = (0, 0, 255, 60)
    write_image(tmp_path / "layer.png", layer)
    arguments = ("--channel", "blue", "--alpha-threshold", 50)
    assert cellseg("reduce", tmp_path / "layer.png", tmp_path / "out", *arguments).code == 0
    assert read_image(tmp_path / "out" / "layer.png").tolist() == [[0, 255]]
