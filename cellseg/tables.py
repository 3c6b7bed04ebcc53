"""Tables of results: aligned text for the terminal, CSV for other tools."""

import csv
import io


def format_value(value) -> str:
    """A table cell: floats with up to 4 decimals, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "nan"
    return str(value)


def text_table(rows: list[dict], columns) -> str:
    """Rows as left-aligned columns with a header line."""
    cells = [[format_value(row.get(column)) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(row[index]) for row in cells)) if cells else len(column)
        for index, column in enumerate(columns)
    ]
    lines = [[*columns], *cells]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def csv_text(rows: list[dict], columns) -> str:
    """Rows as CSV with a header line; numbers written in full precision."""
    text = io.StringIO()
    writer = csv.DictWriter(
        text, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()
