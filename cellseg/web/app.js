// The page: hand the chosen image to the worker, show its cells, offer the results.
// DOM contract (kept stable for tests and for labs who script the page):
//   #image-input       the file input
//   #scale             enlargement before the network: auto, or 1 to 4 (2 for 20x images)
//   #cell-count        its text starts with the number of cells found
//   body[data-state]   idle, running, done or error (the message is in #status)
//   body[data-model]   "ready" once the model is loaded (an image chosen earlier waits for it)

import { innerBoundaries } from "./cells.js";
import { encodeGray16 } from "./png.js";

const $ = (selector) => document.querySelector(selector);
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
let result = null;
let urls = [];
let chosen = null;

fetch("model.json").then((response) => response.json()).then((settings) => {
  $("#model-name").textContent = `Model: ${settings.name} (${settings.target})`;
  if (settings.positive_threshold !== undefined) $("#positive-threshold").value = settings.positive_threshold;
}).catch(() => {});

function setState(state, message) {
  document.body.dataset.state = state;
  if (message !== undefined) $("#status").textContent = message;
}

function start(file) {
  if (!file) return;
  chosen = file;
  result = null;
  $("#progress").value = 0;
  setState("running", `Working on ${file.name}...`);
  const scale = $("#scale").value;
  worker.postMessage({ file, scale: scale === "auto" ? scale : Number(scale) });
}

worker.onmessage = async ({ data }) => {
  if (data.type === "ready") {
    document.body.dataset.model = "ready";
  } else if (data.type === "progress") {
    $("#progress").value = data.fraction;
    $("#status").textContent = `${data.stage}...`;
  } else if (data.type === "error") {
    setState("error", `Error: ${data.message}`);
  } else if (data.type === "done") {
    result = data;
    await show();
    $("#progress").value = 1;
    const enlarged = data.scale !== 1 ? `, enlarged ${data.scale}x to find the cells` : "";
    setState("done", `Done: ${data.columns} x ${data.rows} pixels${enlarged}.`);
  }
};
worker.onerror = (event) => setState("error", `Error: ${event.message || "the worker failed to start"}`);

$("#image-input").addEventListener("change", (event) => start(event.target.files[0]));
const zone = $("#drop-zone");
zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("over");
  start(event.dataTransfer.files[0]);
});
$("#positive-threshold").addEventListener("input", () => result && showCounts());
$("#scale").addEventListener("change", () => document.body.dataset.state !== "running" && start(chosen));

function showCounts() {
  const threshold = Number($("#positive-threshold").value);
  const count = result.cells.length;
  const positive = result.cells.filter((cell) => cell.dab >= threshold).length;
  const percent = count ? (100 * positive / count).toFixed(1) : "0.0";
  $("#cell-count").textContent = `${count} cell${count === 1 ? "" : "s"}`;
  $("#positive-count").textContent = `${positive} DAB-positive (${percent}%)`;
  const columns = ["id", "centroid_row", "centroid_column", "area", "perimeter", "eccentricity", "haematoxylin", "dab", "positive"];
  const lines = [columns.join(",")].concat(result.cells.map((cell) =>
    columns.map((column) => (column === "positive" ? Number(cell.dab >= threshold) : cell[column])).join(",")));
  link("#download-cells", new Blob([lines.join("\n") + "\n"], { type: "text/csv" }), "cells.csv");
}

function link(selector, blob, name) {
  const url = URL.createObjectURL(blob);
  urls.push(url);
  $(selector).href = url;
  $(selector).download = name;
}

async function show() {
  for (const url of urls) URL.revokeObjectURL(url);
  urls = [];
  const { rgba, labels, rows, columns } = result;
  const edge = innerBoundaries(labels, rows, columns);
  const overlay = new ImageData(new Uint8ClampedArray(rgba), columns, rows);
  const outlines = new ImageData(columns, rows);
  for (let index = 0; index < edge.length; index++) {
    if (!edge[index]) continue;
    overlay.data.set([255, 0, 0, 255], index * 4);
    outlines.data.set([255, 0, 0, 255], index * 4);
  }
  const view = $("#view");
  view.width = columns;
  view.height = rows;
  view.getContext("2d").putImageData(overlay, 0, 0);
  const canvas = new OffscreenCanvas(columns, rows);
  canvas.getContext("2d").putImageData(outlines, 0, 0);
  link("#download-outlines", await canvas.convertToBlob({ type: "image/png" }), "outlines.png");
  link("#download-labels", await encodeGray16(labels, rows, columns), "labels.png");
  showCounts();
}
