// Cells drawn: the red outline layer users annotate in (as
// cellseg.postprocessing.drawing.outline_layer, which cellseg train reads back), and the
// outlines the page shows over the image, in a colour and width of the user's choice, or
// positive and negative cells in QuPath's two colours. No DOM: the page and Node run it.

import { innerBoundaries } from "./cells.js";
import { NEGATIVE_COLOUR, OUTLINE_RED, POSITIVE_COLOUR } from "./constants.js";

/** RGBA (rows x columns x 4): transparent, with each cell's one-pixel inner outline opaque
 *  red, the annotation layer of outline_layer. */
export function outlineLayer(labels, rows, columns) {
  const edge = innerBoundaries(labels, rows, columns);
  const layer = new Uint8ClampedArray(rows * columns * 4);
  for (let index = 0; index < edge.length; index++) {
    if (!edge[index]) continue;
    layer[index * 4] = OUTLINE_RED[0];
    layer[index * 4 + 1] = OUTLINE_RED[1];
    layer[index * 4 + 2] = OUTLINE_RED[2];
    layer[index * 4 + 3] = 255;
  }
  return layer;
}

/** "#rrggbb" as [r, g, b]. */
export function colourOf(hex) {
  const value = Number.parseInt(String(hex).replace("#", ""), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/**
 * RGBA of the outlines to draw over the image: each cell's inner outline grown `width`
 * pixels inward (never out of the cells, as draw_outlines), in `colour`, or, with `marks`
 * (positive or not, per cell 1..N), in the positive and negative colours.
 */
export function outlineOverlay(labels, rows, columns, { width = 2, colour = OUTLINE_RED, marks = null } = {}) {
  const edge = innerBoundaries(labels, rows, columns);
  let drawn = edge;
  if (width > 1) { // cell pixels nearer than `width` to an edge pixel, as draw_outlines
    drawn = new Uint8Array(edge.length);
    const reach = width - 1;
    for (let index = 0; index < edge.length; index++) {
      if (!edge[index]) continue;
      const row = Math.floor(index / columns);
      const column = index - row * columns;
      for (let r = Math.max(0, row - reach); r <= Math.min(rows - 1, row + reach); r++) {
        for (let c = Math.max(0, column - reach); c <= Math.min(columns - 1, column + reach); c++) {
          const at = r * columns + c;
          if (labels[at] && (r - row) ** 2 + (c - column) ** 2 < width * width) drawn[at] = 1;
        }
      }
    }
  }
  const overlay = new Uint8ClampedArray(rows * columns * 4);
  for (let index = 0; index < drawn.length; index++) {
    if (!drawn[index]) continue;
    const paint = marks ? (marks[labels[index] - 1] ? POSITIVE_COLOUR : NEGATIVE_COLOUR) : colour;
    overlay[index * 4] = paint[0];
    overlay[index * 4 + 1] = paint[1];
    overlay[index * 4 + 2] = paint[2];
    overlay[index * 4 + 3] = 255;
  }
  return overlay;
}
