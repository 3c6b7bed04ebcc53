// PNG files the page writes and reads itself: 16-bit gray (cell labels), which
// canvas.toBlob cannot write, and 8-bit RGBA (the outline layer) written byte for byte,
// so that transparent pixels stay (0, 0, 0, 0); and the pixel size a PNG records.
// Deflate comes from the platform (CompressionStream), the rest is the PNG format itself.

import { crc32 } from "./crc32.js";
import { pyRound } from "./numbers.js";

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

async function deflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function encode(rows, columns, bitDepth, colourType, bytesPerPixel, fill) {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, columns);
  view.setUint32(4, rows);
  header[8] = bitDepth;
  header[9] = colourType;
  const stride = 1 + columns * bytesPerPixel;
  const raw = new Uint8Array(rows * stride); // filter byte 0 (none) at each row's start
  for (let row = 0; row < rows; row++) fill(raw.subarray(row * stride + 1, (row + 1) * stride), row);
  const parts = [SIGNATURE, chunk("IHDR", header), chunk("IDAT", await deflate(raw)), chunk("IEND", new Uint8Array(0))];
  return new Blob(parts, { type: "image/png" });
}

/** A 16-bit grayscale PNG of `values` (numbers 0..65535, rows x columns, row by row). */
export function encodeGray16(values, rows, columns) {
  return encode(rows, columns, 16, 0, 2, (line, row) => {
    for (let column = 0; column < columns; column++) {
      const value = values[row * columns + column];
      line[column * 2] = (value >> 8) & 0xff;
      line[column * 2 + 1] = value & 0xff;
    }
  });
}

/** An 8-bit RGBA PNG of `rgba` (4 bytes a pixel, rows x columns, row by row). */
export function encodeRgba8(rgba, rows, columns) {
  return encode(rows, columns, 8, 6, 4, (line, row) => {
    line.set(rgba.subarray(row * columns * 4, (row + 1) * columns * 4));
  });
}

/** Micrometres per pixel that a PNG's first bytes record (its pHYs chunk in pixels per
 *  metre), as cellseg.image_metadata.read_pixel_size reads it: null when the file is not
 *  a PNG, records none, or one no microscope gives. */
export function pngPixelSize(bytes) {
  if (bytes.length < 8 || SIGNATURE.some((byte, index) => bytes[index] !== byte)) return null;
  const head = bytes.subarray(0, 1 << 16); // pHYs comes before the image data
  let index = -1;
  for (let at = 0; at + 4 <= head.length; at++) {
    if (head[at] === 0x70 && head[at + 1] === 0x48 && head[at + 2] === 0x59 && head[at + 3] === 0x73) {
      index = at;
      break;
    }
  }
  if (index < 0 || head.length < index + 13) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  const across = view.getUint32(index + 4);
  if (head[index + 12] !== 1 || !across) return null;
  const size = 1e6 / across;
  return size >= 0.05 && size <= 20 ? pyRound(size, 6) : null;
}
