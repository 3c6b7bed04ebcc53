// A ZIP archive writer, store only (PNG and CSV files gain little from deflate): local
// headers, the central directory and its end record, names in UTF-8, CRC-32 per file.
// Nothing fetched, no dependency; the page hands the result to the browser as one Blob.

import { crc32 } from "./crc32.js";

const encoder = new TextEncoder();
const UTF8_NAMES = 0x0800; // general purpose flag bit 11: names are UTF-8
const VERSION = 20; // 2.0: what a stored file with folders needs
const MAX_ENTRIES = 0xffff;
const MAX_SIZE = 0xffffffff;

/** MS-DOS time and date of `when` (a Date), as ZIP headers hold them. */
function dosTime(when) {
  const year = Math.min(Math.max(when.getFullYear(), 1980), 2107);
  return {
    time: (when.getHours() << 11) | (when.getMinutes() << 5) | (when.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((when.getMonth() + 1) << 5) | when.getDate(),
  };
}

/**
 * The bytes of a ZIP archive of `files`, each `{ name, data }` with `data` a Uint8Array
 * or a string (written as UTF-8), in order; `when` dates every file (now by default).
 * Returns an array of Uint8Array parts, to join or hand to `new Blob(parts)`.
 */
export function zipParts(files, when = new Date()) {
  if (files.length > MAX_ENTRIES) throw new Error(`a ZIP file holds at most ${MAX_ENTRIES} files`);
  const { time, date } = dosTime(when);
  const parts = [];
  const directory = [];
  let offset = 0;
  for (const file of files) {
    const name = encoder.encode(file.name);
    const data = typeof file.data === "string" ? encoder.encode(file.data) : file.data;
    if (data.length > MAX_SIZE || offset > MAX_SIZE) throw new Error("too large for a ZIP file without ZIP64");
    const crc = crc32(data);
    const local = new Uint8Array(30 + name.length);
    const head = new DataView(local.buffer);
    head.setUint32(0, 0x04034b50, true);
    head.setUint16(4, VERSION, true);
    head.setUint16(6, UTF8_NAMES, true);
    head.setUint16(8, 0, true); // stored
    head.setUint16(10, time, true);
    head.setUint16(12, date, true);
    head.setUint32(14, crc, true);
    head.setUint32(18, data.length, true);
    head.setUint32(22, data.length, true);
    head.setUint16(26, name.length, true);
    head.setUint16(28, 0, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const entry = new DataView(central.buffer);
    entry.setUint32(0, 0x02014b50, true);
    entry.setUint16(4, VERSION, true);
    entry.setUint16(6, VERSION, true);
    entry.setUint16(8, UTF8_NAMES, true);
    entry.setUint16(10, 0, true);
    entry.setUint16(12, time, true);
    entry.setUint16(14, date, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, data.length, true);
    entry.setUint32(24, data.length, true);
    entry.setUint16(28, name.length, true);
    // extra, comment, disk, internal attributes: 0; external attributes: 0 (a file)
    entry.setUint32(42, offset, true);
    central.set(name, 46);
    parts.push(local, data);
    directory.push(central);
    offset += local.length + data.length;
  }
  const size = directory.reduce((total, part) => total + part.length, 0);
  const end = new Uint8Array(22);
  const tail = new DataView(end.buffer);
  tail.setUint32(0, 0x06054b50, true);
  tail.setUint16(8, files.length, true);
  tail.setUint16(10, files.length, true);
  tail.setUint32(12, size, true);
  tail.setUint32(16, offset, true);
  return [...parts, ...directory, end];
}

/** A ZIP archive of `files` (see `zipParts`) as a Blob. */
export function zipBlob(files, when = new Date()) {
  return new Blob(zipParts(files, when), { type: "application/zip" });
}
