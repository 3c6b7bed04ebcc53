"""The page keeps a doctor from losing work or time, in a real browser (headless Chromium
driven by Playwright): a TIFF, which no browser decodes, is refused at once with what to do
instead, its row showing its own error, never another image's count; an image too large
for the page is refused from its first bytes, before it is decoded; and reloading or
closing the page asks first while its counts or corrections are not downloaded. The
reading of a file's first bytes (formats.js) is also checked in Node.
"""

import io
import shutil
import struct

import numpy as np
import pytest
from browser_page import (
    CHROMIUM_ARGUMENTS,
    click_pixel,
    download,
    drop_files,
    new_case,
    reload_asks,
    run_page,
    served,
    shown_count,
    table_row,
)
from hostile_bytes import png_declaring
from node_runner import NODE, node

from cellseg.image_io import write_image
from cellseg.preprocessing.synthetic import synthetic_tissue

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"
)
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")

#: The row error of a TIFF, as the page words it (formats.js).
TIFF_REFUSAL = "{}: browsers do not read TIFF: save it as PNG, or count it with cellseg predict"


def jpeg_bytes(rows, columns, **options) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (columns, rows), (200, 150, 180)).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def tiff_bytes(image) -> bytes:
    import tifffile

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, image)
    return buffer.getvalue()


@needs_node
def test_format_and_size_from_a_files_first_bytes(tmp_path):
    big_endian_tiff = b"MM\x00*" + bytes(12)
    thumbnail = jpeg_bytes(16, 24)  # its own start of frame, inside the EXIF segment
    exif = b"Exif\x00\x00" + b"II*\x00" + bytes(8) + thumbnail
    with_thumbnail = thumbnail[:2] + b"\xff\xe1" + struct.pack(">H", 2 + len(exif)) + exif
    with_thumbnail += jpeg_bytes(300, 500, comment=b"a scanner's note")[2:]
    files = {
        "png": png_declaring(13000, 14000) + bytes(40),
        "jpeg": jpeg_bytes(37, 53, icc_profile=bytes(500)),
        "exif": with_thumbnail,
        "tiff": tiff_bytes(np.zeros((5, 5), np.uint8)),
        "bigtiff": b"II+\x00" + bytes(12),
        "big-endian tiff": big_endian_tiff,
        "text": b"image,count\n",
        "short png": png_declaring(4, 3)[:20],
    }
    result = node(
        tmp_path,
        """
import { readFileSync } from "node:fs";
import { imageHead } from "web/formats.js";
const files = JSON.parse(readFileSync(process.argv[2] + "/input.json", "utf8"));
const heads = {};
for (const [name, bytes] of Object.entries(files)) heads[name] = imageHead(Uint8Array.from(bytes));
console.log(JSON.stringify(heads));
""",
        {name: list(data) for name, data in files.items()},
    )
    assert result == {
        "png": {"format": "png", "rows": 14000, "columns": 13000},
        "jpeg": {"format": "jpeg", "rows": 37, "columns": 53},
        "exif": {"format": "jpeg", "rows": 300, "columns": 500},
        "tiff": {"format": "tiff", "rows": None, "columns": None},
        "bigtiff": {"format": "tiff", "rows": None, "columns": None},
        "big-endian tiff": {"format": "tiff", "rows": None, "columns": None},
        "text": {"format": None, "rows": None, "columns": None},
        "short png": {"format": "png", "rows": None, "columns": None},
    }


@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    from cellseg.cli import main

    folder = tmp_path_factory.mktemp("safety") / "site"
    assert main(["export", "default", "--output", str(folder)]) == 0
    with served(folder) as address:
        yield address


@pytest.fixture(scope="module")
def page(served_site):
    playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGUMENTS)
        page = browser.new_page(viewport={"width": 1200, "height": 1000}, accept_downloads=True)
        page.goto(served_site + "/")
        page.wait_for_selector('body[data-model="ready"]', state="attached", timeout=120_000)
        yield page
        browser.close()


@pytest.fixture(scope="module")
def tissue(tmp_path_factory):
    """A small synthetic H&E image, quick to count at scale 1."""
    path = tmp_path_factory.mktemp("tissue") / "tissue.png"
    write_image(path, synthetic_tissue((256, 256), seed=3)[0])
    return path


def at_scale_one(page):
    page.evaluate("document.querySelector('#scale').value = '1'")  # no event: no run


@needs_browser
def test_tiff_is_not_offered_and_is_refused_with_its_own_row_error(page, tissue, tmp_path):
    accepted = page.get_attribute("#image-input", "accept")
    assert "tif" not in accepted.lower() and "png" in accepted
    assert "TIFF" not in page.text_content("#drop-zone").replace("do not read TIFF", "")

    new_case(page)
    at_scale_one(page)
    tiff = tmp_path / "he.tif"
    tiff.write_bytes(tiff_bytes(synthetic_tissue((64, 64), seed=4)[0]))
    state, _ = run_page(page, [tissue, tiff])
    assert state == "error"
    assert table_row(page, "he.tif")[1] == "error: " + TIFF_REFUSAL.format("he.tif")
    assert table_row(page, "tissue.png")[1] == "done"
    assert TIFF_REFUSAL.format("he.tif") in page.text_content("#status")

    # The counted image is shown; a click on the TIFF's row shows its error, not that count.
    assert page.text_content("#image-name") == "tissue.png" and shown_count(page) > 5
    page.click('tr[data-image="he.tif"]')
    assert page.text_content("#image-name") == "he.tif"
    assert page.text_content("#image-error") == "Not counted: " + TIFF_REFUSAL.format("he.tif")
    assert page.is_visible("#image-error")
    assert page.text_content("#cell-count") == ""
    for hidden in ("#view", "#download-labels", "#undo"):
        assert not page.is_visible(hidden), hidden
    page.click('tr[data-image="tissue.png"]')
    assert shown_count(page) > 5 and not page.is_visible("#image-error")
    assert page.is_visible("#view") and page.is_visible("#download-labels")

    # Dropped, or a TIFF under another name: refused the same way, by its first bytes.
    new_case(page)
    drop_files(page, {"dropped.tiff": tiff.read_bytes(), "renamed.png": tiff.read_bytes()})
    page.wait_for_selector('body[data-state="error"]', state="attached", timeout=60_000)
    page.wait_for_function(
        "[...document.querySelectorAll('#case-table tbody tr')]"
        ".every((tr) => tr.classList.contains('error'))"
    )
    for name in ("dropped.tiff", "renamed.png"):
        assert table_row(page, name)[1] == "error: " + TIFF_REFUSAL.format(name)

    # Not an image at all: the page says what it reads.
    new_case(page)
    text = tmp_path / "notes.txt"
    text.write_text("counts\n")
    page.set_input_files("#image-input", [str(text)])
    assert page.text_content("#status") == "No image among the files chosen (PNG or JPEG)."


@needs_browser
def test_image_too_large_is_refused_before_it_is_decoded(page, tmp_path):
    """Only the first bytes are written: decoding fails, so a refusal naming the size can
    only come from reading them (the page used to decode 14000 x 14000 pixels first)."""
    new_case(page)
    png = tmp_path / "slide.png"
    png.write_bytes(png_declaring(14000, 14000) + bytes(100))
    jpeg = bytearray(jpeg_bytes(8, 8))
    frame = jpeg.index(b"\xff\xc0")
    jpeg[frame + 5 : frame + 9] = struct.pack(">HH", 9000, 12000)
    (tmp_path / "slide.jpg").write_bytes(bytes(jpeg))
    state, _ = run_page(page, [png, tmp_path / "slide.jpg"], timeout=30_000)
    assert state == "error"
    too_large = "is too large for the page; count it with cellseg predict"
    assert table_row(page, "slide.png")[1] == (
        f"error: slide.png: 14000 x 14000 pixels at scale 1 {too_large}"
    )
    assert table_row(page, "slide.jpg")[1] == (
        f"error: slide.jpg: 12000 x 9000 pixels at scale 1 {too_large}"
    )


@needs_browser
def test_reload_asks_while_counts_or_corrections_are_not_downloaded(page, tissue, tmp_path):
    assert not reload_asks(page)  # a fresh page: nothing to lose

    # Counted, nothing downloaded: the counts would be lost (as an unsaved QuPath image).
    at_scale_one(page)
    assert run_page(page, [tissue])[0] == "done"
    assert reload_asks(page)
    assert page.query_selector_all("#case-table tbody tr") == []

    # Counts downloaded: nothing to lose; then a correction: asked again.
    at_scale_one(page)
    assert run_page(page, [tissue])[0] == "done"
    download(page, "#download-counts", tmp_path)
    assert not reload_asks(page)
    at_scale_one(page)
    assert run_page(page, [tissue])[0] == "done"
    download(page, "#download-counts", tmp_path)
    count = shown_count(page)
    click_pixel(page, 0, 0)  # a cell added in a corner (or one removed there)
    assert shown_count(page) != count
    assert reload_asks(page)

    # A correction downloaded with the case's ZIP: nothing to lose.
    at_scale_one(page)
    assert run_page(page, [tissue])[0] == "done"
    click_pixel(page, 0, 0)
    download(page, "#download-case", tmp_path)
    assert not reload_asks(page)
