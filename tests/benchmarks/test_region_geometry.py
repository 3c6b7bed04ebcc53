"""benchmarks/region_geometry.py: the pixels the network sees, covered and with tissue."""

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_a_slide_of_a_third_tissue_sends_about_a_third_of_the_pixels():
    said = subprocess.run(
        [sys.executable, "region_geometry.py", "--side", "3000", "--tissue", "0.3"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = re.findall(r"^ +(\d+) +(\d+) +([\d.]+) +([\d.]+) +([\d.]+)(.*)$", said, re.MULTILINE)
    assert len(rows) == 7
    for covered, tissue, ratio in (row[2:5] for row in rows):
        assert 1 < float(covered) < 2  # the halos: more than the slide's own pixels
        assert 0.3 < float(ratio) < 0.6 and float(tissue) < float(covered)
        assert abs(float(tissue) / float(covered) - float(ratio)) < 0.002
    marked = [row for row in rows if "cellseg" in row[5]]
    assert [row[:2] for row in marked] == [("1024", "64")]
    # Wider halos and more regions send more of a fully covered slide.
    covered = {(int(row[0]), int(row[1])): float(row[2]) for row in rows}
    assert covered[512, 64] > covered[1024, 64] > covered[2048, 64]
    assert covered[1024, 64] > covered[1024, 32]
