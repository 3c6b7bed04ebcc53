"""``cellseg export`` and ``cellseg serve``: a self-contained site, the same network as Keras."""

import json
import re
import socket
import struct
import threading
import time
import urllib.request

import keras
import numpy as np
import onnxruntime
import pytest

from cellseg.commands.serve import make_server
from cellseg.neural_network.model_folder import ModelFolder, load_network
from cellseg.web_site import web_files

#: The page's own files (its modules, the classic start script, the style sheet).
OWN_FILES = tuple(sorted(path.name for path in web_files().iterdir() if path.is_file()))
RUNTIME = (
    "ort.wasm.min.mjs",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
    "LICENSE",
    "README.md",
)


@pytest.fixture(scope="module")
def site(small_model, tmp_path_factory):
    from cellseg.cli import main

    output = tmp_path_factory.mktemp("sites") / "site"
    assert main(["export", str(small_model), "--output", str(output)]) == 0
    return output


def test_site_holds_page_runtime_and_model(site):
    assert {"index.html", "app.js", "worker.js", "start.js", "zip.js", "style.css"} <= set(
        OWN_FILES
    )
    for name in OWN_FILES + ("model.onnx", "model.json"):
        assert (site / name).is_file(), name
    for name in RUNTIME:
        assert (site / "vendor" / "onnxruntime-web" / name).is_file(), name
    settings = json.loads((site / "model.json").read_text())
    assert settings["target"] == "3class" and settings["divisor"] == 4
    assert settings["postprocessing"]["min_area"] == 10 and settings["input_size"] is None
    # What the page rates, drops and reports cells with.
    assert set(settings["calibration"]) == {"slope", "intercept"}
    assert "min_confidence" in settings["postprocessing"]
    assert {"pixel_size", "model_sha256", "cellseg", "positive_threshold"} <= set(settings)


def test_page_loads_nothing_from_elsewhere(site):
    # No absolute URL in the page's own files: everything is relative to the site.
    for name in OWN_FILES:
        text = (site / name).read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), name
    assert "connect-src 'self'" in (site / "index.html").read_text()


@pytest.mark.parametrize("shape", [(1, 64, 64, 3), (2, 40, 72, 3)])
def test_onnx_network_matches_keras(site, small_model, shape):
    model = load_network(ModelFolder(small_model))
    session = onnxruntime.InferenceSession(
        str(site / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    image = np.random.default_rng(5).uniform(0, 255, shape).astype(np.float32)
    onnx_output = session.run(None, {session.get_inputs()[0].name: image})[0]
    np.testing.assert_allclose(onnx_output, model.predict_on_batch(image), atol=1e-4)


def test_fixed_size_user_network_exports(tmp_path):
    from cellseg.cli import main

    folder = tmp_path / "fixed"
    folder.mkdir()
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")(inputs)
    keras.Model(inputs, outputs).save(folder / "best.keras")
    (folder / "config.json").write_text(json.dumps({"target": "mask"}))
    assert main(["export", str(folder), "--output", str(tmp_path / "site")]) == 0
    settings = json.loads((tmp_path / "site" / "model.json").read_text())
    assert settings["input_size"] == [32, 32] and settings["target"] == "mask"


def test_existing_folder_is_kept(small_model, tmp_path, cellseg):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "notes.txt").write_text("mine")
    result = cellseg("export", small_model, "--output", tmp_path / "site")
    assert result.code == 1 and "already exists" in result.err
    assert (tmp_path / "site" / "notes.txt").read_text() == "mine"


def test_serve_isolates_the_site_and_stays_local(site):
    server = make_server(site, port=0)
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/") as response:
            assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
            assert "connect-src 'self'" in response.headers["Content-Security-Policy"]
        wasm = f"http://{host}:{port}/vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm"
        with urllib.request.urlopen(wasm) as response:
            assert response.headers["Content-Type"] == "application/wasm"
        module = f"http://{host}:{port}/vendor/onnxruntime-web/ort.wasm.min.mjs"
        with urllib.request.urlopen(module) as response:
            assert response.headers["Content-Type"].startswith("text/javascript")
    finally:
        server.shutdown()
        server.server_close()


def test_serve_takes_a_dropped_connection_quietly(site, capfd):
    """A page closed while a large file is sent: no traceback, and the server goes on."""
    server = make_server(site, port=0)
    host, port = server.server_address[:2]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for _ in range(3):
            client = socket.create_connection((host, port))
            path = "/vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm"
            client.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            assert client.recv(64).startswith(b"HTTP/1.0 200")
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()  # reset: the server's next writes fail
        time.sleep(1)
        with urllib.request.urlopen(f"http://{host}:{port}/") as response:
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in capfd.readouterr().err
