"""The exported page in a real browser (headless Chromium driven by Playwright).

It exports the default model, serves the site on 127.0.0.1, uploads a real image, and checks
the count against Python's prediction, that no request left the origin, and that a broken
file ends in the error state. Skipped, with the reason, where Chromium or Playwright is
missing (.ci/run installs Debian's chromium).
"""

import shutil
import threading
import time

import numpy as np
import pytest

from cellseg.image_io import read_image, write_image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"
)

#: Chromium as a quiet test browser: no sandbox (root in CI), no calls home.
CHROMIUM_ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    from cellseg.cli import main
    from cellseg.commands.serve import make_server

    site = tmp_path_factory.mktemp("browser") / "site"
    assert main(["export", "default", "--output", str(site)]) == 0
    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(served_site):
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGUMENTS)
        page = browser.new_page()
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
        page.goto(served_site + "/")
        yield page
        browser.close()


def run_page(page, path, timeout=120_000):
    """Upload ``path``; returns the final state and the seconds it took."""
    started = time.monotonic()
    page.set_input_files("#image-input", str(path))
    page.wait_for_selector('body[data-state="done"], body[data-state="error"]', timeout=timeout)
    return page.get_attribute("body", "data-state"), time.monotonic() - started


@pytest.fixture
def test_image(tmp_path, datasets_if_present):
    """A real H&E image held out from training, or the bundled IHC sample without ../shared."""
    if datasets_if_present is not None:
        return datasets_if_present / "monuseg" / "train" / "images" / "TCGA-21-5786-01Z-00-DX1.png"
    from skimage import data

    path = tmp_path / "ihc.png"
    write_image(path, data.immunohistochemistry())
    return path


def test_page_counts_what_python_counts_and_stays_on_its_origin(page, served_site, test_image):
    from cellseg.neural_network.model import TrainedModel

    state, seconds = run_page(page, test_image)
    assert state == "done", page.text_content("#status")
    count = int(page.text_content("#cell-count").split()[0])
    expected = int(TrainedModel.load("default").segment_file(test_image).labels.max())
    assert expected > 20
    assert abs(count - expected) <= 0.02 * expected, (count, expected)
    assert page.evaluate("crossOriginIsolated") is True
    foreign = [url for url in page.requested if not url.startswith((served_site, "blob:", "data:"))]
    assert foreign == []
    print(f"browser: {count} cells (Python {expected}) in {seconds:.1f} s")


def test_broken_image_gives_the_error_state(page, tmp_path):
    truncated = tmp_path / "truncated.png"
    write_image(truncated, np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))
    truncated.write_bytes(truncated.read_bytes()[:200])
    state, _ = run_page(page, truncated)
    assert state == "error"
    assert "truncated.png" in page.text_content("#status")


def test_page_scale_enlarges_as_python_does_and_a_new_scale_reruns(page, tmp_path, test_image):
    from cellseg.neural_network.model import TrainedModel

    path = tmp_path / "crop.png"
    write_image(path, read_image(test_image)[:400, :400])
    model = TrainedModel.load("default")
    assert page.evaluate("document.querySelector('#scale').value") == "auto"  # the default
    page.evaluate("document.querySelector('#scale').value = '2'")  # no event: no run yet
    try:
        state, _ = run_page(page, path)
        assert state == "done", page.text_content("#status")
        enlarged = int(page.text_content("#cell-count").split()[0])
        expected = int(model.segment_file(path, scale=2).labels.max())
        assert expected > 20
        assert abs(enlarged - expected) <= max(2, 0.02 * expected), (enlarged, expected)
        # Changing the scale runs the chosen image again.
        page.evaluate(
            "const s = document.querySelector('#scale'); s.value = '1';"
            "s.dispatchEvent(new Event('change'))"
        )
        assert page.get_attribute("body", "data-state") == "running"
        page.wait_for_selector('body[data-state="done"], body[data-state="error"]')
        count = int(page.text_content("#cell-count").split()[0])
        expected = int(model.segment_file(path, scale=1).labels.max())
        assert abs(count - expected) <= max(2, 0.02 * expected), (count, expected)
    finally:
        page.evaluate("document.querySelector('#scale').value = 'auto'")
