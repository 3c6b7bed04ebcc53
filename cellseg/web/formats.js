// The image files the page counts, told from their first bytes before any is decoded: PNG
// and JPEG, which every browser decodes (others a browser decodes, WebP or BMP, are tried
// too). TIFF, which cellseg predict reads, no browser decodes, so it is refused at once
// with what to do instead; and a PNG's or JPEG's size, written near its start, lets the
// page refuse an image too large for it before spending a minute decoding it.

/** What the page says it reads, in its messages. */
export const FORMATS_READ = "PNG or JPEG";

const TIFF_NAME = /\.tiff?$/i;

/** Whether the file, by its name or type, is a TIFF (refused before it is read). */
export function isTiffFile(file) {
  return TIFF_NAME.test(file.name) || file.type === "image/tiff";
}

/** The one-line row error of a TIFF file named `name`. */
export function tiffRefusal(name) {
  return `${name}: browsers do not read TIFF: save it as PNG, or count it with cellseg predict`;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const TIFF_SIGNATURES = [
  [0x49, 0x49, 0x2a, 0x00], [0x4d, 0x4d, 0x00, 0x2a], // TIFF, little and big endian
  [0x49, 0x49, 0x2b, 0x00], [0x4d, 0x4d, 0x00, 0x2b], // BigTIFF
];

const startsWith = (bytes, signature) => bytes.length >= signature.length &&
  signature.every((byte, index) => bytes[index] === byte);

/** The format and size a file's first bytes (`bytes`, a Uint8Array) give:
 *  `{ format: "png", "jpeg", "tiff" or null, rows, columns }`, rows and columns null where
 *  those bytes do not say (a JPEG whose metadata fills them, another format). */
export function imageHead(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (startsWith(bytes, PNG_SIGNATURE)) {
    // IHDR comes first: its length, "IHDR", then width and height.
    const named = bytes.length >= 24 && String.fromCharCode(...bytes.subarray(12, 16)) === "IHDR";
    return { format: "png", rows: named ? view.getUint32(20) : null, columns: named ? view.getUint32(16) : null };
  }
  if (TIFF_SIGNATURES.some((signature) => startsWith(bytes, signature))) return { format: "tiff", rows: null, columns: null };
  if (startsWith(bytes, [0xff, 0xd8])) return { format: "jpeg", ...jpegSize(bytes, view) };
  return { format: null, rows: null, columns: null };
}

/** A JPEG's size from its start-of-frame segment, found by stepping over the segments
 *  before it (so that an EXIF thumbnail's is not taken for it). */
function jpegSize(bytes, view) {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) break; // not a marker where one must be: leave it to the decoder
    const marker = bytes[at + 1];
    if (marker === 0xff) { at += 1; continue; } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; } // no length
    const length = view.getUint16(at + 2);
    const frame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (frame) {
      if (at + 9 > bytes.length) break;
      return { rows: view.getUint16(at + 5), columns: view.getUint16(at + 7) };
    }
    if (marker === 0xda || marker === 0xd9) break; // the image data, or its end: no frame seen
    at += 2 + length;
  }
  return { rows: null, columns: null };
}
