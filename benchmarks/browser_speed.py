"""A case of images counted in headless Chromium against `cellseg predict` on the same images.

    python benchmarks/browser_speed.py [--model default] [--images 10] [--side 1000] [--runs 3]

Makes a case of ``--images`` real H&E images (../shared/datasets/monuseg, cut to ``--side``
pixels a side; synthetic tissue without it), exports the model and serves the site with
`cellseg serve`'s server (cross-origin isolated, so ONNX Runtime Web may use threads). Each
run times, in turn:

- the page: from choosing all the images at once to the whole queue done (the model
  loaded beforehand, as a doctor's page is while the images are picked), in a fresh page;
- `cellseg predict` on the same folder, as a user runs it: the whole command, Python's
  start and TensorFlow's included, into an empty folder.

It reports every run, both medians and their ratio, and whether every image's count on the
page equals predict's (counts.csv); then where the page's time went (decoding, choosing the
scale, the network, cells, measurements, summed over the images). ``--images 1`` times one
image from choosing it to its count. Needs Debian's chromium and Playwright.
"""

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
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


def make_case(folder: Path, count: int, side: int) -> list[Path]:
    """``count`` images of ``side`` x ``side`` pixels in ``folder``."""
    from cellseg.image_io import read_image, write_image
    from cellseg.preprocessing.synthetic import synthetic_tissue

    folder.mkdir()
    sources = sorted((DATASETS / "monuseg" / "train" / "images").glob("*.png"))
    paths = []
    for index in range(count):
        if sources:
            image = read_image(sources[index % len(sources)])[:side, :side]
        else:
            image = synthetic_tissue((side, side), seed=index)[0]
        paths.append(folder / f"image{index + 1:02d}.png")
        write_image(paths[-1], image)
    return paths


def time_page(browser, address: str, paths: list[Path]) -> tuple[float, dict, dict]:
    """Seconds from choosing ``paths`` to the queue done; each image's count; where the
    time went (seconds summed over the images, per stage)."""
    page = browser.new_page()
    try:
        page.goto(address)
        page.wait_for_selector('body[data-model="ready"]', state="attached", timeout=120_000)
        started = time.monotonic()
        page.set_input_files("#image-input", [str(path) for path in paths])
        page.wait_for_selector(
            'body[data-state="done"], body[data-state="error"]', state="attached", timeout=1_800_000
        )
        elapsed = time.monotonic() - started
        if page.get_attribute("body", "data-state") != "done":
            raise SystemExit(f"browser_speed.py: the page failed: {page.text_content('#status')}")
        counts, stages = {}, {}
        for row in page.query_selector_all("#case-table tbody tr"):
            counts[row.get_attribute("data-image")] = int(row.query_selector(".count").inner_text())
            for stage, seconds in json.loads(row.get_attribute("data-seconds") or "{}").items():
                stages[stage] = stages.get(stage, 0.0) + seconds
        return elapsed, counts, stages
    finally:
        page.close()


def time_predict(model: str, folder: Path, output: Path) -> tuple[float, dict]:
    """Seconds `cellseg predict` takes for the images of ``folder``; each image's count."""
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, "-m", "cellseg", "predict", model, str(folder)]
    started = time.monotonic()
    result = subprocess.run(command + ["--output", str(output)], capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"browser_speed.py: cellseg predict failed:\n{result.stderr[-2000:]}")
    with open(output / "counts.csv", newline="") as file:
        counts = {row["image"]: int(row["count"]) for row in csv.DictReader(file)}
    return elapsed, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--images", type=int, default=10, help="images in the case (10)")
    parser.add_argument("--side", type=int, default=1000, help="pixels a side (1000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (3)")
    arguments = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from cellseg.cli import main as cellseg
    from cellseg.commands.serve import make_server

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("browser_speed.py: Chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        paths = make_case(folder / "case", arguments.images, arguments.side)
        assert cellseg(["export", arguments.model, "--output", str(folder / "site")]) == 0
        server = make_server(folder / "site", port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        host, port = server.server_address[:2]
        page_seconds, predict_seconds, mismatches, stages = [], [], {}, {}
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, args=ARGUMENTS)
            time_page(browser, f"http://{host}:{port}/", paths[:1])  # warm-up: caches
            for _ in range(arguments.runs):  # in turn, so both meet the same machine
                seconds, page_counts, stages = time_page(browser, f"http://{host}:{port}/", paths)
                page_seconds.append(seconds)
                seconds, predict_counts = time_predict(
                    arguments.model, folder / "case", folder / "predicted"
                )
                predict_seconds.append(seconds)
                mismatches = {
                    name: (count, predict_counts.get(name))
                    for name, count in page_counts.items()
                    if count != predict_counts.get(name)
                }
            browser.close()
        server.shutdown()
    page, predict = statistics.median(page_seconds), statistics.median(predict_seconds)
    print(
        f"{arguments.images} images of {arguments.side} x {arguments.side}, model "
        f"'{arguments.model}', {arguments.runs} runs each:\n"
        f"  page (headless Chromium): {', '.join(f'{s:.1f}' for s in page_seconds)} s; "
        f"median {page:.1f} s\n"
        f"  cellseg predict:          {', '.join(f'{s:.1f}' for s in predict_seconds)} s; "
        f"median {predict:.1f} s\n"
        f"  ratio page / predict: {page / predict:.2f}\n"
        f"  counts: "
        + ("every image's equal to predict's" if not mismatches else f"differ: {mismatches}")
        + "\n  the page's time, summed over the images (seconds, both workers): "
        + ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in stages.items())
    )


if __name__ == "__main__":
    main()
