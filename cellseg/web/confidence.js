// How sure the model is of each cell, and of a count: the browser's twin of
// cellseg.postprocessing.confidence and of TrainedModel.find_cells's last step.
//
// A cell's raw score is the mean of the network's cell probability over its pixels (on the
// output as it is, not smoothed); the model's calibration maps it to the probability that
// the cell is a real nucleus; cells under the model's min_confidence are left out. The
// confidences of the cells counted and the model's count_spread give the count's 95%
// interval. No DOM: the Web Worker, the page and Node (tests) run it.

import { CONFIDENCE_EDGE as EDGE } from "./constants.js";
import { pairwiseSum, pyRound } from "./numbers.js";

// Scores are kept off 0 and 1 (by EDGE) before their logit.
// The interval's level is 95%: the normal quantile of 0.975 (scipy's ndtri).
const NORMAL_975 = 1.959963984540054;

/** Each pixel's probability, 0..1, of being in a cell, as Target.cell_probability: one
 *  less the background's for the class targets, the first channel clipped otherwise. */
export function cellProbability(output, pixels, channels, target) {
  const probability = new Float32Array(pixels);
  const classes = target === "3class" || target === "hover";
  for (let index = 0; index < pixels; index++) {
    const value = output[index * channels];
    probability[index] = classes ? 1 - value : Math.min(Math.max(value, 0), 1);
  }
  return probability;
}

/** The mean of `probability` over each cell of `labels`, cells 1..N (N the largest label);
 *  0 for a label with no pixel (cell_scores). */
export function cellScores(probability, labels) {
  let count = 0;
  for (let index = 0; index < labels.length; index++) if (labels[index] > count) count = labels[index];
  const sums = new Float64Array(count + 1);
  const areas = new Float64Array(count + 1);
  for (let index = 0; index < labels.length; index++) {
    const label = labels[index];
    if (!label) continue;
    sums[label] += probability[index];
    areas[label] += 1;
  }
  const scores = new Float64Array(count);
  for (let label = 1; label <= count; label++) scores[label - 1] = areas[label] ? sums[label] / areas[label] : 0;
  return scores;
}

/** Calibrated confidences of raw scores: sigmoid(slope * logit(score) + intercept), the
 *  score clipped to 1e-4..1 - 1e-4 first (Calibration.confidence). */
export function calibrate(scores, calibration) {
  const slope = calibration ? Number(calibration.slope) : 1;
  const intercept = calibration ? Number(calibration.intercept) : 0;
  return Float64Array.from(scores, (score) => {
    const clipped = Math.min(Math.max(score, EDGE), 1 - EDGE);
    return 1 / (1 + Math.exp(-(slope * Math.log(clipped / (1 - clipped)) + intercept)));
  });
}

/** The cells at least `minimum` confident, numbered 1..N again in order, and their
 *  confidences (TrainedModel.find_cells); all of them when `minimum` is 0. */
export function keepConfident(labels, confidence, minimum) {
  if (!(minimum > 0) || !confidence.length) return { labels, confidence };
  const lookup = new Int32Array(confidence.length + 1);
  const kept = [];
  for (let label = 1; label <= confidence.length; label++) {
    if (confidence[label - 1] >= minimum) {
      kept.push(confidence[label - 1]);
      lookup[label] = kept.length;
    }
  }
  return { labels: labels.map((label) => lookup[label]), confidence: Float64Array.from(kept) };
}

/**
 * The expected number of real nuclei among cells of these confidences (their sum, to 2
 * decimals), and the 95% interval of the nuclei in the image (count_interval): the count,
 * give or take each cell's doubt and the model's relative count error `spread` (its
 * count_spread; 0 or null: the cells' doubt alone). `{ expected, low, high }`.
 */
export function countInterval(confidences, spread = 0) {
  const confidence = Float64Array.from(confidences, (value) => Math.min(Math.max(value, 0), 1));
  const count = confidence.length;
  const variance = pairwiseSum(confidence.map((p) => p * (1 - p))) + ((spread || 0) * count) ** 2;
  const half = NORMAL_975 * Math.sqrt(variance);
  return {
    expected: pyRound(pairwiseSum(confidence), 2),
    low: Math.max(Math.floor(count - half), 0),
    high: Math.ceil(count + half),
  };
}
