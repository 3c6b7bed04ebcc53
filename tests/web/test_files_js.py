"""The files the page writes and reads, run in Node: PNG layers, the pixel size it reads,
counts.csv and cell tables as predict's, and its ZIP."""

import numpy as np
import pytest
from node_runner import NODE, node
from tables import read_csv

from cellseg.image_io import read_image, write_image
from cellseg.postprocessing.measurements import measure_cells
from cellseg.preprocessing.synthetic import synthetic_tissue

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def test_sixteen_bit_and_rgba_png_encoders(tmp_path):
    node(
        tmp_path,
        """
import { encodeGray16, encodeRgba8 } from "web/png.js";
import { writeFileSync } from "node:fs";
const folder = process.argv[2];
const values = [0, 1, 2, 65535, 300, 0, 7, 8, 9, 10, 11, 40000];
const bytes = async (blob) => Buffer.from(await (await blob).arrayBuffer());
writeFileSync(folder + "/labels.png", await bytes(encodeGray16(values, 3, 4)));
const rgba = Uint8ClampedArray.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);
writeFileSync(folder + "/layer.png", await bytes(encodeRgba8(rgba, 2, 3)));
""",
    )
    decoded = read_image(tmp_path / "labels.png")
    assert decoded.dtype == np.uint16
    assert decoded.tolist() == [[0, 1, 2, 65535], [300, 0, 7, 8], [9, 10, 11, 40000]]
    layer = read_image(tmp_path / "layer.png")
    assert layer.shape == (2, 3, 4)
    assert layer.ravel().tolist() == [(i * 37) % 256 for i in range(24)]


def test_outline_layer_is_pythons_annotation_layer(tmp_path):
    from cellseg.postprocessing.drawing import outline_layer

    _, labels = synthetic_tissue((70, 90), seed=8)
    labels[0, :] = labels[0, 0]  # a cell along the edge
    labels.astype(np.int32).tofile(tmp_path / "labels.i32")
    node(
        tmp_path,
        """
import { readFileSync, writeFileSync } from "node:fs";
import { outlineLayer } from "web/drawing.js";
const folder = process.argv[2];
const raw = readFileSync(folder + "/labels.i32");
const labels = new Int32Array(raw.buffer, raw.byteOffset, raw.length / 4);
writeFileSync(folder + "/layer.rgba", outlineLayer(labels, 70, 90));
""",
    )
    layer = np.fromfile(tmp_path / "layer.rgba", np.uint8).reshape(70, 90, 4)
    assert np.array_equal(layer, outline_layer(labels))


def test_pixel_size_read_as_python_reads_it(tmp_path):
    from cellseg.image_metadata import read_pixel_size

    cases = {"none": None, "quarter": 4_000_000, "half": 2_000_000, "odd": 3_937_008}
    cases["implausible"] = 2835  # 72 dots per inch: no microscope
    for name, per_metre in cases.items():
        write_image(tmp_path / f"{name}.png", np.zeros((4, 5, 3), np.uint8))
        if per_metre:  # a pHYs chunk after IHDR, as microscope software writes it
            import struct
            import zlib

            data = (tmp_path / f"{name}.png").read_bytes()
            body = b"pHYs" + struct.pack(">IIB", per_metre, per_metre, 1)
            chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body))
            (tmp_path / f"{name}.png").write_bytes(data[:33] + chunk + data[33:])
    found = node(
        tmp_path,
        """
import { readFileSync } from "node:fs";
import { pngPixelSize } from "web/png.js";
const folder = process.argv[2];
const names = JSON.parse(readFileSync(folder + "/input.json"));
const read = (name) => new Uint8Array(readFileSync(`${folder}/${name}.png`));
console.log(JSON.stringify(names.map((name) => pngPixelSize(read(name)))));
""",
        list(cases),
    )
    expected = [read_pixel_size(tmp_path / f"{name}.png") for name in cases]
    assert found == expected
    assert expected[1] == 0.25 and expected[0] is None and expected[-1] is None


TABLES = """
import { readFileSync } from "node:fs";
import { cellsCsv, countsCsv } from "web/tables.js";
const { images, positivity } = JSON.parse(readFileSync(process.argv[2] + "/input.json"));
const counts = countsCsv(images, positivity);
console.log(JSON.stringify({ counts, cells: cellsCsv(images, positivity) }));
"""


@pytest.mark.parametrize("threshold", [None, 0.15, 1.0, "auto"])
def test_counts_and_cell_tables_are_predicts(tmp_path, threshold):
    """counts.csv and the cell tables the page writes are, character for character, those
    `PredictionFiles` writes for the same cells (columns, rounding, blanks, positivity)."""
    from cellseg.neural_network.model import Cells
    from cellseg.prediction_files import PredictionFiles

    images = []
    output = tmp_path / "predict"
    output.mkdir()
    files = PredictionFiles(output, positive_threshold=threshold, formats=())
    settings = [(1.0, None, 1.0), (2.0, 0.5, 2.2371), (1.0, 0.2527, 1.0)]
    for index, (scale, pixel_size, counterstain) in enumerate(settings):
        image, labels = synthetic_tissue((90, 120), seed=20 + index, positive_fraction=0.3)
        if index == 2:
            labels[:] = 0  # an image without cells
        confidence = np.random.default_rng(index).random(int(labels.max()))
        name = f"tissue {index}.png"
        found = Cells(image, labels, scale, confidence, counterstain=counterstain)
        files.add(name, found, pixel_size=pixel_size)
        cells = [vars(cell) for cell in measure_cells(image, labels, confidence)]
        images.append(
            {"name": name, "cells": cells, "scale": scale, "pixelSize": pixel_size,
             "counterstain": counterstain}
        )  # fmt: skip
    files.finish([image["name"] for image in images])
    blank = read_csv(output / "counts.csv")[2]  # no cells: none expected, no mean area
    assert (blank["count"], blank["expected"], blank["count_low"], blank["count_high"]) == (
        "0", "0.0", "0", "0",
    )  # fmt: skip
    assert blank["mean_area"] == "" and blank["mean_area_um2"] == ""
    positivity = {"on": threshold is not None, "threshold": threshold}
    found = node(tmp_path, TABLES, {"images": images, "positivity": positivity}, "tables")
    assert found["counts"] == (output / "counts.csv").read_text()
    assert found["cells"] == (output / "cells.csv").read_text()


ZIP = """
import { writeFileSync } from "node:fs";
import { zipParts } from "web/zip.js";
const folder = process.argv[2];
const bytes = Uint8Array.from({ length: 70000 }, (_, i) => (i * 7919) % 251);
const parts = zipParts([
  { name: "counts.csv", data: "image,count\\nä.png,3\\n" },
  { name: "tissue 1_labels.png", data: bytes },
  { name: "folder/empty.txt", data: new Uint8Array(0) },
  { name: "naïve_cells.csv", data: "id\\n1\\n" },
], new Date(2026, 0, 31, 13, 45, 58));
writeFileSync(folder + "/case.zip", Buffer.concat(parts.map((part) => Buffer.from(part))));
"""


def test_zip_writer_is_read_back_with_its_checksums(tmp_path):
    import zipfile
    import zlib

    node(tmp_path, ZIP, name="zip")
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        assert archive.testzip() is None  # every CRC-32 checks
        names = archive.namelist()
        assert names == ["counts.csv", "tissue 1_labels.png", "folder/empty.txt", "naïve_cells.csv"]
        assert archive.read("counts.csv").decode() == "image,count\nä.png,3\n"
        data = archive.read("tissue 1_labels.png")
        assert data == bytes((i * 7919) % 251 for i in range(70000))
        info = archive.getinfo("tissue 1_labels.png")
        assert info.CRC == zlib.crc32(data) and info.compress_type == zipfile.ZIP_STORED
        assert info.date_time == (2026, 1, 31, 13, 45, 58)
        assert archive.read("folder/empty.txt") == b""
