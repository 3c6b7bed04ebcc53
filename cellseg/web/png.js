// A PNG encoder for 16-bit gray images (cell labels), which canvas.toBlob cannot write.
// Deflate comes from the platform (CompressionStream), the rest is the PNG format itself.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

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

/** A 16-bit grayscale PNG of `values` (numbers 0..65535, rows x columns, row by row). */
export async function encodeGray16(values, rows, columns) {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, columns);
  view.setUint32(4, rows);
  header[8] = 16; // bit depth
  header[9] = 0; // gray
  const stride = 1 + columns * 2;
  const raw = new Uint8Array(rows * stride);
  for (let row = 0; row < rows; row++) {
    raw[row * stride] = 0; // no filter
    for (let column = 0; column < columns; column++) {
      const value = values[row * columns + column];
      raw[row * stride + 1 + column * 2] = (value >> 8) & 0xff;
      raw[row * stride + 2 + column * 2] = value & 0xff;
    }
  }
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", await deflate(raw)),
    chunk("IEND", new Uint8Array(0)),
  ];
  return new Blob(parts, { type: "image/png" });
}
