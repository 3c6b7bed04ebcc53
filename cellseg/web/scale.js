// Image scale for the page: how much to enlarge an image before the network, and the
// resizing there and back, as cellseg.neural_network.prediction's auto_scale and
// skimage.transform.resize. No DOM: the Web Worker and Node (tests) run it.

import { dropSmall } from "./cells.js";

// As cellseg.neural_network.prediction.auto_scale.
const MAX_AUTO_SCALE = 2.0;
const AUTO_SCALE_FROM = 1.15;
const AUTO_SCALE_MIN_CELLS = 10;

/** The enlargement that brings the median cell area of `labels` to `cellArea`, or 1. */
export function autoScale(labels, cellArea) {
  let largest = 0;
  for (const label of labels) if (label > largest) largest = label;
  const areas = new Int32Array(largest + 1);
  for (const label of labels) areas[label] += 1;
  const found = Array.from(areas.subarray(1)).filter((area) => area > 0).sort((a, b) => a - b);
  if (!cellArea || found.length < AUTO_SCALE_MIN_CELLS) return 1;
  const middle = found.length >> 1;
  const median = found.length % 2 ? found[middle] : (found[middle - 1] + found[middle]) / 2;
  const factor = Math.sqrt(cellArea / median);
  return factor >= AUTO_SCALE_FROM ? Math.round(Math.min(factor, MAX_AUTO_SCALE) * 100) / 100 : 1;
}

/**
 * RGBA resized to newRows x newColumns by bilinear interpolation, as
 * skimage.transform.resize(order=1) without anti-aliasing: pixel centres map to pixel
 * centres, and samples beyond the edge are mirrored about the edge pixel (its "reflect").
 */
export function resizeBilinear(rgba, rows, columns, newRows, newColumns) {
  const out = new Uint8ClampedArray(newRows * newColumns * 4);
  const axis = (length, newLength) => Array.from({ length: newLength }, (_, index) => {
    let at = Math.abs((index + 0.5) * length / newLength - 0.5);
    if (at > length - 1) at = Math.max(2 * (length - 1) - at, 0);
    const low = Math.min(Math.floor(at), length - 2 < 0 ? 0 : length - 2);
    return [low, Math.min(low + 1, length - 1), at - low];
  });
  const down = axis(rows, newRows);
  const across = axis(columns, newColumns);
  for (let r = 0; r < newRows; r++) {
    const [top, bottom, v] = down[r];
    for (let c = 0; c < newColumns; c++) {
      const [left, right, u] = across[c];
      const to = (r * newColumns + c) * 4;
      for (let k = 0; k < 4; k++) {
        const upper = rgba[(top * columns + left) * 4 + k] * (1 - u) + rgba[(top * columns + right) * 4 + k] * u;
        const lower = rgba[(bottom * columns + left) * 4 + k] * (1 - u) + rgba[(bottom * columns + right) * 4 + k] * u;
        out[to + k] = Math.round(upper * (1 - v) + lower * v);
      }
    }
  }
  return out;
}

/**
 * Labels resized to newRows x newColumns by nearest neighbour (as resize(order=0)), then
 * numbered 1..N again: a cell too small to keep a pixel disappears.
 */
export function resizeLabels(labels, rows, columns, newRows, newColumns) {
  const out = new Int32Array(newRows * newColumns);
  const nearest = (index, length, newLength) =>
    Math.min(Math.max(Math.round((index + 0.5) * length / newLength - 0.5), 0), length - 1);
  for (let r = 0; r < newRows; r++) {
    const row = nearest(r, rows, newRows);
    for (let c = 0; c < newColumns; c++) out[r * newColumns + c] = labels[row * columns + nearest(c, columns, newColumns)];
  }
  return dropSmall(out, 1);
}
