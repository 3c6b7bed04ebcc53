"""Training tiles: reproducible, the target follows the image, colours stay plausible."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.color import hed2rgb, rgb2hed
from skimage.transform import resize

from cellseg.preprocessing.augmentation import (
    Augmentation,
    jitter_colours,
    random_tile,
    resize_square,
)
from cellseg.preprocessing.colour import as_rgb, rgb_from_stain_amounts, stain_amounts
from cellseg.preprocessing.synthetic import synthetic_tissue

IMAGE, LABELS = synthetic_tissue((120, 150), seed=9)
RGB = as_rgb(IMAGE)


def test_same_seed_same_tile_other_seed_other_tile():
    first = random_tile(RGB, LABELS, np.random.default_rng(5), tile=64)
    again = random_tile(RGB, LABELS, np.random.default_rng(5), tile=64)
    other = random_tile(RGB, LABELS, np.random.default_rng(6), tile=64)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_without_augmentation_a_tile_is_an_exact_crop():
    image_tile, label_tile = random_tile(
        RGB, LABELS, np.random.default_rng(1), tile=48, augmentation=Augmentation(strength=0)
    )
    # Find where the crop came from: it must match the image there, pixel for pixel.
    found = [
        (row, column)
        for row in range(RGB.shape[0] - 47)
        for column in range(RGB.shape[1] - 47)
        if np.array_equal(LABELS[row : row + 48, column : column + 48], label_tile)
        and np.array_equal(RGB[row : row + 48, column : column + 48], image_tile)
    ]
    assert found


#: Augmentations that resample tiles through `_warped_tile` rather than crop and resize.
WARPS = [Augmentation(rotation=45), Augmentation(elastic=4), Augmentation(rotation=30, elastic=3)]


@pytest.mark.parametrize("augmentation", [Augmentation(), *WARPS])
def test_target_moves_with_the_image(augmentation):
    # A zoomed, rotated, flipped tile: each label's pixels in the tile are where the
    # image shows that nucleus (dark), and labels are resampled, never blended.
    image_tile, label_tile = random_tile(
        RGB, LABELS, np.random.default_rng(3), tile=96, augmentation=augmentation
    )
    assert set(np.unique(label_tile)) <= set(np.unique(LABELS))
    assert label_tile.dtype == LABELS.dtype
    inside = image_tile[label_tile > 0].mean()
    outside = image_tile[label_tile == 0].mean()
    assert inside < outside - 30  # nuclei are darker than stroma


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(40, 90),
    columns=st.integers(40, 90),
    tile=st.integers(8, 40),
    place=st.tuples(st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True)),
    seed=st.integers(0, 2**16),
)
def test_crowded_tiles_hold_a_contact_within_a_quarter_tile_of_their_centre(
    rows, columns, tile, place, seed
):
    # Each pixel's label is its own index, so the tile shows where it was cut from.
    image = np.zeros((rows, columns, 3), np.float32)
    labels = np.arange(rows * columns).reshape(rows, columns) + 1
    focus = (int(place[0] * rows), int(place[1] * columns))
    crowded = Augmentation(strength=0, crowded=1.0)
    _, label_tile = random_tile(
        image,
        labels,
        np.random.default_rng(seed),
        tile=tile,
        augmentation=crowded,
        contacts=np.array([focus]),
    )
    found = np.argwhere(label_tile == labels[focus])
    assert len(found) == 1
    middle = [(tile // 4 <= at <= tile - tile // 4) for at in found[0]]
    for axis, extent in enumerate((rows, columns)):
        # Within a quarter tile of the centre, unless the image's edge is nearer.
        near_edge = focus[axis] < tile // 4 or focus[axis] > extent - tile // 4
        assert middle[axis] or near_edge


@pytest.mark.parametrize("augmentation", [Augmentation(), *WARPS])
def test_crowded_tiles_are_cut_around_contacts_and_plain_tiles_are_unchanged(augmentation):
    # One contact: tiles cut anywhere often miss it, crowded ones never.
    image, labels = RGB, LABELS.copy()
    labels[58:62, 73:77] = labels.max() + 1
    contact = np.array([[60, 75]])
    label = labels[60, 75]
    crowded = dataclasses.replace(augmentation, crowded=1.0)

    def cut(seed, augmentation, contacts=None):
        rng = np.random.default_rng(seed)
        return random_tile(
            image, labels, rng, tile=40, augmentation=augmentation, contacts=contacts
        )

    assert all(label in cut(seed, crowded, contact)[1] for seed in range(20))
    assert any(label not in cut(seed, augmentation)[1] for seed in range(20))
    # Without the share, contacts change nothing: the same seed cuts the same tile.
    for seed in range(3):
        plain, given = cut(seed, augmentation), cut(seed, augmentation, contact)
        assert all(np.array_equal(a, b) for a, b in zip(plain, given, strict=True))


def test_continuous_targets_are_interpolated():
    ramp = np.tile(np.linspace(0, 1, 150, dtype=np.float32), (120, 1))
    _, tile = random_tile(RGB, ramp, np.random.default_rng(0), tile=64, continuous=True)
    assert tile.dtype == np.float32 and len(np.unique(tile)) > 60


@pytest.mark.parametrize("augmentation", [Augmentation(), *WARPS])
def test_small_images_are_padded_to_a_full_tile(augmentation):
    image_tile, label_tile = random_tile(
        RGB[:20, :30],
        LABELS[:20, :30],
        np.random.default_rng(0),
        tile=64,
        augmentation=augmentation,
    )
    assert image_tile.shape == (64, 64, 3) and label_tile.shape == (64, 64)
    assert label_tile.dtype == LABELS.dtype


def _plane_fit(tile: np.ndarray) -> tuple[float, float]:
    """The direction in degrees of a tile's best-fitting plane's slope, and the largest
    distance of the tile from that plane."""
    rows, columns = np.mgrid[: tile.shape[0], : tile.shape[1]]
    design = np.stack([rows.ravel(), columns.ravel(), np.ones(rows.size)], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, tile.ravel().astype(np.float64), rcond=None)
    residual = np.abs(design @ coefficients - tile.ravel()).max()
    return float(np.degrees(np.arctan2(coefficients[1], coefficients[0]))), float(residual)


RAMP = np.repeat(np.arange(300, dtype=np.float32)[:, None], 300, axis=1)  # its row number


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), rotation=st.floats(0, 180))
def test_turning_keeps_a_tile_rigid_and_bending_does_not(seed, rotation):
    image = np.zeros((300, 300, 3), np.float32)
    turned = Augmentation(rotation=rotation)
    _, tile = random_tile(
        image, RAMP, np.random.default_rng(seed), tile=64, augmentation=turned, continuous=True
    )
    # A zoomed, turned, flipped plane is still a plane, but for the tile's edge pixels: a
    # tile enlarged by `resize_square` repeats the window's edge there.
    _, residual = _plane_fit(tile[1:-1, 1:-1])
    assert residual < 1e-3
    bent = Augmentation(rotation=rotation, elastic=4)
    _, tile = random_tile(
        image, RAMP, np.random.default_rng(seed), tile=64, augmentation=bent, continuous=True
    )
    _, residual = _plane_fit(tile[1:-1, 1:-1])
    assert residual > 0.5


def test_turns_reach_angles_between_quarter_turns_only_when_asked():
    image = np.zeros((300, 300, 3), np.float32)

    def angles(augmentation):
        found = []
        for seed in range(24):
            _, tile = random_tile(
                image,
                RAMP,
                np.random.default_rng(seed),
                tile=64,
                augmentation=augmentation,
                continuous=True,
            )
            angle, _ = _plane_fit(tile)
            found.append(min(angle % 90, 90 - angle % 90))  # degrees from a quarter turn
        return np.array(found)

    assert angles(Augmentation()).max() < 1e-3
    away = angles(Augmentation(rotation=45))
    assert away.max() <= 45 + 1e-3 and np.median(away) > 5
    assert angles(Augmentation(rotation=10)).max() <= 10 + 1e-3


@settings(max_examples=60, deadline=None)
@given(
    side=st.integers(1, 40),
    size=st.integers(1, 40),
    channels=st.sampled_from([(), (3,)]),
    seed=st.integers(0, 2**16),
)
def test_resampling_is_skimage_resize(side, size, channels, seed):
    rng = np.random.default_rng(seed)
    image = rng.uniform(0, 255, (side, side, *channels)).astype(np.float32)
    expected = resize(image, (size, size), order=1, preserve_range=True, anti_aliasing=False)
    resized = resize_square(image, size, linear=True)
    assert resized.dtype == np.float32 and resized.shape == expected.shape
    np.testing.assert_allclose(resized, expected, atol=1e-3)
    labels = rng.integers(0, 9, (side, side, *channels)).astype(np.int32)
    nearest = resize_square(labels, size, linear=False)
    assert nearest.dtype == np.int32
    np.testing.assert_array_equal(
        nearest, resize(labels, (size, size), order=0, preserve_range=True, anti_aliasing=False)
    )


def test_training_zooms_need_no_anti_aliasing():
    # Tiles shrink by at most 1 + Augmentation.scale = 1.25x, so skimage's anti-aliasing
    # (a Gaussian of sigma (1.25 - 1) / 2) would change nothing.
    image = np.random.default_rng(0).uniform(0, 255, (320, 320, 3)).astype(np.float32)
    smoothed = resize(image, (256, 256), order=1, preserve_range=True, anti_aliasing=True)
    np.testing.assert_allclose(resize_square(image, 256, linear=True), smoothed, atol=1e-3)


def test_stain_separation_is_skimage_in_float32():
    rgb = np.random.default_rng(1).uniform(0, 1, (30, 30, 3)).astype(np.float32)
    stains = stain_amounts(rgb)
    assert stains.dtype == np.float32
    np.testing.assert_allclose(stains, rgb2hed(rgb), atol=1e-5)
    np.testing.assert_allclose(rgb_from_stain_amounts(stains), hed2rgb(stains), atol=1e-5)


def test_stain_jitter_changes_colours_within_range_and_keeps_white_white():
    rng = np.random.default_rng(4)
    jittered = jitter_colours(RGB, rng, Augmentation(light=0))
    assert jittered.dtype == np.float32 and 0 <= jittered.min() and jittered.max() <= 255
    assert np.abs(jittered - RGB).mean() > 1
    white = np.full((4, 4, 3), 255.0, np.float32)
    # Stain shifts are at most 0.0019 optical density per stain: white stays near-white.
    for _ in range(10):
        assert np.allclose(jitter_colours(white, rng, Augmentation(light=0)), 255, atol=16)


def test_stain_jitter_makes_pale_and_dab_stained_tiles_from_h_and_e():
    from skimage.color import rgb2hed

    before = rgb2hed(RGB / 255.0)
    only = {"stain": 0.0, "light": 0.0}
    rng = np.random.default_rng(5)
    pale = [rgb2hed(jitter_colours(RGB, rng, Augmentation(dab=0, **only)) / 255) for _ in range(20)]
    haematoxylin = [tile[..., 0].mean() / before[..., 0].mean() for tile in pale]
    # Half the tiles keep their haematoxylin, the others lose up to 70% of it.
    assert min(haematoxylin) < 0.7 and max(haematoxylin) > 0.99
    assert all(np.isclose(tile[..., 2].mean(), before[..., 2].mean(), rtol=0.05) for tile in pale)
    brown = rgb2hed(jitter_colours(RGB, rng, Augmentation(dab=1, pale=0, **only)) / 255)
    # Eosin turned (mostly) into a denser DAB.
    assert brown[..., 1].mean() < 0.5 * before[..., 1].mean()
    assert brown[..., 2].mean() > before[..., 2].mean() + before[..., 1].mean() / 2


@pytest.mark.parametrize("strength", [1.0, 10.0])  # the default and AUGMENTATION's maximum
def test_no_strength_makes_a_nucleus_lighter_than_its_background(strength):
    # A haematoxylin nucleus on a faintly stained background, jittered 300 times: stain and
    # contrast factors must stay positive, or the nucleus would turn lighter than the
    # background its label says surrounds it (1 tile in 20 did at 10 with unbounded ranges).
    stains = np.zeros((8, 16, 3), np.float32)
    stains[..., 0] = 0.01
    stains[:, :8, 0] = 0.08
    image = rgb_from_stain_amounts(stains) * 255
    rng = np.random.default_rng(0)
    for _ in range(300):
        jittered = jitter_colours(image, rng, Augmentation(strength=strength))
        assert jittered[:, :8].mean() <= jittered[:, 8:].mean() + 1e-3


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (np.array([[0, 255]], np.uint8), [[0, 0, 0], [255, 255, 255]]),
        (np.array([[[65535, 0, 257, 9]]], np.uint16), [[255, 0, 1]]),
        (np.array([[0.5]], np.float32), [[127.5, 127.5, 127.5]]),
        (np.array([[[10, 200]]], np.uint8), [[10, 10, 10]]),  # gray and alpha
    ],
)
def test_as_rgb(image, expected):
    converted = as_rgb(image)
    assert converted.dtype == np.float32
    np.testing.assert_allclose(converted.reshape(-1, 3), np.array(expected).reshape(-1, 3))


def _roughness(tile):
    """How much neighbouring pixels differ, on average."""
    return np.abs(np.diff(tile, axis=1)).mean()


def test_blur_smooths_about_half_the_tiles_and_moves_nothing():
    seeds = range(3, 23)
    blurred = [
        random_tile(
            RGB, LABELS, np.random.default_rng(seed), tile=64, augmentation=Augmentation(blur=3.0)
        )
        for seed in seeds
    ]
    sharp = [random_tile(RGB, LABELS, np.random.default_rng(seed), tile=64) for seed in seeds]
    for (_, target), (_, sharp_target) in zip(blurred, sharp, strict=True):
        np.testing.assert_array_equal(target, sharp_target)  # same place, zoom and turn
    smoother = [
        _roughness(b[0]) < 0.8 * _roughness(s[0]) for b, s in zip(blurred, sharp, strict=True)
    ]
    assert 4 <= sum(smoother) <= 16  # about half


def test_noise_roughens_the_tile_within_the_range_and_moves_nothing():
    plain_image, plain_target = random_tile(RGB, LABELS, np.random.default_rng(3), tile=64)
    noisy, target = random_tile(
        RGB, LABELS, np.random.default_rng(3), tile=64, augmentation=Augmentation(noise=0.1)
    )
    np.testing.assert_array_equal(target, plain_target)
    assert _roughness(noisy) > _roughness(plain_image)
    assert noisy.dtype == np.float32 and noisy.min() >= 0 and noisy.max() <= 255
