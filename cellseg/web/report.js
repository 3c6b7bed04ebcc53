// The printable case report: one document per case, printed to paper or PDF by the
// browser (its print style sheet shows this section alone): the settings the case was
// counted with, its table, and a thumbnail of every image with its cells' outlines.

import { outlineOverlay } from "./drawing.js";
import { rowTexts, summaryTexts } from "./table.js";

const THUMBNAIL = 360; // pixels on the thumbnail's longer side

/** A canvas with `image` and its outlines, its longer side THUMBNAIL pixels. */
function thumbnail(image, style) {
  const factor = Math.min(1, THUMBNAIL / Math.max(image.rows, image.columns));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(image.columns * factor));
  canvas.height = Math.max(1, Math.round(image.rows * factor));
  const width = Math.max(style.width, Math.ceil(1.5 / factor)); // still visible when shrunk
  const overlay = outlineOverlay(image.labels, image.rows, image.columns, { ...style, width });
  const context = canvas.getContext("2d");
  for (const layer of [image.rgba, overlay]) {
    const full = document.createElement("canvas");
    full.width = image.columns;
    full.height = image.rows;
    full.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(layer), image.columns, image.rows), 0, 0);
    context.drawImage(full, 0, 0, canvas.width, canvas.height);
  }
  return canvas;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/**
 * Fill `section` with the report of the finished `images`. `settings`: the lines of the
 * settings list ([term, value] pairs); `style(image)`: how its outlines are drawn.
 */
export function buildReport(section, { images, positivity, settings, style }) {
  const done = images.filter((image) => image.state === "done");
  section.replaceChildren();
  section.append(element("h1", "Cell count: case report"));
  const list = element("dl");
  for (const [term, value] of settings) list.append(element("dt", term), element("dd", value));
  section.append(list);
  const table = element("table");
  const head = table.createTHead().insertRow();
  const columns = ["Image", "Cells", "Nuclei (95%)", ...(positivity.on ? ["Positive", "Positive %"] : []), "Scale", "Corrections"];
  for (const column of columns) head.append(element("th", column));
  const keep = (texts) => texts.filter((_, index) => index !== 1 && (positivity.on || (index !== 4 && index !== 5)));
  const body = table.createTBody();
  for (const image of done) {
    const row = body.insertRow();
    for (const text of keep(rowTexts(image, positivity))) row.append(element("td", text));
  }
  const foot = table.createTFoot().insertRow();
  for (const text of keep(summaryTexts(images, positivity))) foot.append(element("td", text));
  section.append(table);
  const thumbnails = element("div", undefined, "thumbnails");
  for (const image of done) {
    const figure = element("figure");
    figure.append(thumbnail(image, style(image)), element("figcaption", `${image.name}: ${image.cells.length} cells`));
    thumbnails.append(figure);
  }
  section.append(thumbnails);
}
