"""benchmarks/outline_points.py: the fewest points an outline can keep within half a pixel
(Imai and Iri's shortest cycle), against every smaller ring and against Douglas-Peucker."""

import itertools
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cellseg.postprocessing.geojson import TOLERANCE, cell_polygons

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
from outline_points import fewest_points  # noqa: E402

#: One ragged cell: its largest piece's outline is what is simplified.
MASKS = arrays(
    np.int32, st.tuples(st.integers(3, 14), st.integers(3, 14)), elements=st.integers(0, 1)
)


def keeps_within(ring: np.ndarray, chosen: list[int], tolerance: float) -> bool:
    """Whether the ring through ``chosen`` (indices of ``ring``'s points, in order) skips
    only points within ``tolerance`` of the side that skips them."""
    points = ring[:-1]
    for start, end in zip(chosen, chosen[1:] + [chosen[0] + len(points)], strict=True):
        side = shapely.linestrings(points[[start % len(points), end % len(points)]])
        skipped = points[[index % len(points) for index in range(start + 1, end)]]
        if len(skipped) and shapely.distance(shapely.points(skipped), side).max() > tolerance:
            return False
    return True


@settings(max_examples=150, deadline=None)
@given(MASKS)
def test_the_fewest_points_keep_the_outline_and_are_no_more_than_douglas_peuckers(mask):
    if not mask.any():
        return
    ring = cell_polygons(mask, tolerance=0)[1]
    fewest = fewest_points(ring, TOLERANCE)
    assert np.array_equal(fewest[0], fewest[-1]) and len(fewest) >= 4
    # Points of the outline, in its order, skipping only what lies within half a pixel.
    chosen = [int(np.flatnonzero((ring[:-1] == point).all(axis=1))[0]) for point in fewest[:-1]]
    turn = chosen.index(min(chosen))
    chosen = chosen[turn:] + chosen[:turn]
    assert chosen == sorted(chosen) and keeps_within(ring, chosen, TOLERANCE)
    # Douglas-Peucker (what cellseg writes) keeps within the same bound, with no fewer.
    assert len(fewest) <= len(cell_polygons(mask)[1])
    # No ring of fewer of the outline's points does.
    count = len(ring) - 1
    if count <= 14:
        for size in range(3, len(fewest) - 1):
            for subset in itertools.combinations(range(count), size):
                assert not keeps_within(ring, list(subset), TOLERANCE), subset


def test_the_script_reports_fewer_points_and_smaller_files_than_douglas_peucker(tissue_folders):
    images, labels = tissue_folders
    said = subprocess.run(
        [sys.executable, "outline_points.py", "--images", images, "--labels", labels],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sizes = r"([\d.]+) / ([\d.]+)"
    row = rf"^(traced|Douglas-Peucker|fewest) +([\d.]+) +{sizes} +{sizes}$"
    rows = {
        name: [float(value) for value in values]
        for name, *values in re.findall(row, said, re.MULTILINE)
    }
    assert list(rows) == ["traced", "Douglas-Peucker", "fewest"], said
    for column in range(5):  # points; outlines alone and whole features, plain and gzipped
        assert rows["traced"][column] > rows["Douglas-Peucker"][column] > rows["fewest"][column]
    for row in rows.values():  # the measurements weigh something
        assert row[3] > row[1] and row[4] > row[2]
