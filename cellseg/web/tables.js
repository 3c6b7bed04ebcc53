// The case's numbers and files in cellseg predict's columns: an image's row of counts.csv
// (PredictionFiles._count_row), its <stem>_cells.csv, and the case's counts.csv and
// cells.csv, numbers written as Python writes them. No DOM: the page and Node run it.
//
// An "image" here is what the page holds for one image: { name, cells, scale, counterstain,
// pixelSize, countSpread } with cells as measureCells gives them (DAB density and confidence
// rounded, as the files).

import { countInterval } from "./confidence.js";
import { CELL_COLUMNS, CELL_DECIMALS, MICRON_COLUMNS } from "./constants.js";
import { mean, pyRound, pythonText } from "./numbers.js";
import { positives, thresholdFor } from "./positivity.js";

// Columns whose values are Python ints (written without a decimal point).
const INTEGERS = new Set(["id", "area", "count", "count_low", "count_high", "positive"]);

/** The columns of counts.csv (PredictionFiles.count_columns), positivity on or off. */
export function countColumns(positivity) {
  const columns = ["image", "count", "expected", "count_low", "count_high"];
  if (positivity && positivity.on) columns.push("positive", "positive_percent", "positive_threshold");
  return [...columns, "mean_area", "mean_area_um2", "scale", "counterstain", "pixel_size"];
}

/** The columns of a cell table (PredictionFiles.cell_columns). */
export function cellColumns(positivity) {
  return ["image", ...CELL_COLUMNS, ...MICRON_COLUMNS, ...(positivity && positivity.on ? ["positive"] : [])];
}

/** The file name's stem: "a/b/tissue.1.png" -> "tissue.1" (pathlib's stem of its name). */
export function stem(name) {
  const base = name.split(/[\\/]/).pop();
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

/** One image's row of counts.csv, as PredictionFiles makes it from its cells (image_counts). */
export function countRow(image, positivity) {
  const { cells } = image;
  const row = { image: image.name, count: cells.length };
  if (cells.every((cell) => cell.confidence !== null && cell.confidence !== undefined)) {
    const { expected, low, high } = countInterval(cells.map((cell) => cell.confidence), image.countSpread);
    Object.assign(row, { expected, count_low: low, count_high: high });
  }
  const threshold = thresholdFor(cells, positivity);
  if (threshold !== undefined) {
    const positive = positives(cells, threshold).filter(Boolean).length;
    row.positive = positive;
    row.positive_percent = cells.length ? pyRound((100 * positive) / cells.length, 2) : 0;
    row.positive_threshold = threshold;
  }
  const areas = cells.map((cell) => cell.area);
  row.mean_area = areas.length ? pyRound(mean(areas), 2) : null;
  if (image.pixelSize && areas.length) row.mean_area_um2 = pyRound(mean(areas) * image.pixelSize ** 2, 3);
  row.scale = image.scale === null || image.scale === undefined ? null : pyRound(Number(image.scale), 4);
  row.counterstain = image.counterstain === null || image.counterstain === undefined ? null
    : pyRound(Number(image.counterstain), 4);
  row.pixel_size = image.pixelSize || null;
  return row;
}

/** A cell's measurements as the files hold them (measurements.written): with µm measures
 *  when the pixel size is known, each rounded to its CELL_DECIMALS. */
export function writtenCell(cell, pixelSize) {
  const row = { ...cell };
  if (pixelSize) {
    row.area_um2 = cell.area * pixelSize ** 2;
    row.perimeter_um = cell.perimeter * pixelSize;
  }
  for (const [column, digits] of Object.entries(CELL_DECIMALS)) {
    if (typeof row[column] === "number") row[column] = pyRound(row[column], digits);
  }
  return row;
}

/** The rows of one image's cell table, with `image`, µm measures and `positive`. */
export function cellRows(image, positivity) {
  const threshold = thresholdFor(image.cells, positivity);
  const marks = positives(image.cells, threshold);
  return image.cells.map((cell, index) => {
    const row = { image: image.name, ...writtenCell(cell, image.pixelSize) };
    if (threshold !== undefined) row.positive = Number(marks[index]);
    return row;
  });
}

/** Rows as CSV text with a header line, numbers as Python's csv module writes them. */
export function csvText(rows, columns) {
  const cell = (column, value) => {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") return pythonText(value, !INTEGERS.has(column));
    const text = String(value);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [columns.join(","), ...rows.map((row) => columns.map((column) => cell(column, row[column])).join(","))];
  return lines.join("\n") + "\n";
}

/** The case's counts.csv: one row per image, in the order given. */
export function countsCsv(images, positivity) {
  return csvText(images.map((image) => countRow(image, positivity)), countColumns(positivity));
}

/** One image's <stem>_cells.csv, or the case's cells.csv for several images. */
export function cellsCsv(images, positivity) {
  return csvText(images.flatMap((image) => cellRows(image, positivity)), cellColumns(positivity));
}

/** The case in one row: its images and cells, the expected real cells and their 95%
 *  interval over all its cells, and, with positivity, the positive cells and percent
 *  (`rowOf(image, positivity)` gives an image's row: countRow, or a cache of it). */
export function caseSummary(images, positivity, rowOf = countRow) {
  const cells = images.flatMap((image) => image.cells);
  const summary = { images: images.length, count: cells.length };
  if (cells.every((cell) => cell.confidence !== null && cell.confidence !== undefined)) {
    const spread = images.length ? images[0].countSpread : 0; // one model's
    const { expected, low, high } = countInterval(cells.map((cell) => cell.confidence), spread);
    Object.assign(summary, { expected, count_low: low, count_high: high });
  }
  if (positivity && positivity.on) {
    summary.positive = images.reduce((total, image) => total + (rowOf(image, positivity).positive || 0), 0);
    summary.positive_percent = cells.length ? pyRound((100 * summary.positive) / cells.length, 2) : 0;
  }
  return summary;
}
