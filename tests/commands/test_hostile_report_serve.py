"""Hostile inputs to report, serve and numeric options, from a probe (issue #33).

File names and settings are written into the report's HTML as text; serve answers a NUL byte
with 400 and lists no folder; bad option values are argparse's usage errors (exit code 2),
saying the range. (Hostile image files are in test_hostile_files.py.)
"""

import html.parser
import json
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from cellseg.image_io import read_image, write_image
from cellseg.postprocessing.drawing import outline_layer

# --- 19: file names and settings written into the report's HTML -----------------------

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_LINK = '<a href="https://example.com/track">gone</a>'


class Markup(html.parser.HTMLParser):
    """The tags, attributes and text of an HTML document."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_report_pieces_write_their_text_as_text():
    from cellseg import report

    chart = report.line_chart({HOSTILE_NAME: [(1, 0.5), (2, 0.4)]}, title=HOSTILE_LINK)
    picture = report.picture(np.zeros((4, 4, 3), np.uint8), alt=f'">{HOSTILE_NAME}')
    rows = report.table([{"image": HOSTILE_NAME, "aji": 0.5}], ["image", "aji"])
    markup = Markup()
    markup.feed(report.page(HOSTILE_LINK, [(HOSTILE_NAME, chart + picture + rows)]))
    assert [tag for tag, _ in markup.tags if tag in ("a", "img")] == ["img"]
    assert all(not name.startswith("on") for _, attributes in markup.tags for name in attributes)


def test_report_writes_names_and_settings_as_text(tmp_path, cellseg, small_model):
    model = tmp_path / "model"
    shutil.copytree(small_model, model)
    config = json.loads((model / "config.json").read_text())
    config["settings"] = {
        "data": {
            "images": HOSTILE_LINK,
            "annotations": HOSTILE_LINK,
            "files": [{"image": "a.png", "annotation": "a.png", "split": "validation"}],
        }
    }
    (model / "config.json").write_text(json.dumps(config))
    (model / "history.csv").write_text("epoch,loss,seconds\n1,0.5,60\n")
    images, annotations = tmp_path / "<b onclick=alert(4)>scans", tmp_path / "outlines"
    images.mkdir()
    annotations.mkdir()
    labels = np.zeros((48, 48), np.uint16)
    labels[10:30, 12:34] = 1
    write_image(images / f"{HOSTILE_NAME}.png", np.full((48, 48, 3), 200, np.uint8))
    write_image(annotations / f"{HOSTILE_NAME}.png", outline_layer(labels))
    output = tmp_path / "report.html"
    result = cellseg(
        "report", model, "--output", output, "--images", images, "--annotations", annotations
    )
    assert result.code == 0, result.err
    markup = Markup()
    markup.feed(output.read_text())
    tags = {tag for tag, _ in markup.tags}
    assert not tags & {"a", "b", "script", "iframe", "link"}, tags
    for tag, attributes in markup.tags:
        assert not [name for name in attributes if name.startswith("on")], (tag, attributes)
        if tag == "img":
            assert attributes["src"].startswith("data:image/png;base64,")
    text = "".join(markup.text)
    assert f"{HOSTILE_NAME}.png" in text and HOSTILE_LINK in text


# --- 20: serve: ports, NUL bytes, folder listings --------------------------------------


@pytest.fixture
def site(tmp_path) -> Path:
    """A folder with what 'cellseg serve' checks for, and a subfolder without a page."""
    folder = tmp_path / "site"
    (folder / "vendor").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>cells</title>")
    (folder / "model.onnx").write_bytes(b"\0" * 16)
    (folder / "vendor" / "runtime.js").write_text("// runtime")
    return folder


@pytest.fixture
def served(site):
    """``(host, port)`` of a server of ``site`` running in a thread."""
    from cellseg.commands.serve import make_server

    server = make_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[:2]
    finally:
        server.shutdown()
        server.server_close()


def status_of(address, path: str) -> int:
    """The HTTP status the server answers to ``GET path``, sent as raw bytes."""
    with socket.create_connection(address, timeout=10) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode("latin-1"))
        answer = client.recv(64)
    assert answer.startswith(b"HTTP/1."), answer
    return int(answer.split()[1])


def test_serve_answers_a_nul_byte_with_400_and_goes_on(served, capfd):
    assert status_of(served, "/%00") == 400
    assert status_of(served, "/index.html%00.js") == 400
    assert status_of(served, "//%00") == 400
    assert status_of(served, "/%ed%a0%80") == 400  # a lone surrogate: no file's name
    assert status_of(served, "/") == 200
    assert "Traceback" not in capfd.readouterr().err


def test_serve_stops_on_ctrl_c_with_a_line_saying_so(site):
    import signal
    import sys

    from terminal import started_as_at_a_terminal

    command = [sys.executable, "-m", "cellseg", "serve", str(site), "--port", "0"]
    server = started_as_at_a_terminal(command)
    try:
        assert "(Ctrl-C to stop)" in server.stdout.readline()
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    finally:
        server.kill()
    assert server.returncode == 0, err
    assert out.strip() == f"cellseg serve: stopped serving {site}"
    assert "Traceback" not in err


def test_serve_lists_no_folder(served):
    assert status_of(served, "/vendor/") == 404
    assert status_of(served, "/vendor/runtime.js") == 200
    assert status_of(served, "/") == 200  # the page itself, not a listing


# --- 21: numeric options out of range ---------------------------------------------------

#: Paths below a file, so that a command that took a bad value anyway fails at once and
#: writes nothing.
X = "blocker/x"

BAD_OPTIONS = [
    ("blur", X, X, "--sigma", "inf"),
    ("blur", X, X, "--sigma", "1e6"),
    ("blur", X, X, "--sigma", "nan"),
    ("split", X, X, "--tile", "0"),
    ("split", X, X, "--tile", "1e9"),
    ("split", X, X, "--overlap", "-1"),
    ("synth", X, "--count", "0"),
    ("synth", X, "--count", "10000000"),
    ("synth", X, "--size", "100000"),
    ("synth", X, "--seed", "-1"),
    ("synth", X, "--positive-fraction", "2"),
    ("synth", X, "--positive-fraction", "inf"),
    ("predict", X, X, "--output", X, "--scale", "inf"),
    ("predict", X, X, "--output", X, "--scale", "1e-6"),
    ("predict", X, X, "--output", X, "--scale", "100"),
    ("predict", X, X, "--output", X, "--positive-threshold", "inf"),
    ("predict", X, X, "--output", X, "--positive-threshold", "-0.1"),
    ("evaluate", X, "--images", X, "--annotations", X, "--scale", "nan"),
    ("evaluate", X, "--images", X, "--annotations", X, "--scale", "0.01"),
    ("demo", "--output", X, "--scale", "inf"),
    ("demo", "--output", X, "--positive-threshold", "1e300"),
    ("export", X, "--output", X, "--positive-threshold", "inf"),
    ("reduce", X, X, "--threshold", "inf"),
    ("labels", X, X, "--alpha-threshold", "256"),
    ("serve", X, "--port", "70000"),
    ("serve", X, "--port", "-1"),
]


@pytest.mark.parametrize("arguments", BAD_OPTIONS, ids=" ".join)
def test_out_of_range_option_is_a_usage_error_saying_the_range(
    tmp_path, monkeypatch, cellseg, arguments
):
    monkeypatch.chdir(tmp_path)
    Path("blocker").write_text("a file, not a folder")
    result = cellseg(*arguments)
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    option = arguments[-2]
    last = result.error_lines[-1]
    assert f"argument {option}: must be" in last and " between " in last, last
    assert sorted(path.name for path in tmp_path.iterdir()) == ["blocker"]


def test_blur_takes_the_largest_sigma_quickly(tmp_path, cellseg):
    write_image(tmp_path / "a.png", np.full((256, 256), 50, np.uint8))
    result = cellseg("blur", tmp_path / "a.png", tmp_path / "out", "--sigma", "200")
    assert result.code == 0, result.err
    assert read_image(tmp_path / "out" / "a.png").max() == 50


def test_serve_stopped_the_moment_it_says_it_listens_stops_as_always(site, cellseg, monkeypatch):
    """A Ctrl-C that comes as the listening line shows (a quick hand, a busy machine) stops
    it as any other: the closing line, exit code 0, not "interrupted"."""
    from cellseg.commands import serve

    said = []

    def print_then_ctrl_c(line, **_):
        said.append(line)
        if "(Ctrl-C to stop)" in line:
            raise KeyboardInterrupt

    monkeypatch.setattr(serve, "print", print_then_ctrl_c, raising=False)
    assert cellseg("serve", site, "--port", "0").code == 0
    assert said[-1] == f"cellseg serve: stopped serving {site}"
