"""The exported page in a real browser (headless Chromium driven by Playwright).

It exports the default model, serves the site on 127.0.0.1 and drives the page as a doctor
would: a case of several images counted one after another, every count and interval equal
to Python's; a broken file; another scale; clicks that remove and add cells, undo, and the
files downloaded after them (labels, outline layer, cell table, the case's ZIP); positivity
only when asked; the printed report; and the page opened from disk. Skipped, with the
reason, where Chromium or Playwright is missing (.ci/run installs Debian's chromium).
"""

import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from browser_page import (
    CHROMIUM_ARGUMENTS,
    FINISHED,
    click_pixel,
    download,
    interval_text,
    new_case,
    row_count,
    run_page,
    served,
    shown_count,
    table_row,
)

from cellseg.image_io import read_image, write_image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"
)

#: Real annotated microscopy beside the repository (tests/conftest.py), when present.
SHARED_DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from cellseg.cli import main

    folder = tmp_path_factory.mktemp("browser") / "site"
    assert main(["export", "default", "--output", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def served_site(site):
    with served(site) as address:
        yield address


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGUMENTS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, served_site):
    page = browser.new_page(viewport={"width": 1200, "height": 1000}, accept_downloads=True)
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    page.goto(served_site + "/")
    page.wait_for_selector('body[data-model="ready"]', state="attached", timeout=120_000)
    yield page
    page.close()


@pytest.fixture(scope="module")
def model():
    from cellseg.neural_network.model import TrainedModel

    return TrainedModel.load("default")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Four images of a case: real H&E held out from training (or synthetic tissue without
    ../shared), a crop of another, and the bundled IHC sample (haematoxylin + DAB), as a PNG
    and as a JPEG (the browser's JPEG decoder, not PIL's)."""
    from skimage import data

    from cellseg.preprocessing.synthetic import synthetic_tissue

    folder = tmp_path_factory.mktemp("case")
    if SHARED_DATASETS.is_dir():
        monuseg = SHARED_DATASETS / "monuseg" / "train" / "images"
        first = read_image(monuseg / "TCGA-21-5786-01Z-00-DX1.png")
        second = read_image(monuseg / "TCGA-HE-7129-01Z-00-DX1.png")[:600, 200:800]
    else:
        first = synthetic_tissue((700, 700), seed=1)[0]
        second = synthetic_tissue((500, 600), seed=2)[0]
    paths = [folder / "he tissue.png", folder / "he crop.png", folder / "ihc.png"]
    for path, image in zip(paths, [first, second, data.immunohistochemistry()], strict=True):
        write_image(path, image)
    write_image(folder / "ihc copy.jpg", data.immunohistochemistry())
    return paths + [folder / "ihc copy.jpg"]


def test_case_counts_what_python_counts_and_stays_on_its_origin(page, served_site, images, model):
    new_case(page)
    state, seconds = run_page(page, images)
    assert state == "done", page.text_content("#status")
    names = [
        tr.get_attribute("data-image") for tr in page.query_selector_all("#case-table tbody tr")
    ]
    assert names == [path.name for path in images]
    total = 0
    for path in images:
        cells = model.segment_file(path)  # scale auto, as the page's default
        row = table_row(page, path.name)
        assert row_count(page, path.name) == cells.labels.max() > 20, path.name
        assert row[3] == interval_text(cells.confidence, model.config.count_spread), path.name
        assert row[6] == f"{cells.scale:g}x", path.name
        total += int(cells.labels.max())
    summary = [cell.text_content() for cell in page.query_selector_all("#case-table tfoot td")]
    assert summary[0] == f"Case: {len(images)} of {len(images)} images"
    assert int(summary[2]) == total
    assert shown_count(page) == row_count(page, images[0].name)  # the first is shown
    page.click(f'tr[data-image="{images[2].name}"]')  # a click on a row shows that image
    assert page.text_content("#image-name") == images[2].name
    assert shown_count(page) == row_count(page, images[2].name)
    assert page.evaluate("crossOriginIsolated") is True
    foreign = [url for url in page.requested if not url.startswith((served_site, "blob:", "data:"))]
    assert foreign == []
    print(f"browser: {total} cells in {len(images)} images in {seconds:.1f} s")


def test_broken_image_gives_the_error_state(page, tmp_path):
    new_case(page)
    truncated = tmp_path / "truncated.png"
    write_image(truncated, np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))
    truncated.write_bytes(truncated.read_bytes()[:200])
    state, _ = run_page(page, [truncated])
    assert state == "error"
    assert "truncated.png" in page.text_content("#status")
    assert "error" in table_row(page, "truncated.png")[1]


def test_page_scale_enlarges_as_python_does_and_a_new_scale_reruns(page, tmp_path, images, model):
    new_case(page)
    path = tmp_path / "crop.png"
    write_image(path, read_image(images[0])[:300, :300])
    assert page.evaluate("document.querySelector('#scale').value") == "auto"  # the default
    page.evaluate("document.querySelector('#scale').value = '2'")  # no event: no run yet
    try:
        state, _ = run_page(page, [path])
        assert state == "done", page.text_content("#status")
        expected = model.segment_file(path, scale=2)
        assert shown_count(page) == expected.labels.max() > 20
        assert table_row(page, "crop.png")[3] == interval_text(
            expected.confidence, model.config.count_spread
        )
        # Changing the scale runs the case again.
        page.evaluate(
            "const s = document.querySelector('#scale'); s.value = '1';"
            "s.dispatchEvent(new Event('change'))"
        )
        assert page.get_attribute("body", "data-state") == "running"
        page.wait_for_selector(FINISHED, state="attached", timeout=300_000)
        assert shown_count(page) == model.segment_file(path, scale=1).labels.max()
    finally:
        page.evaluate("document.querySelector('#scale').value = 'auto'")


def test_a_transparent_cut_out_is_glass_as_predict_reads_it(page, tmp_path, images, model):
    """The page drew images on a transparent canvas: what a cut-out hides was read black,
    or as the colours kept under it, where predict reads white (image_io.read_picture)."""
    new_case(page)
    path = tmp_path / "cut_out.png"
    rgba = np.dstack([read_image(images[0])[:300, :300, :3], np.full((300, 300), 255, np.uint8)])
    rgba[:, 150:, 3] = 0  # its colours kept, as editors save a cut-out
    write_image(path, rgba)
    page.evaluate("document.querySelector('#scale').value = '1'")
    try:
        state, _ = run_page(page, [path])
        assert state == "done", page.text_content("#status")
        expected = model.segment_file(path, scale=1).labels
        assert shown_count(page) == expected.max() > 5 and not expected[:, 160:].any()
    finally:
        page.evaluate("document.querySelector('#scale').value = 'auto'")


def test_clicks_correct_the_count_and_the_downloads_follow(page, images, model, tmp_path):
    """Remove a cell, add one, undo: the count by exactly one each time, the table, the
    labels, the outline layer (valid for cellseg train), the cell table and the ZIP follow."""
    from scipy import ndimage as ndi

    from cellseg.annotations import read_annotation_labels
    from cellseg.postprocessing.drawing import outline_layer
    from cellseg.prediction_files import PredictionFiles

    new_case(page)
    name = images[1].name
    state, _ = run_page(page, [images[1]])
    assert state == "done", page.text_content("#status")
    before = read_image(download(page, "#download-labels", tmp_path)).astype(np.int64)
    count = int(before.max())
    assert count == shown_count(page) == model.segment_file(images[1]).labels.max()

    # Remove the cell with the deepest pixel (the click lands well inside it).
    depth = ndi.distance_transform_edt(np.pad(before, 1))[1:-1, 1:-1]
    row, column = np.unravel_index(np.argmax(depth), before.shape)
    removed = int(before[row, column])
    click_pixel(page, row, column)
    assert shown_count(page) == row_count(page, name) == count - 1
    expected = np.where(before == removed, 0, before - (before > removed))
    after_removal = read_image(download(page, "#download-labels", tmp_path)).astype(np.int64)
    assert np.array_equal(after_removal, expected)

    # Add a cell where there is none, as far from every cell as can be.
    space = ndi.distance_transform_edt(after_removal == 0)
    row, column = np.unravel_index(np.argmax(space), space.shape)
    click_pixel(page, row, column)
    assert shown_count(page) == row_count(page, name) == count
    added = read_image(download(page, "#download-labels", tmp_path)).astype(np.int64)
    assert added[row, column] == count and np.array_equal(
        np.where(added == count, 0, added), after_removal
    )
    assert page.text_content("#correction-count") == "2"

    # Undo the addition: back to the labels after the removal, exactly.
    page.click("#undo")
    assert shown_count(page) == row_count(page, name) == count - 1
    labels_path = download(page, "#download-labels", tmp_path)
    assert labels_path.name == f"{Path(name).stem}_labels.png"  # files named after the image
    labels = read_image(labels_path).astype(np.int64)
    assert np.array_equal(labels, after_removal)

    # The other files of the image, named after it, follow the corrections.
    outlines_path = download(page, "#download-outlines", tmp_path)
    assert np.array_equal(read_image(outlines_path), outline_layer(labels))  # predict's layer
    annotated = read_annotation_labels(outlines_path)  # as cellseg train reads it
    assert abs(int(annotated.max()) - (count - 1)) <= max(2, 0.02 * count)
    table = list(
        csv.DictReader(io.StringIO(download(page, "#download-cells", tmp_path).read_text()))
    )
    assert len(table) == count - 1 and [int(r["id"]) for r in table] == list(range(1, count))
    columns = PredictionFiles(Path("."), formats=()).cell_columns
    assert list(table[0]) == columns

    # The case's ZIP: every file, read back with its checksums.
    with page.expect_download() as info:
        page.click("#download-case")
    assert info.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(info.value.path()) as archive:
        assert archive.testzip() is None
        stem = Path(name).stem
        assert set(archive.namelist()) == {
            f"{stem}_labels.png",
            f"{stem}_outlines.png",
            f"{stem}_cells.csv",
            "counts.csv",
            "cells.csv",
            "case.json",
        }
        counts = list(csv.DictReader(io.StringIO(archive.read("counts.csv").decode())))
        assert list(counts[0]) == PredictionFiles(Path("."), formats=()).count_columns
        assert counts[0]["image"] == name and int(counts[0]["count"]) == count - 1
        record = json.loads(archive.read("case.json"))
        assert (
            record["model"] == "default"
            and record["model_sha256"] == model.identity()["model_sha256"]
        )
        (image_record,) = record["images"]
        assert [entry["action"] for entry in image_record["corrections"]] == ["remove"]
        assert archive.read(f"{stem}_labels.png") == labels_path.read_bytes()
    assert page.evaluate("Object.keys(localStorage)") in ([], ["cellseg-outlines"])


def test_positivity_only_when_asked(page, images, model, tmp_path):
    from cellseg.postprocessing.measurements import measure_cells
    from cellseg.postprocessing.positivity import DEFAULT_POSITIVE_THRESHOLD, positive

    new_case(page)
    ihc = images[2]
    state, _ = run_page(page, [ihc])
    assert state == "done", page.text_content("#status")
    assert page.get_attribute("body", "data-stain") == "he"  # H&E unless asked
    assert not page.is_visible("#positive-threshold")
    assert page.text_content("#positive-count") == ""
    assert table_row(page, ihc.name)[4] == ""
    counts = download(page, "#download-counts", tmp_path).read_text().splitlines()[0]
    assert "positive" not in counts

    page.check('input[name="stain"][value="dab"]')
    assert page.get_attribute("body", "data-stain") == "dab"
    threshold = float(page.input_value("#positive-threshold"))
    assert threshold == DEFAULT_POSITIVE_THRESHOLD  # model.json's
    cells = model.segment_file(ihc)
    expected = int(positive(measure_cells(cells.image, cells.labels), threshold).sum())
    assert 0 < expected < cells.labels.max()
    assert int(table_row(page, ihc.name)[4]) == expected
    assert page.text_content("#positive-count").startswith(f"{expected} DAB-positive")
    header = download(page, "#download-counts", tmp_path).read_text().splitlines()[0]
    assert "positive,positive_percent,positive_threshold" in header
    page.check('input[name="stain"][value="he"]')


def test_the_case_report_prints_on_one_page(page, images, tmp_path):
    new_case(page)
    state, _ = run_page(page, images[1:3])
    assert state == "done", page.text_content("#status")
    page.evaluate("window.print = () => {}")  # headless: no print dialog to wait for
    page.click("#print-report")
    report = page.inner_text("#report")
    for text in ("default", "cellseg", "Scale", "Stain", images[1].name, images[2].name):
        assert text in report
    assert len(page.query_selector_all("#report figure canvas")) == 2
    page.emulate_media(media="print")
    try:
        assert page.is_visible("#report") and not page.is_visible("#choose")
        pdf = page.pdf(format="A4")
    finally:
        page.emulate_media(media="screen")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1


def test_page_opened_from_disk_says_how_to_start_it(browser, site):
    page = browser.new_page()
    try:
        page.goto((site / "index.html").as_uri())
        page.wait_for_selector("#start-notice", state="visible", timeout=10_000)
        notice = page.text_content("#start-notice")
        assert f"cellseg serve {site}" in notice
        assert page.get_attribute("body", "data-state") == "error"
    finally:
        page.close()
