"""benchmarks/aperio_slides.py and whole_slide.py: a 20x slide says its pixel size as a
scanner does; a GeoJSON file is read as a strict reader reads it."""

import gzip
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from aperio_slides import Slide, write_slide
from whole_slide import geojson_problems

from cellseg.image_metadata import read_pixel_size


def test_a_20x_slide_is_written_at_half_a_micrometre_per_pixel(tmp_path):
    blocks = [np.full((100, 100, 3), value, np.uint8) for value in (60, 120)]
    for pixel_size in (0.25, 0.5):
        path = tmp_path / f"slide-{pixel_size}.svs"
        write_slide(path, Slide(300, 0.3, blocks, pixel_size))
        assert read_pixel_size(path) == pixel_size


def test_malformed_features_and_invalid_polygons_are_counted(tmp_path):
    def feature(kind, rings):
        return {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": kind, "coordinates": rings},
        }

    square = [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]]
    bow_tie = [[[0, 0], [4, 4], [4, 0], [0, 4], [0, 0]]]
    clockwise = [square[0][::-1]]  # valid, but against RFC 7946's right-hand rule
    features = [feature("Polygon", square), feature("Polygon", bow_tie)]
    features += [feature("Polygon", [square[0][:-1]]), feature("Point", [1, 2])]
    path = tmp_path / "cells.geojson.gz"
    path.write_bytes(
        gzip.compress(json.dumps({"type": "FeatureCollection", "features": features}).encode())
    )
    found = geojson_problems(path)
    assert (found["polygons"], len(found["malformed"]), found["invalid"]) == (4, 2, 1)
    assert found["clockwise"] == 0
    assert found["why"][0].startswith("Self-intersection")
    assert found["points"] == 4  # the well-formed square and bow tie, not closing twice
    plain = tmp_path / "cells.geojson"
    turned = [features[0], feature("Polygon", clockwise)]
    plain.write_text(json.dumps({"type": "FeatureCollection", "features": turned}))
    expected = {"polygons": 2, "points": 4, "malformed": [], "invalid": 0, "why": []}
    assert geojson_problems(plain) == expected | {"clockwise": 1}
