// The page's Web Worker: decode the image, run the network with ONNX Runtime Web
// (WebAssembly), find and measure the cells. The page never freezes: everything heavy is here.
//
// The network runs as in cellseg.neural_network.prediction.segment: the image enlarged by the
// page's scale first (2 for a 20x image and a model trained at 40x; "auto" measures the cells
// found at the image's size first, as auto_scale), cells found at that scale and brought back
// to the image's size; whole images up to
// WHOLE_IMAGE_PIXELS (padded by reflection to a multiple of the model's divisor), larger ones
// in balanced tiles overlapping by TILE_OVERLAP, blended toward each tile's centre.

import * as ort from "./vendor/onnxruntime-web/ort.wasm.min.mjs";
import { MIRRORED_CHANNELS, cellsFromOutput, measureCells } from "./cells.js";
import { autoScale, resizeBilinear, resizeLabels } from "./scale.js";

// Smaller than Python's 2048 x 2048: a tab's WebAssembly memory is tighter, and tiled outputs
// agree closely with whole ones.
const WHOLE_IMAGE_PIXELS = 2600000;
const LARGE_TILE = 1280;
const TILE_OVERLAP = 64;
// Enlarging only: shrinking would need anti-aliasing to match Python's resize.
const MIN_SCALE = 1;
const MAX_SCALE = 4;

ort.env.wasm.wasmPaths = {
  mjs: new URL("./vendor/onnxruntime-web/ort-wasm-simd-threaded.mjs", import.meta.url).href,
  wasm: new URL("./vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm", import.meta.url).href,
};
// Threads need cross-origin isolation (`cellseg serve` sends the headers); else one thread.
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;

const progress = (stage, fraction) => postMessage({ type: "progress", stage, fraction });

const ready = (async () => {
  const response = await fetch(new URL("./model.json", import.meta.url));
  if (!response.ok) throw new Error("model.json is missing from the site");
  const settings = await response.json();
  const session = await ort.InferenceSession.create(new URL("./model.onnx", import.meta.url).href, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  postMessage({ type: "ready" });
  return { settings, session };
})();
ready.catch((error) => postMessage({ type: "error", message: `cannot load the model: ${error.message || error}` }));

onmessage = async ({ data }) => {
  try {
    progress("loading the model", 0.02);
    const { settings, session } = await ready;
    progress("reading the image", 0.05);
    const { rgba, rows, columns } = await decode(data.file);
    const auto = data.scale === "auto";
    let scale = auto ? 1 : Number(data.scale) || 1;
    if (!(scale >= MIN_SCALE && scale <= MAX_SCALE)) throw new Error(`scale must be between ${MIN_SCALE} and ${MAX_SCALE}, got ${data.scale}`);
    let labels = await findCellsAtScale(session, settings, rgba, rows, columns, scale);
    if (auto) {
      scale = autoScale(labels, settings.cell_area);
      if (scale !== 1) {
        progress(`small cells: enlarging ${scale}x`, 0.1);
        labels = await findCellsAtScale(session, settings, rgba, rows, columns, scale);
      }
    }
    progress("measuring the cells", 0.95);
    const cells = measureCells(labels, rgba, rows, columns);
    postMessage({ type: "done", labels, rgba, rows, columns, cells, scale }, [labels.buffer, rgba.buffer]);
  } catch (error) {
    postMessage({ type: "error", message: String(error && error.message ? error.message : error) });
  }
};

async function findCellsAtScale(session, settings, rgba, rows, columns, scale) {
  if (scale === 1) return findCells(session, settings, rgba, rows, columns);
  const scaledRows = Math.max(1, Math.round(rows * scale));
  const scaledColumns = Math.max(1, Math.round(columns * scale));
  const scaled = resizeBilinear(rgba, rows, columns, scaledRows, scaledColumns);
  const found = await findCells(session, settings, scaled, scaledRows, scaledColumns);
  return resizeLabels(found, scaledRows, scaledColumns, rows, columns);
}

async function findCells(session, settings, rgba, rows, columns) {
  const output = await networkOutput(session, settings, rgba, rows, columns);
  progress("separating the cells", 0.9);
  return cellsFromOutput(output.data, rows, columns, output.channels, settings.target, settings.postprocessing);
}

async function decode(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch {
    throw new Error(`${file.name}: this browser cannot read it as an image (truncated, not an image, or a format it does not decode)`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  const rgba = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return { rgba: new Uint8ClampedArray(rgba.buffer), rows: bitmap.height, columns: bitmap.width };
}

const roundUp = (value, divisor) => Math.ceil(value / divisor) * divisor;

/** numpy's "reflect" padding index (edge repeated where reflecting is impossible). */
function reflect(index, length, reflectable) {
  if (index < length) return index;
  return reflectable ? 2 * length - 2 - index : length - 1;
}

/** RGB float32 (0-255) of the window [top, top+height) x [left, left+width), padded. */
function windowTensor(rgba, rows, columns, top, left, height, width, reflectable) {
  const data = new Float32Array(height * width * 3);
  for (let r = 0; r < height; r++) {
    const row = reflect(top + r, rows, reflectable);
    for (let c = 0; c < width; c++) {
      const column = reflect(left + c, columns, reflectable);
      const from = (row * columns + column) * 4;
      const to = (r * width + c) * 3;
      data[to] = rgba[from];
      data[to + 1] = rgba[from + 1];
      data[to + 2] = rgba[from + 2];
    }
  }
  return new ort.Tensor("float32", data, [1, height, width, 3]);
}

// Test-time augmentation, as cellseg.neural_network.prediction._averaged_over_flips: the
// outputs for flipped views (flipped back) summed in this order, then averaged, in float32.
const FLIPS = { 1: [[false, false]], 2: [[false, false], [true, true]],
  4: [[false, false], [false, true], [true, false], [true, true]] };

function flipped(data, height, width, depth, upDown, leftRight) {
  if (!upDown && !leftRight) return data;
  const out = new Float32Array(data.length);
  for (let r = 0; r < height; r++) {
    const from = upDown ? height - 1 - r : r;
    for (let c = 0; c < width; c++) {
      const source = (from * width + (leftRight ? width - 1 - c : c)) * depth;
      out.set(data.subarray(source, source + depth), (r * width + c) * depth);
    }
  }
  return out;
}

async function run(session, tensor, flips = 1, target = "3class") {
  const mirrored = MIRRORED_CHANNELS[target] || {};
  const [, height, width] = tensor.dims;
  let total = null;
  let channels = 0;
  for (const [upDown, leftRight] of FLIPS[flips] || FLIPS[1]) {
    const input = flipped(tensor.data, height, width, 3, upDown, leftRight);
    const results = await session.run({
      [session.inputNames[0]]: new ort.Tensor("float32", input, tensor.dims),
    });
    const output = results[session.outputNames[0]];
    channels = output.dims[3];
    const back = flipped(output.data, height, width, channels, upDown, leftRight);
    // A mirrored view's offsets point the other way: turn their signs back (in `back`, a
    // new array whenever the view was flipped).
    for (const [channel, turned] of [[mirrored.upDown, upDown], [mirrored.leftRight, leftRight]]) {
      if (channel === undefined || !turned) continue;
      for (let i = channel; i < back.length; i += channels) back[i] = -back[i];
    }
    if (total === null) total = Float32Array.from(back);
    else for (let i = 0; i < total.length; i++) total[i] += back[i];
  }
  if (flips > 1) for (let i = 0; i < total.length; i++) total[i] /= flips;
  return { data: total, channels };
}

function tileStarts(length, tile, overlap) {
  if (length <= tile) return [0];
  const starts = [];
  for (let start = 0; start <= length - tile; start += tile - overlap) starts.push(start);
  if (starts[starts.length - 1] + tile < length) starts.push(length - tile);
  return starts;
}

function balancedTile(length, divisor) {
  const count = Math.max(1, Math.ceil((length - TILE_OVERLAP) / (LARGE_TILE - TILE_OVERLAP)));
  const side = Math.ceil((length + (count - 1) * TILE_OVERLAP) / count);
  return Math.min(roundUp(side, divisor), LARGE_TILE);
}

async function networkOutput(session, settings, rgba, rows, columns) {
  const divisor = settings.divisor || 32;
  const fixed = settings.input_size;
  if (!fixed && rows * columns <= WHOLE_IMAGE_PIXELS) {
    progress("running the network", 0.1);
    const height = roundUp(rows, divisor);
    const width = roundUp(columns, divisor);
    const reflectable = height - rows < rows && width - columns < columns;
    const result = await run(session, windowTensor(rgba, rows, columns, 0, 0, height, width, reflectable),
      settings.test_time_flips, settings.target);
    return { data: crop(result.data, height, width, result.channels, rows, columns), channels: result.channels };
  }
  const tile = fixed ? fixed[0] : Math.max(balancedTile(rows, divisor), balancedTile(columns, divisor));
  const overlap = fixed ? Math.floor(tile / 4) : TILE_OVERLAP;
  const paddedRows = Math.max(rows, tile);
  const paddedColumns = Math.max(columns, tile);
  const reflectable = paddedRows - rows < rows && paddedColumns - columns < columns;
  const starts = [];
  for (const top of tileStarts(paddedRows, tile, overlap)) {
    for (const left of tileStarts(paddedColumns, tile, overlap)) starts.push([top, left]);
  }
  const ramp = Float32Array.from({ length: tile }, (_, i) => Math.min(i + 1, tile - i));
  let sum = null;
  let channels = 0;
  const weights = new Float32Array(rows * columns);
  for (const [index, [top, left]] of starts.entries()) {
    progress(`running the network, tile ${index + 1} of ${starts.length}`, 0.1 + 0.8 * index / starts.length);
    const result = await run(session, windowTensor(rgba, rows, columns, top, left, tile, tile, reflectable),
      settings.test_time_flips, settings.target);
    channels = result.channels;
    sum = sum || new Float32Array(rows * columns * channels);
    for (let r = 0; r < tile && top + r < rows; r++) {
      for (let c = 0; c < tile && left + c < columns; c++) {
        const weight = ramp[r] * ramp[c];
        const to = (top + r) * columns + left + c;
        weights[to] += weight;
        for (let k = 0; k < channels; k++) sum[to * channels + k] += weight * result.data[(r * tile + c) * channels + k];
      }
    }
  }
  for (let index = 0; index < rows * columns; index++) {
    for (let k = 0; k < channels; k++) sum[index * channels + k] /= weights[index];
  }
  return { data: sum, channels };
}

function crop(data, height, width, channels, rows, columns) {
  if (height === rows && width === columns) return data;
  const out = new Float32Array(rows * columns * channels);
  for (let r = 0; r < rows; r++) {
    out.set(data.subarray(r * width * channels, (r * width + columns) * channels), r * columns * channels);
  }
  return out;
}
