// Image scale for the page: which enlargement "auto" chooses, and resizing there and back,
// as cellseg.neural_network.prediction (choose_scale, enlarged, rescaled),
// cellseg.preprocessing.resampling and skimage.transform.resize. No DOM: the Web Worker
// and Node (tests) run it.

import { AUTO_SCALE_MIN_CELLS } from "./constants.js";
import { median, pairwiseSum, pyRound, roundHalfEven } from "./numbers.js";
import { gaussianFilter } from "./smoothing.js";

// "auto" tries AUTO_SCALES in order (a model trained at 40x meets 40x, 20x and 10x) on a
// central crop of AUTO_SCALE_CROP pixels a side; fewer than AUTO_SCALE_MIN_CELLS cells tell
// too little about their size, unless they are of about the training cells' size (a sparse
// image's few nuclei).

/**
 * What one trial of a scale found on the crop (ScaleTrial.of): how many cells, their mean
 * raw score (and its standard error) and their median area, from the labels and raw scores
 * of the cells found there.
 */
export function scaleTrial(scale, labels, scores) {
  let largest = 0;
  for (let index = 0; index < labels.length; index++) if (labels[index] > largest) largest = labels[index];
  const areas = new Float64Array(largest + 1);
  for (let index = 0; index < labels.length; index++) areas[labels[index]] += 1;
  const found = Array.from(areas.subarray(1)).filter((area) => area > 0);
  const meanScore = scores.length ? pairwiseSum(scores) / scores.length : 0;
  const squares = Float64Array.from(scores, (score) => (score - meanScore) ** 2);
  const scoreError = scores.length ? Math.sqrt(pairwiseSum(squares) / scores.length / scores.length) : 0;
  return { scale, cells: found.length, meanScore, medianArea: median(found), scoreError };
}

/** Whether the trials so far decide (TrainedModel.choose_scale): the last one did worse than
 *  the one before, whose cells were not too small to stop at. */
export function trialsDecide(trials, cellArea) {
  if (trials.length < 2) return false;
  const [before, last] = trials.slice(-2);
  return last.meanScore < before.meanScore && !(before.medianArea < (cellArea || 0) / 2);
}

/**
 * The scale "auto" chooses from the trials at AUTO_SCALES, in order (choose_scale): the one
 * whose cells the network scores highest on average, or the largest one it is about as
 * sure of (within one standard error); when its cells are under half the training cells'
 * area `cellArea`, the first larger one whose cells are not (if any); 1 without a useful
 * trial.
 */
export function chooseScale(trials, cellArea) {
  const useful = trials.filter((trial) => tells(trial, cellArea));
  if (!useful.length) return 1;
  let best = useful[0];
  for (const trial of useful) if (trial.meanScore > best.meanScore) best = trial;
  const asSure = [best, ...useful.filter((trial) => aboutAsSure(trial, best))];
  best = asSure.reduce((largest, trial) => (trial.scale > largest.scale ? trial : largest));
  if (!largeEnough(best, cellArea)) {
    const larger = useful.find((trial) => trial.scale > best.scale && largeEnough(trial, cellArea));
    if (larger) best = larger;
  }
  return best.scale;
}

/** Whether the network is about as sure of a larger scale's cells as of the best's: within
 *  one standard error of the difference (_about_as_sure). */
function aboutAsSure(trial, best) {
  const error = Math.hypot(trial.scoreError || 0, best.scoreError || 0);
  return trial.scale > best.scale && best.meanScore - trial.meanScore <= error;
}

/** Whether a trial tells anything (_tells): enough cells, or a few of the training cells'
 *  size. */
function tells(trial, cellArea) {
  if (trial.cells >= AUTO_SCALE_MIN_CELLS) return true;
  return trial.cells > 0 && Boolean(cellArea) && largeEnough(trial, cellArea);
}

/** Whether a trial's cells are at least half the training cells' area, when known
 *  (_large_enough). */
function largeEnough(trial, cellArea) {
  return !cellArea || trial.medianArea >= cellArea / 2;
}

/** The scale a pixel size implies for a model of `modelPixelSize` micrometres per pixel
 *  (TrainedModel.scale_for_pixel_size); null when either is unknown. */
export function scaleForPixelSize(pixelSize, modelPixelSize) {
  return pixelSize && modelPixelSize ? pyRound(pixelSize / modelPixelSize, 2) : null;
}

/** The `side` x `side` window at the image's centre (the image, when smaller), as
 *  central_crop: `{ rgba, rows, columns }`. */
export function centralCrop(rgba, rows, columns, side) {
  const top = Math.max(0, Math.floor((rows - side) / 2));
  const left = Math.max(0, Math.floor((columns - side) / 2));
  const height = Math.min(side, rows - top);
  const width = Math.min(side, columns - left);
  const out = new Uint8ClampedArray(height * width * 4);
  for (let r = 0; r < height; r++) {
    out.set(rgba.subarray(((top + r) * columns + left) * 4, ((top + r) * columns + left + width) * 4), r * width * 4);
  }
  return { rgba: out, rows: height, columns: width };
}

/** The size an image of rows x columns takes at `scale`, as enlarged (Python's round). */
export function scaledSize(rows, columns, scale) {
  return [Math.max(1, roundHalfEven(rows * scale)), Math.max(1, roundHalfEven(columns * scale))];
}

/** The image resized by `scale`, as enlarged: by Pillow's bicubic filter when enlarging
 *  (bilinearly when not `cubic`, as the scale's trials see their crops), bilinear and
 *  anti-aliased when shrinking, rounded to integers (halves to even):
 *  `{ rgba, rows, columns }`. */
export function enlarged(rgba, rows, columns, scale, cubic = true) {
  if (scale === 1) return { rgba, rows, columns };
  const [newRows, newColumns] = scaledSize(rows, columns, scale);
  const resize = scale > 1 && cubic ? resizeCubic : resizeBilinear;
  return { rgba: resize(rgba, rows, columns, newRows, newColumns), rows: newRows, columns: newColumns };
}

/** Pillow's bicubic filter (libImaging/Resample.c): Keys' cubic kernel with a = -0.5. */
function bicubicFilter(distance) {
  const a = -0.5;
  const x = Math.abs(distance);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  return x < 2 ? (((x - 5) * x + 8) * x - 4) * a : 0;
}

/** Pillow's fixed-point precision for 8-bit images. */
const PRECISION = 2 ** 22;

/** For each of `newLength` positions, the first source position and the integer weights
 *  of it and the next ones, as Pillow's precompute_coeffs and normalize_coeffs_8bpc find
 *  them: taps beyond the edge left out, the rest weighed up to one, in 22-bit fixed point. */
function pillowTaps(length, newLength) {
  const scale = length / newLength;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  return Array.from({ length: newLength }, (_, index) => {
    const center = (index + 0.5) * scale;
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), length) - first;
    const weights = [];
    let sum = 0;
    for (let tap = 0; tap < count; tap++) {
      weights.push(bicubicFilter((tap + first - center + 0.5) * (1 / filterScale)));
      sum += weights[tap];
    }
    const fixed = weights.map((weight) => {
      const share = sum !== 0 ? weight / sum : weight;
      return Math.trunc(share < 0 ? -0.5 + share * PRECISION : 0.5 + share * PRECISION);
    });
    return { first, weights: fixed };
  });
}

/** One pass of Pillow's resampling along one axis, RGB of RGBA: `count` lines, each
 *  resampled to `taps.length` values; a line's values lie `sourceStep` apart in `source`,
 *  and lines `sourceLine` apart (`targetStep`, `targetLine` in `target`). */
function pillowPass(source, target, taps, count, sourceStep, sourceLine, targetStep, targetLine) {
  for (let line = 0; line < count; line++) {
    for (let at = 0; at < taps.length; at++) {
      const { first, weights } = taps[at];
      for (let k = 0; k < 3; k++) {
        let total = PRECISION / 2;
        for (let tap = 0; tap < weights.length; tap++) {
          total += source[line * sourceLine + (first + tap) * sourceStep + k] * weights[tap];
        }
        target[line * targetLine + at * targetStep + k] = Math.floor(total / PRECISION); // clamped
      }
    }
  }
}

/**
 * RGBA resized to newRows x newColumns as cubic_resized (Pillow's bicubic filter): columns
 * first, then rows, each in integers rounded to 8 bits: the same pixels as Python. Alpha
 * comes out opaque.
 */
export function resizeCubic(rgba, rows, columns, newRows, newColumns) {
  const wide = new Uint8ClampedArray(rows * newColumns * 4);
  pillowPass(rgba, wide, pillowTaps(columns, newColumns), rows, 4, columns * 4, 4, newColumns * 4);
  const out = new Uint8ClampedArray(newRows * newColumns * 4);
  pillowPass(wide, out, pillowTaps(rows, newRows), newColumns, newColumns * 4, 4, newColumns * 4, 4);
  for (let index = 3; index < out.length; index += 4) out[index] = 255;
  return out;
}

/** For each of `newLength` positions, the two source positions and the weight of the
 *  second, as scipy's zoom (grid_mode, order 1) finds them: pixel centres map to pixel
 *  centres, positions beyond the edge are mirrored about the edge pixel. */
function bilinearAxis(length, newLength) {
  const zoom = length / newLength;
  const mirror = (index) => {
    if (length === 1) return 0;
    const period = 2 * (length - 1);
    let at = ((index % period) + period) % period;
    return at < length ? at : period - at;
  };
  return Array.from({ length: newLength }, (_, index) => {
    const at = (index + 0.5) * zoom - 0.5;
    const low = Math.floor(at);
    return [mirror(low), mirror(low + 1), at - low];
  });
}

/**
 * RGBA resized to newRows x newColumns as skimage.transform.resize(order=1,
 * preserve_range=True) then rint: bilinear, pixel centres to pixel centres, mirrored beyond
 * the edge; smoothed first by a Gaussian of sigma (factor - 1) / 2 along an axis that
 * shrinks (its anti-aliasing). Alpha comes out opaque.
 */
export function resizeBilinear(rgba, rows, columns, newRows, newColumns) {
  const rowFactor = rows / newRows;
  const columnFactor = columns / newColumns;
  let source = null; // float RGB, when smoothed first
  if (rowFactor > 1 || columnFactor > 1) {
    source = new Float64Array(rows * columns * 3);
    for (let index = 0; index < rows * columns; index++) {
      for (let k = 0; k < 3; k++) source[index * 3 + k] = rgba[index * 4 + k];
    }
    const sigma = (factor) => Math.max(0, (factor - 1) / 2);
    source = gaussianFilter(source, rows, columns, 3, sigma(rowFactor), sigma(columnFactor), "mirror", Float64Array);
  }
  const value = source ? (index, k) => source[index * 3 + k] : (index, k) => rgba[index * 4 + k];
  const out = new Uint8ClampedArray(newRows * newColumns * 4);
  const down = bilinearAxis(rows, newRows);
  const across = bilinearAxis(columns, newColumns);
  for (let r = 0; r < newRows; r++) {
    const [top, bottom, v] = down[r];
    for (let c = 0; c < newColumns; c++) {
      const [left, right, u] = across[c];
      const to = (r * newColumns + c) * 4;
      for (let k = 0; k < 3; k++) {
        const upper = value(top * columns + left, k) * (1 - u) + value(top * columns + right, k) * u;
        const lower = value(bottom * columns + left, k) * (1 - u) + value(bottom * columns + right, k) * u;
        out[to + k] = roundHalfEven(upper * (1 - v) + lower * v);
      }
      out[to + 3] = 255;
    }
  }
  return out;
}

/** `values` (one a pixel: labels, probabilities) resized to newRows x newColumns by the
 *  nearest pixel, as resize(order=0); of the same typed array kind. */
export function resizeNearest(values, rows, columns, newRows, newColumns) {
  const out = new values.constructor(newRows * newColumns);
  const nearest = (index, length, newLength) =>
    Math.min(Math.max(Math.round((index + 0.5) * (length / newLength) - 0.5), 0), length - 1);
  const sources = Int32Array.from({ length: newColumns }, (_, c) => nearest(c, columns, newColumns));
  for (let r = 0; r < newRows; r++) {
    const row = nearest(r, rows, newRows) * columns;
    for (let c = 0; c < newColumns; c++) out[r * newColumns + c] = values[row + sources[c]];
  }
  return out;
}

/** Labels numbered 1..N again in label order (relabel_sequential): `{ labels, kept }`,
 *  kept[i] the old label of new label i + 1. */
export function relabelSequential(labels) {
  let largest = 0;
  for (let index = 0; index < labels.length; index++) if (labels[index] > largest) largest = labels[index];
  const present = new Uint8Array(largest + 1);
  for (let index = 0; index < labels.length; index++) present[labels[index]] = 1;
  const lookup = new Int32Array(largest + 1);
  const kept = [];
  for (let label = 1; label <= largest; label++) {
    if (present[label]) {
      kept.push(label);
      lookup[label] = kept.length;
    }
  }
  return { labels: Int32Array.from(labels, (label) => lookup[label]), kept };
}

/**
 * Labels resized to newRows x newColumns by nearest neighbour, then numbered 1..N again:
 * a cell too small to keep a pixel disappears.
 */
export function resizeLabels(labels, rows, columns, newRows, newColumns) {
  return relabelSequential(resizeNearest(labels, rows, columns, newRows, newColumns)).labels;
}

/** Cells found on an image enlarged to bigRows x bigColumns brought back to rows x
 *  columns (rescaled): their labels numbered 1..N again, each keeping its confidence. */
export function rescaledCells(found, bigRows, bigColumns, rows, columns) {
  const back = relabelSequential(resizeNearest(found.labels, bigRows, bigColumns, rows, columns));
  return { labels: back.labels, confidence: Float64Array.from(back.kept, (label) => found.confidence[label - 1]) };
}
