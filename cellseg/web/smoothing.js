// Gaussian smoothing as scipy.ndimage.gaussian_filter does it, to the last bit where it can
// be: its kernel (radius int(4 sigma + 0.5), normalised by numpy's sum), each axis in turn
// (rows, then columns), the symmetric kernel summed from the centre out, edges extended
// by "reflect" (d c b a | a b c d | d c b a) or "mirror" (d c b | a b c d | c b a).

import { pairwiseSum } from "./numbers.js";

/** scipy's Gaussian kernel of `sigma`, 2 * radius + 1 weights summing to 1. */
export function gaussianWeights(sigma, radius = Math.floor(4 * sigma + 0.5)) {
  const factor = -0.5 / (sigma * sigma);
  const weights = Float64Array.from({ length: 2 * radius + 1 }, (_, index) => Math.exp(factor * (index - radius) ** 2));
  const total = pairwiseSum(weights);
  return weights.map((weight) => weight / total);
}

/** Where position `index` of a line of `length` reads from, beyond its ends. */
function extended(index, length, mode) {
  if (length === 1) return 0;
  if (mode === "mirror") {
    const period = 2 * (length - 1);
    const at = ((index % period) + period) % period;
    return at < length ? at : period - at;
  }
  const period = 2 * length; // reflect
  const at = ((index % period) + period) % period;
  return at < length ? at : period - 1 - at;
}

/** One pass down the columns (`alongRows`) or across the rows, a row at a time, each value
 *  summed from the kernel's centre out as scipy's correlate1d. */
function pass(values, rows, columns, channels, sigma, alongRows, mode, Kind) {
  const weights = gaussianWeights(sigma);
  const radius = (weights.length - 1) / 2;
  const length = alongRows ? rows : columns;
  const sources = Int32Array.from({ length: length + 2 * radius }, (_, at) => extended(at - radius, length, mode));
  const width = columns * channels;
  const out = new Kind(values.length);
  const sums = new Float64Array(width);
  if (alongRows) {
    for (let row = 0; row < rows; row++) {
      const centre = sources[row + radius] * width;
      for (let i = 0; i < width; i++) sums[i] = values[centre + i] * weights[radius];
      for (let offset = radius; offset > 0; offset--) {
        const above = sources[row + radius - offset] * width;
        const below = sources[row + radius + offset] * width;
        const weight = weights[radius - offset];
        for (let i = 0; i < width; i++) sums[i] += (values[above + i] + values[below + i]) * weight;
      }
      out.set(sums, row * width);
    }
    return out;
  }
  const line = new Float64Array((columns + 2 * radius) * channels);
  for (let row = 0; row < rows; row++) {
    const first = row * width;
    for (let at = 0; at < columns + 2 * radius; at++) {
      for (let k = 0; k < channels; k++) line[at * channels + k] = values[first + sources[at] * channels + k];
    }
    for (let i = 0; i < width; i++) {
      const centre = i + radius * channels;
      let sum = line[centre] * weights[radius];
      for (let offset = radius; offset > 0; offset--) {
        sum += (line[centre - offset * channels] + line[centre + offset * channels]) * weights[radius - offset];
      }
      sums[i] = sum;
    }
    out.set(sums, first);
  }
  return out;
}

/**
 * `values` (rows x columns x channels, channels last) smoothed by a Gaussian of
 * `sigmaRows` down the rows and `sigmaColumns` across the columns (0: not along that
 * axis), each channel apart, as scipy.ndimage.gaussian_filter(values, (sigmaRows,
 * sigmaColumns, 0), mode=mode); the result is of the typed array kind `Kind` after each
 * pass (Float32Array for float32 data, as scipy keeps the input's type).
 */
export function gaussianFilter(values, rows, columns, channels, sigmaRows, sigmaColumns, mode = "reflect", Kind = Float32Array) {
  let out = values;
  if (sigmaRows > 1e-15) out = pass(out, rows, columns, channels, sigmaRows, true, mode, Kind);
  if (sigmaColumns > 1e-15) out = pass(out, rows, columns, channels, sigmaColumns, false, mode, Kind);
  return out;
}
