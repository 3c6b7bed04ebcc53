"""The whole hostile corpus (tests/hostile_corpus.py) through every command that reads folders
of images (issue #33).

Each command gets one folder holding every hostile kind and a few good files, and runs once:
exit code 1; exactly one error line per hostile file it reads, naming that file; every good
file (and every valid but unusual one) processed; no traceback and no stray line on standard
error; the input folder as it was, byte for byte; no hidden temporary file left in the
output. The decompression bombs run in a subprocess whose address space is capped at 2 GB.
"""

import csv
import hashlib
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_corpus import (
    label_image,
    random_image,
    write_bombs,
    write_companions,
    write_corpus,
    write_good_images,
    write_good_layers,
    write_good_tiles,
    write_hostile_tiles,
)
from hostile_entries import ANNOTATION, IMAGE, OUTLINES, PAIRED, Run

from cellseg.neural_network.evaluation import IMAGES_IN_THE_MEAN

#: Address space of a command run under a memory limit: Python with numpy, scipy and
#: imagecodecs (and TensorFlow, for predict) takes about 0.4 to 1 GB of it before reading.
MEMORY_LIMIT = 2 * 2**30


def snapshot(folder: Path) -> dict:
    """Every entry below ``folder``, links not followed: its type, permissions, size and
    modification time, a regular file's SHA-256 where it can be read (up to 16 MB), a
    link's target."""
    found = {}
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(root) / name
            info = path.lstat()
            entry = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_size)
            entry += (info.st_mtime_ns,)
            if path.is_symlink():
                entry += (os.readlink(path),)
            elif stat.S_ISREG(info.st_mode) and os.access(path, os.R_OK):
                if info.st_size <= 2**24:  # not the gigabyte of a sparse manifest
                    entry += (hashlib.sha256(path.read_bytes()).hexdigest(),)
            found[str(path.relative_to(folder))] = entry
    return found


#: The warnings of a folder scan that skips images of other formats or subfolders, and the
#: names they list.
SKIPPED = re.compile(
    r": warning: [^:]+: \d+ (?:images? skipped, not [^:]+|subfolders? not looked into): (.+)$"
)


def assert_refused_each(result, command: str, corpus, roles) -> None:
    """Exit code 1; one error line per file of ``corpus`` refused in ``roles``, naming it;
    nothing else on standard error but warnings naming a file and the count of failures."""
    assert result.code == 1, result.err
    assert "Traceback" not in result.err, result.err
    prefix = f"cellseg {command}: "
    expected = [entry for entry in corpus if entry.refused(*roles)]
    errors = [line for line in result.error_lines if line.startswith(prefix + "error: ")]
    for entry in expected:
        naming = [line for line in errors if entry.shown in line]
        assert len(naming) == 1, (entry.kind, entry.shown, naming or result.err)
    for line in errors:
        assert any(entry.shown in line for entry in expected), line
    assert len(errors) == len(expected), result.err
    names = [entry.shown for entry in corpus]
    passed_by = {entry.path.name for entry in corpus if not entry.listed}
    for line in result.error_lines:
        assert line.startswith(prefix), line  # no library's own message
        skipped = SKIPPED.search(line)
        if skipped:  # the images of formats and the folders a folder scan passes by, named
            assert set(skipped[1].split(", ")) <= passed_by, line
        elif line.startswith(prefix + "warning: "):
            assert any(line.startswith(f"{prefix}warning: {name}: ") for name in names), line
        elif not line.startswith(prefix + "error: "):
            assert " failed; the other " in line or " failed, none processed" in line, line


def assert_no_temporary_files(output: Path) -> None:
    assert list(output.rglob(".*")) == []


def processed(corpus, roles) -> set[str]:
    """Stems of the listed files that a command reading them in ``roles`` must process."""
    return {entry.path.stem for entry in corpus if entry.listed and not entry.refused(*roles)}


def stems_written(output: Path, ending: str) -> set[str]:
    """Stems of the files in ``output`` named ``<stem><ending>``."""
    return {path.name[: -len(ending)] for path in output.iterdir() if path.name.endswith(ending)}


@pytest.mark.parametrize(
    ("command", "options", "endings"),
    [
        ("blur", ("--sigma", "1.5"), (".png", ".tif")),
        ("split", ("--tile", "128", "--overlap", "32"), ("_tiles.json",)),
    ],
    ids=["blur", "split"],
)
def test_blur_and_split(cellseg, tmp_path, command, options, endings):
    folder = tmp_path / "images"
    corpus = write_corpus(folder)
    corpus += write_good_images(folder)
    before = snapshot(folder)
    result = cellseg(command, folder, tmp_path / "out", *options)
    assert_refused_each(result, command, corpus, {IMAGE})
    written = set().union(*(stems_written(tmp_path / "out", ending) for ending in endings))
    assert written == processed(corpus, {IMAGE})
    assert snapshot(folder) == before
    assert_no_temporary_files(tmp_path / "out")


def test_predict(cellseg, small_model, tmp_path):
    folder = tmp_path / "images"
    corpus = write_corpus(folder)
    corpus += write_good_images(folder)
    before = snapshot(folder)
    result = cellseg("predict", small_model, folder, "--output", tmp_path / "out", "--scale", "1")
    assert_refused_each(result, "predict", corpus, {IMAGE})
    assert stems_written(tmp_path / "out", "_labels.png") == processed(corpus, {IMAGE})
    with open(tmp_path / "out" / "counts.csv", newline="") as file:
        counted = {Path(row["image"]).stem for row in csv.DictReader(file)}
    assert counted == processed(corpus, {IMAGE})
    assert snapshot(folder) == before
    assert_no_temporary_files(tmp_path / "out")


@pytest.mark.parametrize("command", ["reduce", "labels"])
def test_reduce_and_labels(cellseg, tmp_path, command):
    folder = tmp_path / "layers"
    corpus = write_corpus(folder)
    corpus += write_good_layers(folder)
    options, roles = (), {OUTLINES}
    if command == "labels":  # every layer has an image of its name and declared size
        write_companions(tmp_path / "images", corpus, random_image)
        options, roles = ("--images", tmp_path / "images"), {OUTLINES, PAIRED}
    before = snapshot(folder)
    result = cellseg(command, folder, tmp_path / "out", *options)
    assert_refused_each(result, command, corpus, roles)
    assert stems_written(tmp_path / "out", ".png") == processed(corpus, roles)
    assert snapshot(folder) == before
    assert_no_temporary_files(tmp_path / "out")


@pytest.mark.parametrize("hostile", ["images", "annotations"])
def test_evaluate(cellseg, small_model, tmp_path, hostile):
    images, annotations = tmp_path / "images", tmp_path / "annotations"
    if hostile == "images":
        folder, roles = images, {IMAGE, PAIRED}
        corpus = write_corpus(images)
        corpus += write_good_images(images)
        write_companions(annotations, corpus, label_image)
    else:
        folder, roles = annotations, {ANNOTATION, PAIRED}
        corpus = write_corpus(annotations)
        corpus += write_good_layers(annotations)
        write_companions(images, corpus, random_image)
    before = snapshot(folder)
    (tmp_path / "scores").mkdir()
    table = tmp_path / "scores" / "scores.csv"
    result = cellseg(
        "evaluate", small_model, "--images", images, "--annotations", annotations,
        "--output", table, "--scale", "1",
    )  # fmt: skip
    assert_refused_each(result, "evaluate", corpus, roles)
    with open(table, newline="") as file:
        scored = {Path(row["image"]).stem for row in csv.DictReader(file)}
    assert scored - {"mean", IMAGES_IN_THE_MEAN} == processed(corpus, roles)
    assert snapshot(folder) == before
    assert_no_temporary_files(table.parent)


def test_merge(cellseg, tmp_path):
    folder = tmp_path / "tiles"
    hostile = write_hostile_tiles(folder)
    good = write_good_tiles(folder)
    before = snapshot(folder)
    result = cellseg("merge", folder, tmp_path / "out")
    assert_refused_each(result, "merge", hostile, {IMAGE})
    assert "gone_r00008_c00008.png: broken symbolic link" in result.err
    assert stems_written(tmp_path / "out", ".png") == set(good)
    assert snapshot(folder) == before
    assert_no_temporary_files(tmp_path / "out")


# --- decompression bombs, under a memory limit -------------------------------------------

_LIMITED_CELLSEG = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from cellseg.cli import main
sys.exit(main(sys.argv[1:]))
"""


def cellseg_within(limit: int, *arguments) -> Run:
    """``cellseg ARGS...`` in a subprocess whose address space is capped at ``limit``."""
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    # glibc reserves 64 MB of address space for the malloc arena of each thread that
    # allocates: TensorFlow's threads would exhaust the cap (and hang) without using memory.
    environment.update(MALLOC_ARENA_MAX="2", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED_CELLSEG.format(limit=limit), *map(str, arguments)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stderr)


#: TensorFlow's start-up logs, which its C++ side writes before any setting can quiet it.
TENSORFLOW_LOG = re.compile(r"WARNING: All log messages before absl|[IWEF]\d{4} ")


def without_tensorflow_logs(run: Run) -> Run:
    lines = [line for line in run.error_lines if not TENSORFLOW_LOG.match(line)]
    return Run(run.code, "\n".join(lines) + "\n")


BOMB_COMMANDS = {
    "blur": lambda folder, out, model: ("blur", folder, out),
    "split": lambda folder, out, model: ("split", folder, out),
    "reduce": lambda folder, out, model: ("reduce", folder, out),
    "predict": lambda folder, out, model: ("predict", model, folder, "--output", out),
}


@pytest.mark.parametrize("command", list(BOMB_COMMANDS))
def test_bombs_are_refused_within_2_gb(tmp_path, small_model, command):
    folder = tmp_path / "images"
    bombs = write_bombs(folder)
    good = write_good_layers(folder)  # images and annotation layers alike
    before = snapshot(folder)
    arguments = BOMB_COMMANDS[command](folder, tmp_path / "out", small_model)
    run = without_tensorflow_logs(cellseg_within(MEMORY_LIMIT, *arguments))
    assert_refused_each(run, command, bombs + good, {IMAGE, OUTLINES})
    assert "MemoryError" not in run.err
    assert snapshot(folder) == before
    assert_no_temporary_files(tmp_path / "out")
    ending = {"split": "_tiles.json", "predict": "_labels.png"}.get(command, ".png")
    assert stems_written(tmp_path / "out", ending) == {entry.path.stem for entry in good}


def test_merge_bombs_are_refused_within_2_gb(tmp_path):
    folder = tmp_path / "tiles"
    bombs = write_hostile_tiles(folder, bombs=True)
    good = write_good_tiles(folder)
    before = snapshot(folder)
    run = cellseg_within(MEMORY_LIMIT, "merge", folder, tmp_path / "out")
    assert_refused_each(run, "merge", bombs, {IMAGE})
    assert snapshot(folder) == before
    assert stems_written(tmp_path / "out", ".png") == set(good)
