// The page: a case of images counted in Web Workers, a table of their counts, one image
// shown to look at closely and correct by click, the files to download and a report to
// print. DOM contract (kept stable for tests and for labs who script the page):
//   #image-input        the file input (several files); #folder-input, a folder
//   #scale              enlargement before the network: auto, or 0.5 to 4
//   #case-table         a row per image, tr[data-image="<file name>"], its count in td.count
//   #cell-count         its text starts with the number of cells of the image shown
//   #view               the canvas of the image shown (data-zoom, data-left, data-top)
//   #download-case      the ZIP of every file of the case
//   body[data-state]    idle, running, done (the whole queue is done) or error (#status)
//   body[data-model]    "ready" once the model is loaded (images chosen earlier wait)
//   body[data-stain]    "he", or "dab" when DAB-positive cells are counted
//   tr[data-seconds]    where a finished image's time went (worker.js), for benchmarks
//   #image-error        why the image shown was not counted (its row's error)
//   ?workers=N&threads=M in the address: the Web Workers and ONNX Runtime threads each
//                       (by default two workers, the cores shared between them)

import { Case } from "./case.js";
import { correctAt, correctionLog, undo } from "./corrections.js";
import { caseZip, imageFiles, save } from "./downloads.js";
import { colourOf, outlineOverlay } from "./drawing.js";
import { FORMATS_READ, isTiffFile, tiffRefusal } from "./formats.js";
import { positives } from "./positivity.js";
import { buildReport } from "./report.js";
import { intervalText, renderTable, rowOf } from "./table.js";
import { countsCsv } from "./tables.js";
import { Viewer } from "./viewer.js";

document.body.dataset.app = "started";
const $ = (selector) => document.querySelector(selector);
const IMAGE_NAME = /\.(png|jpe?g|tiff?)$/i; // TIFFs are taken to say they cannot be read
const STYLE_KEY = "cellseg-outlines"; // the outlines' colour and width: no image data
let settings = { postprocessing: {} }; // the model's, from model.json
let selected = null; // the name of the image shown

fetch("model.json").then((response) => response.json()).then((loaded) => {
  settings = loaded;
  $("#model-name").textContent = `Model: ${loaded.name} (${loaded.target}), cellseg ${loaded.cellseg || ""}`;
  if (loaded.positive_threshold !== undefined) $("#positive-threshold").value = loaded.positive_threshold;
}).catch(() => {});
try {
  const kept = JSON.parse(localStorage.getItem(STYLE_KEY) || "{}");
  if (kept.colour) $("#outline-colour").value = kept.colour;
  if (kept.width) $("#outline-width").value = kept.width;
} catch { /* storage off: the defaults */ }

const theCase = new Case({
  onChange: (record) => update(record),
  onReady: () => {
    document.body.dataset.model = "ready";
    update(null);
  },
  onFailure: (message) => setState("error", `Cannot load the model: ${message}`),
});
const viewer = new Viewer($("#view"), { onClick: correct });

function setState(state, message) {
  document.body.dataset.state = state;
  if (message !== undefined) $("#status").textContent = message;
}

function positivity() {
  const on = document.querySelector('input[name="stain"]:checked').value === "dab";
  return { on, threshold: $("#positive-auto").checked ? "auto" : Number($("#positive-threshold").value) };
}

function options() {
  const scale = $("#scale").value;
  const pixelSize = Number($("#pixel-size").value);
  return { scale: scale === "auto" ? scale : Number(scale), pixelSize: pixelSize > 0 ? pixelSize : null };
}

function addFiles(files) {
  const images = [...files].filter((file) => IMAGE_NAME.test(file.name) || file.type.startsWith("image/"));
  if (!images.length) return setState(document.body.dataset.state, `No image among the files chosen (${FORMATS_READ}).`);
  const readable = images.filter((file) => !isTiffFile(file));
  selected = (readable[0] || images[0]).name;
  for (const file of images) if (isTiffFile(file)) theCase.refuse(file, tiffRefusal(file.name));
  if (readable.length) theCase.add(readable, options());
}

/** Bring the page up to date after a change to `record` (null: to the case as a whole). */
function update(record) {
  refresh();
  if (!record) showSelected(false);
  else if (record.name === selected) showSelected(true);
}

/** The table, the progress and the state, from the case. */
function refresh() {
  const images = theCase.list;
  $("#case-section").hidden = images.length === 0;
  renderTable($("#case-table"), images, positivity(), selected);
  const finished = images.filter((image) => image.state === "done" || image.state === "error");
  const working = images.filter((image) => image.state === "running");
  $("#progress").value = images.length ? images.reduce((sum, image) =>
    sum + (image.state === "done" || image.state === "error" ? 1 : image.fraction || 0), 0) / images.length : 0;
  if (theCase.failure) {
    setState("error", `Cannot load the model: ${theCase.failure}`);
  } else if (!images.length) {
    setState("idle", document.body.dataset.model === "ready" ? "Choose or drop images to count their cells." : "Loading the model…");
  } else if (theCase.busy) {
    const now = working.map((image) => `${image.name}: ${image.stage}`).join("; ");
    setState("running", `Counting ${images.length} image${images.length === 1 ? "" : "s"}, ${finished.length} done${now ? `. ${now}…` : "."}`);
  } else {
    const failed = images.filter((image) => image.state === "error");
    const cells = images.reduce((sum, image) => sum + (image.cells ? image.cells.length : 0), 0);
    const summary = `Done: ${images.length - failed.length} image${images.length - failed.length === 1 ? "" : "s"}, ${cells} cells.`;
    if (failed.length) setState("error", `${summary} Not counted: ${failed.map((image) => image.message).join("; ")}`);
    else setState("done", summary);
  }
}

/** Show the selected image: its view (redrawn when `redraw`), counts and corrections; or
 *  why it was not counted. */
function showSelected(redraw = true) {
  const image = theCase.images.get(selected);
  const state = image ? image.state : null;
  $("#results").hidden = state !== "done" && state !== "error";
  $("#results").classList.toggle("failed", state === "error");
  $("#image-error").textContent = state === "error" ? `Not counted: ${image.message}` : "";
  if (state !== "done") { // no other image's count or files left on show
    $("#image-name").textContent = image ? image.name : "";
    $("#cell-count").textContent = "";
    $("#positive-count").textContent = "";
    return;
  }
  const marks = markings(image);
  if (redraw) viewer.show(image.rgba, image.rows, image.columns, overlay(image, marks));
  const row = rowOf(image, positivity());
  const count = image.cells.length;
  $("#image-name").textContent = image.name;
  $("#cell-count").textContent = `${count} cell${count === 1 ? "" : "s"}` +
    (row.expected === undefined ? "" :
      `: ${intervalText(row)} nuclei in the image (95%); about ${Math.round(row.expected)} of the cells real nuclei`);
  $("#positive-count").textContent = row.positive === undefined ? "" :
    `${row.positive} DAB-positive (${row.positive_percent}%)` +
    (row.positive_threshold === null ? ": no positive group (auto)" : `, from mean DAB optical density ${row.positive_threshold}`);
  const log = correctionLog(image);
  $("#correction-count").textContent = log.length ? String(log.length) : "none";
  $("#corrections").replaceChildren(...log.map((entry) => {
    const item = document.createElement("li");
    item.textContent = `${entry.action === "add" ? "added" : "removed"} a cell of ${entry.area} pixels at row ${entry.row}, column ${entry.column}`;
    return item;
  }));
  $("#undo").disabled = !image.corrections.length;
}

function markings(image) {
  const threshold = rowOf(image, positivity()).positive_threshold;
  return threshold === undefined ? null : positives(image.cells, threshold);
}

function overlay(image, marks = markings(image)) {
  return outlineOverlay(image.labels, image.rows, image.columns, {
    width: Math.max(1, Number($("#outline-width").value) || 1),
    colour: colourOf($("#outline-colour").value),
    marks,
  });
}

function redrawOutlines() {
  const image = theCase.images.get(selected);
  if (image && image.state === "done") viewer.setOverlay(overlay(image));
}

function correct(row, column) {
  const image = theCase.images.get(selected);
  if (!image || image.state !== "done") return;
  if (!correctAt(image, row, column, settings)) return;
  image.version = (image.version || 0) + 1;
  redrawOutlines();
  refresh();
  showSelected(false);
}

// Choosing images: the inputs, and dropping files or folders.
for (const input of [$("#image-input"), $("#folder-input")]) {
  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = ""; // the same files may be chosen again
  });
}
const zone = $("#drop-zone");
zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", async (event) => {
  event.preventDefault();
  zone.classList.remove("over");
  addFiles(await droppedFiles(event.dataTransfer));
});

/** The files dropped, those inside dropped folders too. */
async function droppedFiles(transfer) {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return [...transfer.files];
  const files = [];
  const walk = async (entry) => {
    if (entry.isFile) files.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

// The table: a click on a row shows that image.
$("#case-table").addEventListener("click", (event) => {
  const tr = event.target.closest("tbody tr");
  if (!tr) return;
  selected = tr.dataset.image;
  refresh();
  showSelected(true);
});
$("#case-table").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches("tbody tr")) event.target.click();
});

// Settings: a new scale or pixel size finds every image's cells again.
function rerun() {
  const corrected = theCase.list.some((image) => image.corrections.length);
  if (corrected && !confirm("Find the cells again? The corrections made so far are lost.")) return false;
  theCase.rerun(options());
  return true;
}
let lastScale = $("#scale").value;
$("#scale").addEventListener("change", () => {
  if (theCase.list.length && !rerun()) $("#scale").value = lastScale;
  lastScale = $("#scale").value;
});
$("#pixel-size").addEventListener("change", () => theCase.list.length && rerun());
$("#new-case").addEventListener("click", () => {
  const corrected = theCase.list.some((image) => image.corrections.length);
  if (corrected && !confirm("Start a new case? This case's images and corrections leave the page.")) return;
  theCase.clear();
  selected = null;
  viewer.clear();
  update(null);
});
function restain() {
  document.body.dataset.stain = positivity().on ? "dab" : "he";
  update(null);
  redrawOutlines();
}
for (const input of document.querySelectorAll('input[name="stain"], #positive-threshold, #positive-auto')) {
  input.addEventListener(input.type === "number" ? "input" : "change", restain);
}
restain();
for (const input of [$("#outline-colour"), $("#outline-width")]) {
  input.addEventListener("input", () => {
    redrawOutlines();
    try {
      localStorage.setItem(STYLE_KEY, JSON.stringify({ colour: $("#outline-colour").value, width: $("#outline-width").value }));
    } catch { /* storage off */ }
  });
}

// The view's buttons, and undo.
$("#zoom-in").addEventListener("click", () => viewer.zoomBy(1.5));
$("#zoom-out").addEventListener("click", () => viewer.zoomBy(1 / 1.5));
$("#zoom-fit").addEventListener("click", () => viewer.fit());
$("#undo").addEventListener("click", () => {
  const image = theCase.images.get(selected);
  if (!image || !undo(image)) return;
  image.version = (image.version || 0) + 1;
  redrawOutlines();
  refresh();
  showSelected(false);
});

// Downloads and the report.
const finished = () => theCase.list.filter((image) => image.state === "done");
function about() {
  return {
    cellseg: settings.cellseg || null,
    model: settings.name || null,
    model_sha256: settings.model_sha256 || null,
    onnxruntime_web: settings.onnxruntime_web || null,
    scale: $("#scale").value,
    min_confidence: settings.postprocessing.min_confidence ?? null,
    counted: new Date().toISOString(),
  };
}
async function saving(task) {
  try {
    await task();
  } catch (error) {
    $("#status").textContent = `Cannot save: ${error.message || error}`;
  }
}
[["#download-labels", 0], ["#download-outlines", 1], ["#download-cells", 2]].forEach(([button, which]) => {
  $(button).addEventListener("click", () => saving(async () => {
    const image = theCase.images.get(selected);
    if (!image || image.state !== "done") return;
    const file = (await imageFiles(image, positivity()))[which];
    save(file.data, file.name, which === 2 ? "text/csv" : "image/png");
    saved([image], { cells: true });
  }));
});
$("#download-counts").addEventListener("click", () => {
  save(countsCsv(finished(), positivity()), "counts.csv", "text/csv");
  saved(finished(), { cells: false });
});
$("#download-case").addEventListener("click", () => saving(async () => {
  if (!finished().length) return;
  const images = finished();
  save(await caseZip(images, positivity(), about()), `cellseg-case-${new Date().toISOString().slice(0, 10)}.zip`);
  saved(images, { cells: true });
}));

// Leaving the page (reload, close, another address) loses its results, as closing an
// unsaved image does in QuPath or ImageJ: the browser asks first while an image's count
// (counts.csv, its files or the ZIP hold it) or its corrections (its files or the ZIP) have
// not been downloaded since they last changed.
function saved(images, { cells }) {
  for (const image of images) {
    image.countSaved = image.version;
    if (cells) image.cellsSaved = image.version;
  }
}
function unsaved() {
  return finished().some((image) => image.countSaved !== image.version ||
    (image.corrections.length > 0 && image.cellsSaved !== image.version));
}
window.addEventListener("beforeunload", (event) => {
  if (!unsaved()) return;
  event.preventDefault();
  event.returnValue = ""; // the browser's own question; older browsers ask for this
});
function report() {
  const shown = positivity();
  const facts = about();
  buildReport($("#report"), {
    images: theCase.list,
    positivity: shown,
    settings: [
      ["Report made", new Date().toLocaleString()],
      ["Model", `${facts.model} (SHA-256 ${String(facts.model_sha256 || "unknown").slice(0, 12)}…)`],
      ["cellseg", `${facts.cellseg}, ONNX Runtime Web ${facts.onnxruntime_web}, in the browser`],
      ["Scale", facts.scale === "auto" ? "auto (per image, below)" : `${facts.scale}x`],
      ["Stain", shown.on ? `haematoxylin + DAB, positive from mean DAB optical density ${shown.threshold}` : "H&E (no positivity)"],
      ["Pixel size", $("#pixel-size").value ? `${$("#pixel-size").value} µm` : "as each file records it"],
      ["Cells counted", `those at least ${facts.min_confidence} likely to be real nuclei (the model's least confidence)`],
      ["Nuclei (95%)", "the count, give or take each cell's doubt (its confidence) and how far the model's counts were from the truth on its validation images"],
    ],
    style: (image) => ({ width: 1, colour: colourOf($("#outline-colour").value), marks: markings(image) }),
  });
}
window.addEventListener("beforeprint", report);
$("#print-report").addEventListener("click", () => {
  report();
  window.print();
});
update(null);
