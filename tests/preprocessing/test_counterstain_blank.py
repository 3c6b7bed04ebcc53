"""An image with too little haematoxylin to measure (glass, white with camera noise) is not
strengthened before the network; a really pale section still is."""

import numpy as np
import pytest

from cellseg.preprocessing.colour import (
    MOST_COUNTERSTAIN,
    NO_HAEMATOXYLIN,
    counterstain_factor,
    counterstain_strength,
    rgb_from_stain_amounts,
)

#: The shipped default model's training images (trained_models/default/config.json).
REFERENCE = {"lowest": 0.0797, "median": 0.1509}


def noisy(grey: float, spread: float) -> np.ndarray:
    """A 128 x 128 RGB field of ``grey`` with camera noise of ``spread`` greys."""
    noise = np.random.default_rng(0).normal(0, spread, (128, 128, 3))
    return np.clip(np.rint(grey + noise), 0, 255).astype(np.uint8)


def pale_section(haematoxylin: float) -> np.ndarray:
    """Nuclei of ``haematoxylin`` alone (no eosin) on white: a sixteenth of the pixels."""
    rows, columns = np.indices((128, 128))
    stains = np.zeros((128, 128, 3), np.float32)
    stains[(rows % 32 < 8) & (columns % 32 < 8), 0] = haematoxylin  # 8 x 8 nuclei
    return np.rint(rgb_from_stain_amounts(stains) * 255).astype(np.uint8)


@pytest.mark.parametrize(
    "image",
    [
        np.full((64, 64, 3), 255, np.uint8),
        np.full((64, 64, 3), 252, np.uint8),  # white as a JPEG or a camera gives it
        noisy(252, 2),
        noisy(250, 3),
        noisy(242, 2),  # the glass of a slide scan
        pale_section(0.005),  # nuclei no darker than the noise of glass
    ],
    ids=["white", "off-white", "white noise", "near-white noise", "glass", "invisible"],
)
def test_too_little_stain_to_measure_is_left_as_it_is(image):
    assert counterstain_strength(image)[0] < NO_HAEMATOXYLIN
    assert counterstain_factor(image, REFERENCE) == 1.0


@pytest.mark.parametrize(("haematoxylin", "factor"), [(0.015, MOST_COUNTERSTAIN), (0.05, 3.018)])
def test_a_really_pale_section_is_still_strengthened(haematoxylin, factor):
    pale = pale_section(haematoxylin)
    assert counterstain_strength(pale)[0] == pytest.approx(haematoxylin, rel=0.02)
    assert counterstain_factor(pale, REFERENCE) == pytest.approx(factor, abs=0.05)


def test_pale_nuclei_on_noisy_glass_are_strengthened():
    pale = noisy(250, 3)
    pale[32:64, 32:64] = (205, 200, 235)  # a pale haematoxylin blue
    assert counterstain_factor(pale, REFERENCE) == MOST_COUNTERSTAIN
