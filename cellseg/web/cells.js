// Network outputs to cells, and per-cell measurements: the browser's twin of
// cellseg.postprocessing.instances.cells_from_output and .measurements.measure_cells.
//
// It follows the Python step by step (4-connected labelling in raster order, marker-controlled
// watershed flooding by priority then first-come, orphans, small cells dropped) so that the
// page counts what `cellseg predict` counts. No DOM: the Web Worker and Node (tests) run it.

import { CELL_DECIMALS, HED_FROM_RGB } from "./constants.js";
import { pyRound } from "./numbers.js";
import { gaussianFilter } from "./smoothing.js";

const FOUR = [[-1, 0], [1, 0], [0, -1], [0, 1]];

/** Labels of the 4-connected pieces of `mask` (Uint8Array), numbered in raster order. */
export function labelPieces(mask, rows, columns) {
  const labels = new Int32Array(rows * columns);
  const queue = new Int32Array(rows * columns);
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    count += 1;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    labels[start] = count;
    while (head < tail) {
      const index = queue[head++];
      const column = index % columns;
      // Up, down, left, right: the order of the neighbours does not change the pieces.
      if (index >= columns && mask[index - columns] && !labels[index - columns]) {
        labels[index - columns] = count;
        queue[tail++] = index - columns;
      }
      if (index + columns < mask.length && mask[index + columns] && !labels[index + columns]) {
        labels[index + columns] = count;
        queue[tail++] = index + columns;
      }
      if (column > 0 && mask[index - 1] && !labels[index - 1]) {
        labels[index - 1] = count;
        queue[tail++] = index - 1;
      }
      if (column + 1 < columns && mask[index + 1] && !labels[index + 1]) {
        labels[index + 1] = count;
        queue[tail++] = index + 1;
      }
    }
  }
  return { labels, count };
}

/** A binary min-heap of (value, age, index) in typed arrays, ties broken by age: first in,
 *  first out. Room for `capacity` entries: each pixel enters it at most once. */
class Heap {
  constructor(capacity) {
    this.values = new Float64Array(capacity);
    this.ages = new Float64Array(capacity);
    this.indices = new Int32Array(capacity);
    this.size = 0;
  }
  push(value, age, index) {
    const { values, ages, indices } = this;
    let hole = this.size++;
    while (hole > 0) { // move the parents down until the new entry's place is found
      const parent = (hole - 1) >> 1;
      if (values[parent] < value || (values[parent] === value && ages[parent] < age)) break;
      values[hole] = values[parent];
      ages[hole] = ages[parent];
      indices[hole] = indices[parent];
      hole = parent;
    }
    values[hole] = value;
    ages[hole] = age;
    indices[hole] = index;
  }
  pop() {
    const { values, ages, indices } = this;
    const top = indices[0];
    const size = --this.size;
    const value = values[size]; // the last entry, sifted down from the top
    const age = ages[size];
    const index = indices[size];
    let hole = 0;
    for (;;) {
      let child = 2 * hole + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size && (values[right] < values[child] || (values[right] === values[child] && ages[right] < ages[child]))) child = right;
      if (value < values[child] || (value === values[child] && age < ages[child])) break;
      values[hole] = values[child];
      ages[hole] = ages[child];
      indices[hole] = indices[child];
      hole = child;
    }
    values[hole] = value;
    ages[hole] = age;
    indices[hole] = index;
    return top;
  }
}

/**
 * Marker-controlled watershed of `elevation` (Float32Array), as scikit-image's: markers
 * flood their 4-neighbours inside `mask`, lowest elevation first, equal ones in order.
 */
export function watershed(elevation, markers, mask, rows, columns) {
  const labels = Int32Array.from(markers);
  const heap = new Heap(labels.length);
  let age = 0;
  for (let index = 0; index < labels.length; index++) {
    if (labels[index]) heap.push(elevation[index], age++, index);
  }
  const flood = (next, label) => {
    if (mask[next] && !labels[next]) {
      labels[next] = label;
      heap.push(elevation[next], age++, next);
    }
  };
  while (heap.size) {
    const index = heap.pop();
    const label = labels[index];
    const column = index % columns;
    // Up, down, left, right: skimage's order of the neighbours (its offsets, raveled).
    if (index >= columns) flood(index - columns, label);
    if (index + columns < labels.length) flood(index + columns, label);
    if (column > 0) flood(index - 1, label);
    if (column + 1 < columns) flood(index + 1, label);
  }
  return labels;
}

/**
 * Gaussian smoothing of each channel as scipy.ndimage.gaussian_filter(output, (s, s, 0)):
 * kernel radius int(4 s + 0.5), weights normalised, reflected edges, rows then columns.
 */
export function gaussianSmooth(output, rows, columns, channels, sigma) {
  return gaussianFilter(output, rows, columns, channels, sigma, sigma, "reflect", Float32Array);
}


/** Where a hover output's centre offsets fall steeply, 0..1, in float32 as
 *  cellseg.postprocessing.instances.offset_edges: the edges between touching cells. */
export function offsetEdges(output, rows, columns, channels) {
  const edges = new Float32Array(rows * columns);
  const mark = (first, second, channel) => {
    const fall = Math.fround(Math.fround(output[first * channels + channel] -
      output[second * channels + channel]) / 2);
    if (fall > edges[first]) edges[first] = fall;
    if (fall > edges[second]) edges[second] = fall;
  };
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const index = row * columns + column;
      if (column + 1 < columns) mark(index, index + 1, 3);
      if (row + 1 < rows) mark(index, index + columns, 4);
    }
  }
  for (let index = 0; index < edges.length; index++) edges[index] = Math.min(edges[index], 1);
  return edges;
}

/** Cells from a network output: Float32Array (rows x columns x channels, channels last). */
export function cellsFromOutput(output, rows, columns, channels, target, thresholds) {
  const pixels = rows * columns;
  let edges = null;
  if (target === "hover") { // from the offsets as they are: smoothing would soften the jumps
    edges = offsetEdges(output, rows, columns, channels);
  }
  const classes = target === "3class" || target === "hover";
  if (classes) { // interior and boundary: the background's channel is not needed
    const kept = new Float32Array(pixels * 2);
    for (let index = 0; index < pixels; index++) {
      kept[index * 2] = output[index * channels + 1];
      kept[index * 2 + 1] = output[index * channels + 2];
    }
    output = kept;
    channels = 2;
  }
  if (thresholds.smoothing > 0) { // each channel apart, so smoothing two is smoothing those
    output = gaussianSmooth(output, rows, columns, channels, thresholds.smoothing);
  }
  const foreground = new Float32Array(pixels);
  const core = new Float32Array(pixels);
  for (let index = 0; index < pixels; index++) {
    if (classes) {
      foreground[index] = output[index * 2] + output[index * 2 + 1];
      core[index] = edges ? Math.fround(output[index * 2] * Math.fround(1 - edges[index])) : output[index * 2];
    } else {
      foreground[index] = core[index] = output[index * channels];
    }
  }
  const mask = new Uint8Array(pixels);
  for (let index = 0; index < pixels; index++) mask[index] = foreground[index] > thresholds.foreground;
  let labels;
  if (target === "mask") {
    labels = labelPieces(mask, rows, columns).labels;
  } else {
    const seeds = new Uint8Array(pixels);
    for (let index = 0; index < pixels; index++) seeds[index] = mask[index] && core[index] > thresholds.seed;
    const markers = labelPieces(seeds, rows, columns);
    const elevation = core.map((value) => -value);
    labels = markers.count ? watershed(elevation, markers.labels, mask, rows, columns) : markers.labels;
    // Foreground that no core reached (a faint cell) becomes a cell of its own.
    const unreached = new Uint8Array(pixels);
    for (let index = 0; index < pixels; index++) unreached[index] = mask[index] && !labels[index];
    const orphans = labelPieces(unreached, rows, columns);
    for (let index = 0; index < pixels; index++) {
      if (orphans.labels[index]) labels[index] = orphans.labels[index] + markers.count;
    }
  }
  return dropSmall(labels, Math.max(thresholds.min_area, 1));
}

/** Remove labels under `minArea` pixels and number the rest 1..N in label order. */
export function dropSmall(labels, minArea) {
  let largest = 0;
  for (const label of labels) if (label > largest) largest = label;
  const areas = new Int32Array(largest + 1);
  for (const label of labels) areas[label] += 1;
  const lookup = new Int32Array(largest + 1);
  let next = 0;
  for (let label = 1; label <= largest; label++) if (areas[label] >= minArea) lookup[label] = ++next;
  return labels.map((label) => lookup[label]);
}

/** Whether each pixel is a cell's inner boundary (a 4-neighbour outside the cell). */
export function innerBoundaries(labels, rows, columns) {
  const edge = new Uint8Array(rows * columns);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const index = row * columns + column;
      const label = labels[index];
      if (!label) continue;
      for (const [dr, dc] of FOUR) {
        const r = row + dr;
        const c = column + dc;
        if (r < 0 || r >= rows || c < 0 || c >= columns) continue;
        if (labels[r * columns + c] !== label) {
          edge[index] = 1;
          break;
        }
      }
    }
  }
  return edge;
}

// Densities in log10 units, with scikit-image's hed_from_rgb (HED_FROM_RGB).
const DARKEST = 1 / 255;

/** Mean haematoxylin and DAB optical density of RGBA pixels (Uint8ClampedArray). */
function stainDensities(rgba, index) {
  const od = [0, 1, 2].map((channel) => -Math.log10(Math.max(rgba[index * 4 + channel] / 255, DARKEST)));
  const stain = (column) => Math.max(0, od[0] * HED_FROM_RGB[0][column] + od[1] * HED_FROM_RGB[1][column] + od[2] * HED_FROM_RGB[2][column]);
  return [stain(0), stain(2)];
}

// scikit-image's perimeter weights (4-connected border, diagonal steps weighted).
const PERIMETER_WEIGHTS = new Float64Array(50);
for (const code of [5, 7, 15, 17, 25, 27]) PERIMETER_WEIGHTS[code] = 1;
for (const code of [21, 33]) PERIMETER_WEIGHTS[code] = Math.SQRT2;
for (const code of [13, 23]) PERIMETER_WEIGHTS[code] = (1 + Math.SQRT2) / 2;

function perimeter(mask, rows, columns) {
  const inside = (r, c) => r >= 0 && r < rows && c >= 0 && c < columns && mask[r * columns + c];
  const border = new Uint8Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      if (inside(r, c) && !(inside(r - 1, c) && inside(r + 1, c) && inside(r, c - 1) && inside(r, c + 1))) {
        border[r * columns + c] = 1;
      }
    }
  }
  const at = (r, c) => (r >= 0 && r < rows && c >= 0 && c < columns ? border[r * columns + c] : 0);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const code = at(r, c) +
        2 * (at(r - 1, c) + at(r + 1, c) + at(r, c - 1) + at(r, c + 1)) +
        10 * (at(r - 1, c - 1) + at(r - 1, c + 1) + at(r + 1, c - 1) + at(r + 1, c + 1));
      if (code < 50) total += PERIMETER_WEIGHTS[code];
    }
  }
  return total;
}

/** One row per cell, the columns of cellseg's cells.csv (CELL_COLUMNS): cell `id` has the
 *  confidence `confidence[id - 1]` (null without `confidence`), it and the DAB density
 *  rounded to their CELL_DECIMALS as measure_cells rounds them. */
export function measureCells(labels, rgba, rows, columns, confidence = null) {
  let count = 0;
  for (const label of labels) if (label > count) count = label;
  const sums = Array.from({ length: count + 1 }, () => ({
    area: 0, row: 0, column: 0, rowRow: 0, columnColumn: 0, rowColumn: 0,
    haematoxylin: 0, dab: 0, top: Infinity, left: Infinity, bottom: -1, right: -1,
  }));
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const index = row * columns + column;
      const label = labels[index];
      if (!label) continue;
      const cell = sums[label];
      const [haematoxylin, dab] = stainDensities(rgba, index);
      cell.area += 1;
      cell.row += row;
      cell.column += column;
      cell.rowRow += row * row;
      cell.columnColumn += column * column;
      cell.rowColumn += row * column;
      cell.haematoxylin += haematoxylin;
      cell.dab += dab;
      cell.top = Math.min(cell.top, row);
      cell.bottom = Math.max(cell.bottom, row);
      cell.left = Math.min(cell.left, column);
      cell.right = Math.max(cell.right, column);
    }
  }
  const cells = [];
  for (let label = 1; label <= count; label++) {
    const cell = sums[label];
    if (!cell.area) continue;
    const n = cell.area;
    const meanRow = cell.row / n;
    const meanColumn = cell.column / n;
    const varianceRow = cell.rowRow / n - meanRow * meanRow;
    const varianceColumn = cell.columnColumn / n - meanColumn * meanColumn;
    const covariance = cell.rowColumn / n - meanRow * meanColumn;
    const half = Math.sqrt(((varianceRow - varianceColumn) / 2) ** 2 + covariance ** 2);
    const major = (varianceRow + varianceColumn) / 2 + half;
    const minor = (varianceRow + varianceColumn) / 2 - half;
    const height = cell.bottom - cell.top + 1;
    const width = cell.right - cell.left + 1;
    const mask = new Uint8Array(height * width);
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        mask[r * width + c] = labels[(cell.top + r) * columns + cell.left + c] === label ? 1 : 0;
      }
    }
    cells.push({
      id: label,
      centroid_row: meanRow,
      centroid_column: meanColumn,
      area: n,
      perimeter: perimeter(mask, height, width),
      eccentricity: major > 0 ? Math.sqrt(Math.max(0, 1 - minor / major)) : 0,
      haematoxylin: cell.haematoxylin / n,
      dab: pyRound(cell.dab / n, CELL_DECIMALS.dab),
      confidence: confidence ? pyRound(confidence[label - 1], CELL_DECIMALS.confidence) : null,
    });
  }
  return cells;
}
