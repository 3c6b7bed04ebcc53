"""Seconds from choosing a 1000 x 1000 image to seeing its count, in headless Chromium.

    python benchmarks/browser_speed.py [--model default] [--runs 5] [--side 1000]

Exports the model, serves the site with `cellseg serve`'s server (cross-origin isolated, so
ONNX Runtime Web may use threads), and times, in a real browser, the upload of a real H&E
image (../shared/datasets/monuseg, synthetic tissue without it) until the page's state is
`done`, reporting every run and the median. Needs Debian's chromium and Playwright.
"""

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--side", type=int, default=1000)
    arguments = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from cellseg.cli import main as cellseg
    from cellseg.commands.serve import make_server
    from cellseg.image_io import read_image, write_image
    from cellseg.preprocessing.synthetic import synthetic_tissue

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        assert cellseg(["export", arguments.model, "--output", str(folder / "site")]) == 0
        images = sorted((DATASETS / "monuseg" / "train" / "images").glob("*.png"))
        side = arguments.side
        if images:
            image = read_image(images[0])[:side, :side]
        else:
            image = synthetic_tissue((side, side), seed=0)[0]
        write_image(folder / "image.png", image)
        server = make_server(folder / "site", port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        host, port = server.server_address[:2]
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        seconds, counts = [], []
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, args=ARGUMENTS)
            page = browser.new_page()
            page.goto(f"http://{host}:{port}/")
            for run in range(arguments.runs + 1):  # the first run loads and compiles the model
                page.reload()
                page.wait_for_selector('body[data-model="ready"]', timeout=120_000)
                started = time.monotonic()
                page.set_input_files("#image-input", str(folder / "image.png"))
                page.wait_for_selector(
                    'body[data-state="done"], body[data-state="error"]', timeout=300_000
                )
                elapsed = time.monotonic() - started
                if page.get_attribute("body", "data-state") != "done":
                    raise SystemExit(page.text_content("#status"))
                if run:
                    seconds.append(elapsed)
                    counts.append(page.text_content("#cell-count"))
            browser.close()
        server.shutdown()
    print(
        f"{image.shape[1]} x {image.shape[0]} image, model '{arguments.model}', "
        f"{arguments.runs} runs after a warm-up: "
        + ", ".join(f"{s:.2f}" for s in seconds)
        + f" s; median {statistics.median(seconds):.2f} s ({counts[-1]})"
    )


if __name__ == "__main__":
    main()
