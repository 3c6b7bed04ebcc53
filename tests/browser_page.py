"""Driving the exported page in a browser (Playwright), for tests/web/test_browser.py: a
new case, images chosen and counted, the table's and the view's counts, downloads, clicks
on a pixel, and Python's count interval as the page shows it."""

import contextlib
import threading
import time
from pathlib import Path

import numpy as np

#: The page's body says it is done with a case, or failed.
FINISHED = 'body[data-state="done"], body[data-state="error"]'


def new_case(page):
    """Start an empty case (yes to the question asked when the case holds corrections)."""

    def accept(dialog):
        dialog.accept()

    page.on("dialog", accept)
    page.click("#new-case")
    page.remove_listener("dialog", accept)
    page.wait_for_selector('body[data-state="idle"]', state="attached")


def run_page(page, paths, timeout=300_000):
    """Choose the image files ``paths``; returns the final state and the seconds it took."""
    started = time.monotonic()
    page.set_input_files("#image-input", [str(path) for path in paths])
    page.wait_for_selector(FINISHED, state="attached", timeout=timeout)
    return page.get_attribute("body", "data-state"), time.monotonic() - started


def table_row(page, name) -> list[str]:
    return [cell.text_content() for cell in page.query_selector_all(f'tr[data-image="{name}"] td')]


def row_count(page, name) -> int:
    return int(page.text_content(f'tr[data-image="{name}"] td.count'))


def shown_count(page) -> int:
    return int(page.text_content("#cell-count").split()[0])


def download(page, selector, folder) -> Path:
    """Click ``selector``; the file it downloads, saved in ``folder`` under its own name."""
    with page.expect_download() as info:
        page.click(selector)
    path = Path(folder) / info.value.suggested_filename
    info.value.save_as(path)
    return path


def click_pixel(page, row, column):
    """Click image pixel (row, column) on the view (its transform: viewer.js)."""
    box = page.query_selector("#view").bounding_box()
    view = {
        key: float(page.get_attribute("#view", f"data-{key}")) for key in ("zoom", "left", "top")
    }
    page.mouse.click(
        box["x"] + view["left"] + (column + 0.5) * view["zoom"],
        box["y"] + view["top"] + (row + 0.5) * view["zoom"],
    )


def interval_text(confidence, spread) -> str:
    """What the page shows for Python's count interval of these confidences (as counts.csv
    holds them, rounded to 4 decimals) and the model's count spread."""
    from cellseg.postprocessing.confidence import count_interval

    _, low, high = count_interval(np.round(confidence, 4), spread)
    return f"{low}–{high}"


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


def reload_asks(page) -> bool:
    """Reload the page as a user would; whether the browser asked first (the question of
    ``beforeunload``, answered "leave"). Chromium asks only on a page the user has touched,
    so the page's heading is clicked first."""
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.accept()

    page.click("header h1")
    page.on("dialog", answer)
    try:
        page.reload()
    finally:
        page.remove_listener("dialog", answer)
    page.wait_for_selector('body[data-model="ready"]', state="attached", timeout=120_000)
    return "beforeunload" in asked


def drop_files(page, files: dict[str, bytes]):
    """Drop files (name: bytes) on the page's drop zone, as from a file manager."""
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, bytes] of Object.entries(files)) {
                transfer.items.add(new File([new Uint8Array(bytes)], name));
            }
            return transfer;
        }""",
        {name: list(data) for name, data in files.items()},
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})


@contextlib.contextmanager
def served(site):
    """The exported ``site`` served on a free port of this computer while the block runs
    (`cellseg serve`'s server): its address."""
    from cellseg.commands.serve import make_server

    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
