// A doctor's corrections of one image's cells, by click: remove a cell found wrongly, add a
// nucleus the model missed (grown from the clicked point on the network's output, or a
// small round cell where the output shows nothing), undo. Each changes the labels and the
// cell table by exactly one cell; cells stay numbered 1..N. No DOM: the page and Node run it.
//
// An "image" here is what the page holds for one image: { rows, columns, labels
// (Int32Array), probability (Float32Array, each pixel's cell probability at the image's
// size), rgba, cells (measureCells rows, cell i + 1 at index i), scale, corrections }.

import { measureCells } from "./cells.js";

/** Cell area (pixels, at the network's scale) assumed when the model does not say. */
const DEFAULT_CELL_AREA = 300;

/** The cell under pixel (row, column): its label, 0 for none. */
export function cellAt(image, row, column) {
  if (row < 0 || column < 0 || row >= image.rows || column >= image.columns) return 0;
  return image.labels[row * image.columns + column];
}

/** The radius of a typical cell of this image, in its pixels. */
function cellRadius(image, settings) {
  const area = (settings && settings.cell_area) || DEFAULT_CELL_AREA;
  return Math.sqrt(area / Math.PI) / (image.scale || 1);
}

/** The free pixels (no cell's) within `radius` of (row, column). */
function disc(image, row, column, radius) {
  const pixels = [];
  const reach = Math.ceil(radius);
  for (let r = Math.max(0, row - reach); r <= Math.min(image.rows - 1, row + reach); r++) {
    for (let c = Math.max(0, column - reach); c <= Math.min(image.columns - 1, column + reach); c++) {
      if ((r - row) ** 2 + (c - column) ** 2 <= radius * radius && !image.labels[r * image.columns + c]) {
        pixels.push(r * image.columns + c);
      }
    }
  }
  return pixels;
}

/** The free pixels 4-connected to (row, column) where the cell probability exceeds
 *  `threshold`, at most `reach` from it: the nucleus the network saw there. */
function grown(image, row, column, threshold, reach) {
  const { columns, labels, probability } = image;
  const start = row * columns + column;
  if (!probability || !(probability[start] > threshold)) return [];
  const seen = new Set([start]);
  const pixels = [start];
  for (let head = 0; head < pixels.length; head++) {
    const index = pixels[head];
    const r = Math.floor(index / columns);
    const c = index - r * columns;
    for (const [dr, dc] of [[-1, 0], [1, 0], [0, -1], [0, 1]]) {
      const nr = r + dr;
      const nc = c + dc;
      if (nr < 0 || nc < 0 || nr >= image.rows || nc >= columns) continue;
      const next = nr * columns + nc;
      if (seen.has(next) || labels[next] || !(probability[next] > threshold)) continue;
      if ((nr - row) ** 2 + (nc - column) ** 2 > reach * reach) continue;
      seen.add(next);
      pixels.push(next);
    }
  }
  return pixels;
}

/** The measurements of the cell made of `pixels`, numbered `id`, measured on its box. */
function measured(image, pixels, id) {
  const { columns, rgba } = image;
  let top = Infinity;
  let left = Infinity;
  let bottom = -1;
  let right = -1;
  for (const index of pixels) {
    const r = Math.floor(index / columns);
    const c = index - r * columns;
    top = Math.min(top, r);
    bottom = Math.max(bottom, r);
    left = Math.min(left, c);
    right = Math.max(right, c);
  }
  const height = bottom - top + 1;
  const width = right - left + 1;
  const labels = new Int32Array(height * width);
  const box = new Uint8ClampedArray(height * width * 4);
  for (let r = 0; r < height; r++) {
    const from = ((top + r) * columns + left) * 4;
    box.set(rgba.subarray(from, from + width * 4), r * width * 4);
  }
  for (const index of pixels) {
    const r = Math.floor(index / columns) - top;
    labels[r * width + (index % columns) - left] = 1;
  }
  const [cell] = measureCells(labels, box, height, width, [1]);
  return { ...cell, id, centroid_row: cell.centroid_row + top, centroid_column: cell.centroid_column + left };
}

/** Remove the cell under (row, column): the cells after it move down one. The correction
 *  (kept in image.corrections), or null where there is no cell. */
export function removeCell(image, row, column) {
  const id = cellAt(image, row, column);
  if (!id) return null;
  const { labels } = image;
  const pixels = [];
  for (let index = 0; index < labels.length; index++) {
    const label = labels[index];
    if (label === id) {
      pixels.push(index);
      labels[index] = 0;
    } else if (label > id) {
      labels[index] = label - 1;
    }
  }
  const [cell] = image.cells.splice(id - 1, 1);
  for (let index = id - 1; index < image.cells.length; index++) image.cells[index] = { ...image.cells[index], id: index + 1 };
  const correction = { action: "remove", row, column, id, pixels: Int32Array.from(pixels), cell };
  image.corrections.push(correction);
  return correction;
}

/**
 * Add a cell at (row, column), where none is: the free pixels around it where the network's
 * cell probability exceeds min(foreground threshold, 0.5), within twice a typical cell's
 * radius; or, where it saw too little, a small round cell (0.6 of that radius). The
 * user's cell is sure: confidence 1. The correction, or null where a cell already is.
 */
export function addCell(image, row, column, settings) {
  if (row < 0 || column < 0 || row >= image.rows || column >= image.columns) return null;
  if (cellAt(image, row, column)) return null;
  const radius = cellRadius(image, settings);
  const foreground = settings && settings.postprocessing ? settings.postprocessing.foreground : 0.5;
  const small = 0.6 * radius;
  let pixels = grown(image, row, column, Math.min(foreground, 0.5), 2 * radius);
  const isGrown = pixels.length >= (Math.PI * small * small) / 2;
  if (!isGrown) pixels = disc(image, row, column, Math.max(small, 1.5));
  const id = image.cells.length + 1;
  for (const index of pixels) image.labels[index] = id;
  const cell = { ...measured(image, pixels, id), confidence: 1 };
  image.cells.push(cell);
  const correction = { action: "add", row, column, id, pixels: Int32Array.from(pixels), cell, grown: isGrown };
  image.corrections.push(correction);
  return correction;
}

/** A click at (row, column): on a cell removes it, elsewhere adds one. */
export function correctAt(image, row, column, settings) {
  return cellAt(image, row, column) ? removeCell(image, row, column) : addCell(image, row, column, settings);
}

/** Undo the last correction: the labels and cells as they were before it. */
export function undo(image) {
  const correction = image.corrections.pop();
  if (!correction) return null;
  const { labels } = image;
  const { id, pixels, cell } = correction;
  if (correction.action === "add") {
    for (const index of pixels) labels[index] = 0;
    image.cells.pop();
  } else {
    for (let index = 0; index < labels.length; index++) if (labels[index] >= id) labels[index] += 1;
    for (const index of pixels) labels[index] = id;
    image.cells.splice(id - 1, 0, cell);
    for (let index = id; index < image.cells.length; index++) image.cells[index] = { ...image.cells[index], id: index + 1 };
  }
  return correction;
}

/** The corrections of an image as a list to file: what was done where, and to which cell. */
export function correctionLog(image) {
  return image.corrections.map(({ action, row, column, cell, grown: isGrown }) => ({
    action,
    row,
    column,
    area: cell.area,
    ...(action === "add" ? { grown: isGrown } : {}),
  }));
}
