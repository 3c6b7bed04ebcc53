// A pale counterstain strengthened before the network, as TrainedModel.segment does it
// (cellseg.preprocessing.colour: counterstain_factor, with_counterstain): a brightfield
// image without eosin whose haematoxylin is paler than every training image's (model.json's
// "haematoxylin") is brought to their typical strength, at most MOST_COUNTERSTAIN times.
// In float32, as the Python. No DOM: the Web Worker and Node (tests) run it.

import { BRIGHTFIELD_GREY, HED_FROM_RGB as HED_FROM_RGB_64, MOST_COUNTERSTAIN, NO_EOSIN, NO_HAEMATOXYLIN,
  RGB_FROM_HED as RGB_FROM_HED_64 } from "./constants.js";
import { roundHalfEven, pyRound } from "./numbers.js";

const f32 = Math.fround;
// skimage.color's matrices, as float32 (Ruifrok & Johnston's stain vectors).
const HED_FROM_RGB = HED_FROM_RGB_64.map((row) => row.map(f32));
const RGB_FROM_HED = RGB_FROM_HED_64.map((row) => row.map(f32));
const LOG_FLOOR = f32(Math.log(1e-6));
const LEAST = f32(1e-6);

/** Haematoxylin, eosin and DAB amounts of one pixel's RGB (0..255), as stain_amounts. */
function stainAmounts(red, green, blue, out) {
  const density = [red, green, blue].map((value) => f32(f32(Math.log(Math.max(f32(value / 255), LEAST))) / LOG_FLOOR));
  for (let stain = 0; stain < 3; stain++) {
    let sum = f32(density[0] * HED_FROM_RGB[0][stain]);
    sum = f32(sum + f32(density[1] * HED_FROM_RGB[1][stain]));
    sum = f32(sum + f32(density[2] * HED_FROM_RGB[2][stain]));
    out[stain] = Math.max(sum, 0);
  }
  return out;
}

/** numpy's percentile (linear) of sorted values. */
function percentile(sorted, percent) {
  const share = percent / 100;
  const n = sorted.length;
  const at = n * share + (1 + share * (1 - 1 - 1)) - 1;
  const below = Math.min(Math.max(Math.floor(at), 0), n - 1);
  const above = Math.min(below + 1, n - 1);
  const gamma = at - Math.floor(at);
  const step = sorted[above] - sorted[below];
  return gamma >= 0.5 ? sorted[above] - step * (1 - gamma) : sorted[below] + step * gamma;
}

/** The pixels of every other row and column (as image[::2, ::2]). */
function* quarter(rows, columns) {
  for (let row = 0; row < rows; row += 2) {
    for (let column = 0; column < columns; column += 2) yield row * columns + column;
  }
}

/** Whether an RGBA image is brightfield: the median grey of a quarter of its pixels is 64
 *  or more (is_brightfield). */
export function isBrightfield(rgba, rows, columns) {
  const greys = [];
  for (const index of quarter(rows, columns)) {
    const at = index * 4;
    greys.push(f32(f32(f32(rgba[at] + rgba[at + 1]) + rgba[at + 2]) / 3));
  }
  if (!greys.length) return false;
  const sorted = Float32Array.from(greys).sort();
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle] : f32(f32(sorted[middle - 1] + sorted[middle]) / 2);
  return median >= BRIGHTFIELD_GREY;
}

/** How strong an image's haematoxylin and eosin are: the 99th percentile of each stain's
 *  amount over a quarter of the pixels (counterstain_strength). */
export function counterstainStrength(rgba, rows, columns) {
  const haematoxylin = [];
  const eosin = [];
  const amounts = [0, 0, 0];
  for (const index of quarter(rows, columns)) {
    stainAmounts(rgba[index * 4], rgba[index * 4 + 1], rgba[index * 4 + 2], amounts);
    haematoxylin.push(amounts[0]);
    eosin.push(amounts[1]);
  }
  if (!haematoxylin.length) return [0, 0];
  return [haematoxylin, eosin].map((values) => percentile(Float32Array.from(values).sort(), 99));
}

/** How much to strengthen an image's haematoxylin before the network, 1 for none
 *  (counterstain_factor); `reference` is model.json's "haematoxylin" (lowest, median). */
export function counterstainFactor(rgba, rows, columns, reference) {
  if (!reference || !isBrightfield(rgba, rows, columns)) return 1;
  const [haematoxylin, eosin] = counterstainStrength(rgba, rows, columns);
  if (eosin >= NO_EOSIN || haematoxylin < NO_HAEMATOXYLIN || haematoxylin >= reference.lowest) return 1;
  return pyRound(Math.min(reference.median / haematoxylin, MOST_COUNTERSTAIN), 3);
}

/** The image (RGBA) with its haematoxylin multiplied by `factor`, its other stains kept
 *  (with_counterstain); the image itself when `factor` is 1. */
export function withCounterstain(rgba, rows, columns, factor) {
  if (factor === 1) return rgba;
  const out = new Uint8ClampedArray(rgba.length);
  const amounts = [0, 0, 0];
  const scaled = f32(factor);
  for (let index = 0; index < rows * columns; index++) {
    const at = index * 4;
    stainAmounts(rgba[at], rgba[at + 1], rgba[at + 2], amounts);
    amounts[0] = f32(amounts[0] * scaled);
    const logs = amounts.map((amount) => f32(amount * LOG_FLOOR));
    for (let channel = 0; channel < 3; channel++) {
      let sum = f32(logs[0] * RGB_FROM_HED[0][channel]);
      sum = f32(sum + f32(logs[1] * RGB_FROM_HED[1][channel]));
      sum = f32(sum + f32(logs[2] * RGB_FROM_HED[2][channel]));
      const intensity = Math.min(Math.max(f32(Math.exp(sum)), 0), 1);
      out[at + channel] = roundHalfEven(f32(intensity * 255));
    }
    out[at + 3] = 255;
  }
  return out;
}
