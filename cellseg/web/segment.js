// From the network's output to counted cells, as TrainedModel does it (find_cells,
// choose_scale's trials, rescaled): the cells decoded with the thresholds, each one's
// confidence, the least confident left out. Arrays in, arrays out; the worker runs the
// network and hands its outputs here. No DOM: the Web Worker and Node (tests) run it.

import { cellsFromOutput } from "./cells.js";
import { calibrate, cellProbability, cellScores, keepConfident } from "./confidence.js";
import { scaleTrial } from "./scale.js";

/**
 * The cells of a network output (Float32Array, rows x columns x channels) and their
 * confidences, as TrainedModel.find_cells with the settings of model.json: `{ labels,
 * confidence, probability }`, labels 1..N, confidence[i] that of cell i + 1, and each
 * pixel's cell probability (what a click grows a missed cell on).
 */
export function findCells(output, rows, columns, channels, settings) {
  const thresholds = settings.postprocessing;
  const labels = cellsFromOutput(output, rows, columns, channels, settings.target, thresholds);
  const probability = cellProbability(output, rows * columns, channels, settings.target);
  const confidence = calibrate(cellScores(probability, labels), settings.calibration);
  const kept = keepConfident(labels, confidence, thresholds.min_confidence || 0);
  return { labels: kept.labels, confidence: kept.confidence, probability };
}

/** One trial of "auto" on the crop enlarged by `scale` (TrainedModel.choose_scale): the
 *  cells decoded from its output, how many, their mean raw score and median area. */
export function trialOfOutput(scale, output, rows, columns, channels, settings) {
  const labels = cellsFromOutput(output, rows, columns, channels, settings.target, settings.postprocessing);
  const scores = cellScores(cellProbability(output, rows * columns, channels, settings.target), labels);
  return scaleTrial(scale, labels, scores);
}
