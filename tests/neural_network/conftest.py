"""Fixtures of the whole-slide tests: a slide mostly of glass, and regions small enough
that small slides have several."""

import pytest
from slide_writers import aperio_slide, tissue_slide

import cellseg.neural_network.whole_slide as whole_slide


@pytest.fixture
def small_regions(monkeypatch):
    monkeypatch.setattr(whole_slide, "REGION", 512)
    monkeypatch.setattr(whole_slide, "HALO", 64)


@pytest.fixture(scope="module")
def blank_slide(tmp_path_factory):
    """A 40x Aperio slide of 2000 x 2400 pixels, 70% of it glass: its file, image, cells
    and where its tissue is."""
    image, labels, inside = tissue_slide((2000, 2400), tissue=0.3, seed=4)
    path = tmp_path_factory.mktemp("slides") / "blank.svs"
    aperio_slide(path, image, 0.25)
    return path, image, labels, inside
