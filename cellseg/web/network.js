// The network over an image of any size with ONNX Runtime Web, as
// cellseg.neural_network.prediction.network_output: whole up to WHOLE_IMAGE_PIXELS (padded
// by reflection to a multiple of the model's divisor), larger ones in balanced tiles
// overlapping by TILE_OVERLAP, blended toward each tile's centre; each view averaged with
// its flipped views (test-time augmentation) in Python's order, in float32.

import * as ort from "./vendor/onnxruntime-web/ort.wasm.min.mjs";
import { LARGE_TILE, MIRRORED_CHANNELS, TILE_OVERLAP, WHOLE_IMAGE_PIXELS } from "./constants.js";

const roundUp = (value, divisor) => Math.ceil(value / divisor) * divisor;

/** numpy's "reflect" padding index (edge repeated where reflecting is impossible). */
function reflect(index, length, reflectable) {
  if (index < length) return index;
  return reflectable ? 2 * length - 2 - index : length - 1;
}

/** RGB float32 (0-255) of the window [top, top+height) x [left, left+width), padded. */
function windowData(rgba, rows, columns, top, left, height, width, reflectable) {
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
  return data;
}

// Test-time augmentation, as prediction._averaged_over_flips: the outputs for flipped views
// (flipped back) summed in this order, then averaged, in float32.
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

async function run(session, data, height, width, flips, target) {
  const mirrored = MIRRORED_CHANNELS[target] || {};
  let total = null;
  let channels = 0;
  for (const [upDown, leftRight] of FLIPS[flips] || FLIPS[1]) {
    const input = flipped(data, height, width, 3, upDown, leftRight);
    const results = await session.run({
      [session.inputNames[0]]: new ort.Tensor("float32", input, [1, height, width, 3]),
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
    output.dispose?.();
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

function crop(data, height, width, channels, rows, columns) {
  if (height === rows && width === columns) return data;
  const out = new Float32Array(rows * columns * channels);
  for (let r = 0; r < rows; r++) {
    out.set(data.subarray(r * width * channels, (r * width + columns) * channels), r * columns * channels);
  }
  return out;
}

/**
 * The network's output for an RGBA image: `{ data, channels }`, data a Float32Array of
 * rows x columns x channels. `progress(fraction)` hears how far it is, 0..1.
 */
export async function networkOutput(session, settings, rgba, rows, columns, progress = () => {}) {
  const divisor = settings.divisor || 32;
  const fixed = settings.input_size;
  const flips = settings.test_time_flips || 1;
  if (!fixed && rows * columns <= WHOLE_IMAGE_PIXELS) {
    const height = roundUp(rows, divisor);
    const width = roundUp(columns, divisor);
    const reflectable = height - rows < rows && width - columns < columns;
    const data = windowData(rgba, rows, columns, 0, 0, height, width, reflectable);
    const result = await run(session, data, height, width, flips, settings.target);
    progress(1);
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
    const data = windowData(rgba, rows, columns, top, left, tile, tile, reflectable);
    const result = await run(session, data, tile, tile, flips, settings.target);
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
    progress((index + 1) / starts.length);
  }
  for (let index = 0; index < rows * columns; index++) {
    for (let k = 0; k < channels; k++) sum[index * channels + k] /= weights[index];
  }
  return { data: sum, channels };
}
