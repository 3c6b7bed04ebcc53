// The files a case leaves, named after each image so that they file well: per image
// <stem>_labels.png (16-bit, one id per cell), <stem>_outlines.png (the red annotation
// layer cellseg train reads) and <stem>_cells.csv; for the case counts.csv and cells.csv
// in cellseg predict's columns, and case.json (settings and each image's corrections);
// all of them in one ZIP archive.

import { correctionLog } from "./corrections.js";
import { outlineLayer } from "./drawing.js";
import { encodeGray16, encodeRgba8 } from "./png.js";
import { cellsCsv, countsCsv, stem } from "./tables.js";
import { zipBlob } from "./zip.js";

const MOST_LABELS = 65535;

async function bytesOf(blob) {
  return new Uint8Array(await blob.arrayBuffer());
}

/** One image's three files, `[{ name, data }]` (data: Uint8Array or text). */
export async function imageFiles(image, positivity) {
  const name = stem(image.name);
  if (image.cells.length > MOST_LABELS) {
    throw new Error(`${image.name}: more than ${MOST_LABELS} cells do not fit a 16-bit PNG; count it with cellseg predict`);
  }
  return [
    { name: `${name}_labels.png`, data: await bytesOf(await encodeGray16(image.labels, image.rows, image.columns)) },
    { name: `${name}_outlines.png`, data: await bytesOf(await encodeRgba8(outlineLayer(image.labels, image.rows, image.columns), image.rows, image.columns)) },
    { name: `${name}_cells.csv`, data: cellsCsv([image], positivity) },
  ];
}

/** What the case was counted with, and every image's scale and corrections. */
export function caseRecord(images, positivity, about) {
  return {
    ...about,
    stain: positivity.on ? "haematoxylin + DAB" : "H&E",
    positive_threshold: positivity.on ? positivity.threshold : null,
    images: images.map((image) => ({
      image: image.name,
      scale: image.scale,
      scale_from: image.reason,
      pixel_size: image.pixelSize || null,
      counterstain: image.counterstain ?? 1,
      corrections: correctionLog(image),
    })),
  };
}

/** The case's files: every image's, then counts.csv, cells.csv and case.json. */
export async function caseFiles(images, positivity, about) {
  const files = [];
  for (const image of images) files.push(...(await imageFiles(image, positivity)));
  files.push({ name: "counts.csv", data: countsCsv(images, positivity) });
  files.push({ name: "cells.csv", data: cellsCsv(images, positivity) });
  files.push({ name: "case.json", data: JSON.stringify(caseRecord(images, positivity, about), null, 1) + "\n" });
  return files;
}

/** The case as one ZIP file. */
export async function caseZip(images, positivity, about) {
  return zipBlob(await caseFiles(images, positivity, about));
}

/** Hand `data` (a Blob, bytes or text) to the browser as a download named `name`. */
export function save(data, name, type = "application/octet-stream") {
  const blob = data instanceof Blob ? data : new Blob([data], { type });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
