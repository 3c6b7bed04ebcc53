"""Every command run twice: the second run keeps what the first wrote and says so; an output
that differs is refused unless --overwrite; every run ends with one summary line."""

import numpy as np
import pytest

from cellseg.image_io import read_image, write_image


def files_of(folder):
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def example(cellseg, tmp_path):
    result = cellseg("synth", tmp_path / "example", "--count", "2", "--size", "96")
    assert result.code == 0, result.err
    return tmp_path / "example"


COMMANDS = {
    "synth": lambda example, out: ("synth", out, "--count", "2", "--size", "96"),
    "split": lambda example, out: (
        "split",
        example / "images",
        out,
        "--tile",
        "64",
        "--overlap",
        "16",
    ),
    "blur": lambda example, out: ("blur", example / "images", out, "--sigma", "1.5"),
    "reduce": lambda example, out: ("reduce", example / "outlines", out),
    "labels": lambda example, out: ("labels", example / "outlines", out),
    "merge": lambda example, out: ("merge", example / "tiles", out),
}
#: What each command's summary line says it did, and how many.
SUMMARIES = {
    "synth": "2 synthetic images of 96 x 96 pixels",
    "split": "2 images cut into 8 tiles of 64 pixels",
    "blur": "2 images blurred (sigma 1.5)",
    "reduce": "2 annotation layers reduced",
    "labels": "cells in 2 annotation layers, written as labels",
    "merge": "2 images stitched from 8 tiles",
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_run_twice_finishes_with_the_same_result(cellseg, example, tmp_path, name):
    if name == "merge":
        assert cellseg(*COMMANDS["split"](example, example / "tiles")).code == 0
    out = tmp_path / "out"
    first = cellseg(*COMMANDS[name](example, out))
    assert first.code == 0, first.err
    (line,) = first.out.strip().splitlines()
    assert line.startswith(f"cellseg {name}: ") and SUMMARIES[name] in line
    assert str(out) in line and "written)" in line
    written = files_of(out)
    again = cellseg(*COMMANDS[name](example, out))
    assert again.code == 0, again.err
    (line,) = again.out.strip().splitlines()
    assert SUMMARIES[name] in line and "already there, unchanged" in line
    assert files_of(out) == written

    # A result the user changed is theirs: refused, named, kept; --overwrite replaces it.
    changed = sorted(path for path in out.rglob("*.png"))[0]
    write_image(changed, np.zeros((3, 3), np.uint8), overwrite=True)
    refused = cellseg(*COMMANDS[name](example, out))
    assert refused.code == 1 and str(changed) in refused.err
    assert "already exists with other content" in refused.err
    assert read_image(changed).shape == (3, 3)
    replaced = cellseg(*COMMANDS[name](example, out), "--overwrite")
    assert replaced.code == 0, replaced.err
    assert files_of(out) == written


def test_split_refuses_other_settings_before_writing_a_tile(cellseg, example, tmp_path):
    assert (
        cellseg(
            "split", example / "images", tmp_path / "tiles", "--tile", "64", "--overlap", "16"
        ).code
        == 0
    )
    before = files_of(tmp_path / "tiles")
    other = cellseg(
        "split", example / "images", tmp_path / "tiles", "--tile", "48", "--overlap", "16"
    )
    assert other.code == 1 and "other settings" in other.err
    assert files_of(tmp_path / "tiles") == before  # no tile of 48 pixels among them


def test_predict_run_twice_skips_what_it_did(cellseg, small_model, example, tmp_path):
    first = cellseg("predict", small_model, example / "images", "--output", tmp_path / "out")
    assert first.code == 0, first.err
    written = files_of(tmp_path / "out")
    again = cellseg("predict", small_model, example / "images", "--output", tmp_path / "out")
    assert again.code == 0, again.err
    assert "2 images already predicted" in again.out
    assert files_of(tmp_path / "out") == written


def test_predict_again_on_another_image_of_the_same_name_predicts_it(cellseg, example, tmp_path):
    """An image replaced by another of the same name (a section scanned again) is not
    taken for the one predicted before: its old results are refused in a line, not kept
    as done nor replaced in silence, and with --overwrite its cells are found again."""
    import shutil

    from tables import read_csv

    images = tmp_path / "images"
    shutil.copytree(example / "images", images)
    first, second = sorted(images.iterdir())
    out = tmp_path / "out"

    def cells():  # each image's cells, where they are and how large
        rows = read_csv(out / "cells.csv")
        found = {path.name: [] for path in (first, second)}
        for row in rows:
            found[row["image"]].append((row["centroid_row"], row["centroid_column"], row["area"]))
        return found

    command = ("predict", "default", images, "--output", out, "--scale", "1")
    assert cellseg(*command).code == 0
    before = cells()
    assert before[first.name] != before[second.name]  # else the test shows nothing
    own = (out / f"{first.stem}_cells.csv").read_bytes()
    shutil.copyfile(second, first)  # the first image replaced by the second
    again = cellseg(*command)
    assert again.code == 1 and "1 image already predicted" in again.out, again.out
    assert again.error_lines == [
        f"cellseg predict: error: {first.name}: its results in {out} were made from an "
        "earlier file of this name; use --overwrite to replace them, or choose another --output"
    ]
    # Its files are kept; the folder's tables, of the images as they are, leave it out.
    assert (out / f"{first.stem}_cells.csv").read_bytes() == own
    assert cells() == {first.name: [], second.name: before[second.name]}
    assert "leave out 1 image" in again.out
    assert cellseg(*command, "--overwrite").code == 0
    after = cells()
    assert after[first.name] == before[second.name] == after[second.name]


def test_predict_again_with_another_threshold_reclassifies_the_gzipped_geojson(
    cellseg, small_model, example, tmp_path
):
    """The GeoJSON's Positive / Negative classes follow the DAB threshold: a run with
    another one (with --overwrite, which replaces another prediction's files) predicts
    again, gzipped or not."""
    import gzip
    import json

    out = tmp_path / "out"
    command = ("predict", small_model, example / "images", "--output", out, "--format")
    classes = []
    for threshold in ("0", "3"):
        run = cellseg(*command, "geojson.gz", "--positive-threshold", threshold, "--overwrite")
        assert run.code == 0 and "already predicted" not in run.out, run.err
        features = json.loads(gzip.decompress((out / "synthetic_000.geojson.gz").read_bytes()))
        classes.append({f["properties"]["classification"]["name"] for f in features["features"]})
    assert "Positive" in classes[0] and classes[1] == {"Negative"}
