// The case table on the page: a row per image (tr[data-image="<file name>"], its count in
// td.count), its state while it is found, and the case's summary row.

import { caseSummary, countRow } from "./tables.js";

const rows = new WeakMap(); // image -> { key, row }: an auto threshold is a fit, done once

/** An image's row of counts.csv, computed again only when its cells (`image.version`, which
 *  the page counts up at each correction) or the positivity change. */
export function rowOf(image, positivity) {
  const key = `${image.version || 0}|${positivity.on}|${positivity.threshold}`;
  const kept = rows.get(image);
  if (kept && kept.key === key) return kept.row;
  const row = countRow(image, positivity);
  rows.set(image, { key, row });
  return row;
}

/** "358–484": the 95% interval of the nuclei in the image; "" without. */
export function intervalText(row) {
  return row.count_low === undefined ? "" : `${row.count_low}–${row.count_high}`;
}

/** The text of a row's cells: image, status, cells, nuclei, positive, %, scale, corrections. */
export function rowTexts(image, positivity) {
  if (image.state !== "done") {
    const status = image.state === "error" ? `error: ${image.message}` :
      image.state === "running" ? `${image.stage || "working"}… ${Math.round(100 * (image.fraction || 0))}%` : "waiting";
    return [image.name, status, "", "", "", "", "", ""];
  }
  const row = rowOf(image, positivity);
  return [
    image.name,
    "done",
    String(row.count),
    intervalText(row),
    row.positive === undefined ? "" : String(row.positive),
    row.positive_percent === undefined ? "" : `${row.positive_percent}%`,
    `${image.scale}x`,
    String(image.corrections.length || ""),
  ];
}

/** The summary row's texts for the finished images of the case. */
export function summaryTexts(images, positivity) {
  const done = images.filter((image) => image.state === "done");
  const summary = caseSummary(done, positivity, rowOf);
  return [
    `Case: ${done.length} of ${images.length} image${images.length === 1 ? "" : "s"}`,
    "",
    String(summary.count),
    intervalText(summary),
    summary.positive === undefined ? "" : String(summary.positive),
    summary.positive_percent === undefined ? "" : `${summary.positive_percent}%`,
    "",
    String(done.reduce((total, image) => total + image.corrections.length, 0) || ""),
  ];
}

const CLASSES = ["name", "status screen-only", "count number", "interval", "positivity number", "positivity number", "scale", "corrections number"];

function fill(tr, texts) {
  while (tr.cells.length < texts.length) tr.insertCell();
  texts.forEach((text, index) => {
    const cell = tr.cells[index];
    cell.className = CLASSES[index];
    if (cell.textContent !== text) cell.textContent = text;
  });
}

/** Bring the table up to date with the case; `selected` is the name of the image shown. */
export function renderTable(table, images, positivity, selected) {
  const body = table.tBodies[0];
  const rows = new Map([...body.rows].map((tr) => [tr.dataset.image, tr]));
  for (const [name, tr] of rows) if (!images.some((image) => image.name === name)) tr.remove();
  images.forEach((image, index) => {
    let tr = rows.get(image.name);
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.image = image.name;
      tr.tabIndex = 0;
    }
    if (body.rows[index] !== tr) body.insertBefore(tr, body.rows[index] || null);
    tr.className = [image.state, image.name === selected ? "selected" : ""].join(" ").trim();
    tr.setAttribute("aria-selected", String(image.name === selected));
    if (image.seconds) tr.dataset.seconds = JSON.stringify(image.seconds); // for benchmarks
    else delete tr.dataset.seconds;
    fill(tr, rowTexts(image, positivity));
  });
  const foot = table.tFoot;
  const summary = foot.rows[0] || foot.insertRow();
  summary.className = "summary";
  fill(summary, summaryTexts(images, positivity));
}
