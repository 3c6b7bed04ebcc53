"""A model's report as one self-contained HTML file: curves, scores, overlays, settings.

Everything is inside the file (charts as inline SVG, images as data URIs, no scripts), so it
opens offline, in any browser, and can be mailed or archived as it is.
"""

import base64
import html
import json

import numpy as np

#: Colours of the curves, in order.
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
#: Largest side of an image shown in the report, in pixels.
PICTURE_SIDE = 640


def line_chart(
    series: dict[str, list[tuple[float, float]]],
    *,
    title: str,
    x_label: str = "epoch",
    width: int = 560,
    height: int = 300,
) -> str:
    """An SVG line chart of named series of (x, y) points, with axes and a legend.

    The x axis is labelled ``x_label``; its ticks are whole numbers over a range of 5 or
    more (epochs), else fractions (a confidence from 0 to 1).

    Examples
    --------
    >>> chart = line_chart({"real": [(0.1, 0.2), (0.9, 0.8)]}, title="t", x_label="confidence")
    >>> ">confidence</text>" in chart, ">0.5</text>" in chart
    (True, True)
    """
    points = [point for values in series.values() for point in values]
    if not points:
        return f"<p>{html.escape(title)}: no data.</p>"
    left, right, top, bottom = 60, 20, 30, 40
    xs, ys = [x for x, _ in points], [y for _, y in points]
    x_low, x_high = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y_low, y_high = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1

    def place(x, y):
        return (
            left + (x - x_low) / (x_high - x_low) * (width - left - right),
            height - bottom - (y - y_low) / (y_high - y_low) * (height - top - bottom),
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">'
        f"{html.escape(title)}</text>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
        'stroke="#444"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#444"/>',
    ]
    for step in range(5):
        value = y_low + (y_high - y_low) * step / 4
        _, y = place(x_low, value)
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{value:.3g}</text>"
        )
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
        )
    ticks = np.linspace(x_low, x_high, 6)
    whole = x_high - x_low >= 5
    for value in sorted({round(x) for x in ticks}) if whole else ticks:
        x, _ = place(value, y_low)
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'font-size="11">{value if whole else f"{value:.3g}"}</text>'
        )
    parts.append(
        f'<text x="{width / 2}" y="{height - 4}" text-anchor="middle" font-size="12">'
        f"{html.escape(x_label)}</text>"
    )
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (place(*point) for point in values))
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(
            f'<text x="{width - right - 4}" y="{top + 14 * (index + 1)}" '
            f'text-anchor="end" font-size="12" fill="{colour}">'
            f"{html.escape(name)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def reliability_chart(error: float, points: list[dict], *, cells: int | None) -> str:
    """The cells' confidence against the share of them that are real nuclei (a
    reliability diagram: a calibrated confidence lies on the diagonal), and its error.

    ``error`` and ``points`` are `cellseg.neural_network.evaluation.Scores.reliability`'s,
    ``cells`` how many cells they are of: None where the cells' confidence is not known
    (a slide's), 0 where no cell was found, so there is nothing to measure.

    Examples
    --------
    >>> "cannot be measured" in reliability_chart(0.0, [], cells=0)
    True
    """
    from cellseg.batch import counted

    if cells is None:
        return "<p>The cells' confidence is not known for these images.</p>"
    if not cells:
        return (
            "<p>No cell was found in the evaluation images, so the cells' confidence cannot "
            "be measured there.</p>"
        )
    series = {
        "calibrated": [(0.0, 0.0), (1.0, 1.0)],
        "cells found": [(point["confidence"], point["real"]) for point in points],
    }
    title = "Share of real nuclei, by the cells' confidence"
    return (
        line_chart(series, title=title, x_label="the cells' confidence")
        + f"<p>Over {counted(cells, 'cell')} of the evaluation images, in 10 bins of "
        f"confidence: the confidence is off by {error:.3f} on average (expected calibration "
        "error).</p>"
    )


def picture(image: np.ndarray, *, alt: str) -> str:
    """An <img> holding ``image`` (RGB uint8) as a PNG data URI, shrunk to `PICTURE_SIDE`."""
    import imagecodecs
    from skimage.transform import resize

    rows, columns = image.shape[:2]
    scale = min(1.0, PICTURE_SIDE / max(rows, columns))
    if scale < 1:
        size = (max(1, round(rows * scale)), max(1, round(columns * scale)))
        image = resize(image, size, order=1, preserve_range=True, anti_aliasing=True)
        image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    data = base64.b64encode(imagecodecs.png_encode(image)).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def overlay(image: np.ndarray, found: np.ndarray, truth: np.ndarray | None = None) -> np.ndarray:
    """The image with the true outlines in green (if given) and the found ones in red."""
    from cellseg.postprocessing.drawing import draw_outlines

    picture_ = image
    if truth is not None:
        picture_ = draw_outlines(picture_, truth, colour=(0, 200, 0))
    return draw_outlines(picture_, found, colour=(255, 0, 0))


def table(rows: list[dict], columns) -> str:
    """An HTML table of rows (numbers to 4 significant decimals)."""
    from cellseg.tables import format_value

    head = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(format_value(row.get(column)))}</td>" for column in columns)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 1rem auto; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { display: inline-block; margin: 0.5rem; vertical-align: top; }
figcaption { font-size: 0.9rem; color: #444; }
pre { background: #f5f5f5; padding: 0.5rem; overflow-x: auto; font-size: 0.85rem; }
.charts svg { margin-right: 1rem; }
"""


def page(title: str, sections: list[tuple[str, str]]) -> str:
    """The whole HTML document: a title and (heading, HTML) sections."""
    body = "\n".join(
        f"<section><h2>{html.escape(heading)}</h2>\n{content}</section>"
        for heading, content in sections
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def curves(history: list[dict]) -> str:
    """Loss and score curves from ``history.csv`` rows, as SVG charts."""
    if not history:
        return "<p>No finished epoch.</p>"
    names = sorted({key for row in history for key in row} - {"epoch", "seconds", "learning_rate"})
    losses = [name for name in names if "loss" in name]
    scores = [name for name in names if "loss" not in name]
    charts = []
    for title, chosen in (("Loss", losses), ("Scores", scores)):
        series = {
            name: [(row["epoch"], row[name]) for row in history if name in row] for name in chosen
        }
        if series:
            charts.append(line_chart(series, title=title))
    return '<div class="charts">' + "\n".join(charts) + "</div>"


def settings_block(config) -> str:
    """A model's configuration (`ModelConfig`) as JSON, the per-file data list summarised."""
    shown = json.loads(json.dumps(config.to_dict()))
    data = (shown.get("training") or {}).get("data", {})
    if "files" in data:
        files = data.pop("files")
        data["files"] = f"{len(files)} files (names and SHA-256 in config.json)"
    return f"<pre>{html.escape(json.dumps(shown, indent=2, sort_keys=True))}</pre>"
