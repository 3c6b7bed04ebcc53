// Which cells are DAB-positive, only when asked: the browser's twin of
// cellseg.postprocessing.positivity (positive, auto_positive_threshold). A cell is positive
// when its mean DAB optical density reaches the threshold; "auto" tells the threshold from
// one image's cells, when they make two groups. No DOM: the page and Node run it.

import { BIC_MARGIN, LEAST_DAB_GAP, LOWEST_DAB } from "./constants.js";
import { pairwiseSum, pyRound } from "./numbers.js";

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

const meanOf = (values) => pairwiseSum(values) / values.length;
const stdOf = (values) => {
  const average = meanOf(values);
  return Math.sqrt(pairwiseSum(values.map((value) => (value - average) * (value - average))) / values.length);
};

/** numpy's quantile (linear) of sorted `values` at `share`. */
function quantile(sorted, share) {
  const n = sorted.length;
  const at = n * share + (1 + share * (1 - 1 - 1)) - 1;
  const below = Math.min(Math.max(Math.floor(at), 0), n - 1);
  const above = Math.min(below + 1, n - 1);
  const gamma = at - Math.floor(at);
  const [a, b] = [sorted[below], sorted[above]];
  const step = b - a;
  return gamma >= 0.5 ? b - step * (1 - gamma) : a + step * gamma;
}

/** log(weight x normal density) of `value` in each group. */
function logDensities(value, weights, means, spreads) {
  return [0, 1].map((k) => {
    const distance = (value - means[k]) / spreads[k];
    return Math.log(weights[k]) - Math.log(spreads[k]) - 0.5 * distance ** 2 - HALF_LOG_TWO_PI;
  });
}

/** A mixture of two normal groups fitted to `values` by expectation maximisation from
 *  splits at several quantiles, the likeliest kept (two_groups). */
export function twoGroups(values, iterations = 300) {
  const n = values.length;
  const floor = Math.max(1e-3, 0.01 * stdOf(values));
  const sorted = Float64Array.from(values).sort();
  let best = null;
  for (const share of [0.05, 0.25, 0.5, 0.75, 0.95]) {
    const cut = quantile(sorted, share);
    const lower = values.filter((value) => value <= cut);
    const upper = values.filter((value) => !(value <= cut));
    if (!lower.length || !upper.length) continue;
    let weights = [lower.length / n, 1 - lower.length / n];
    let means = [meanOf(lower), meanOf(upper)];
    let spreads = [Math.max(stdOf(lower), floor), Math.max(stdOf(upper), floor)];
    const responsibility = [new Float64Array(n), new Float64Array(n)];
    for (let step = 0; step < iterations; step++) {
      for (let i = 0; i < n; i++) {
        const parts = logDensities(values[i], weights, means, spreads);
        const peak = Math.max(parts[0], parts[1]);
        const first = Math.exp(parts[0] - peak);
        const second = Math.exp(parts[1] - peak);
        responsibility[0][i] = first / (first + second);
        responsibility[1][i] = second / (first + second);
      }
      const totals = responsibility.map((row) => pairwiseSum(row) + 1e-12);
      weights = totals.map((total) => total / n);
      means = responsibility.map((row, k) => pairwiseSum(row.map((share, i) => share * values[i])) / totals[k]);
      spreads = responsibility.map((row, k) => Math.max(Math.sqrt(
        pairwiseSum(row.map((share, i) => share * (values[i] - means[k]) ** 2)) / totals[k]), floor));
    }
    const likelihood = pairwiseSum(Float64Array.from(values, (value) => {
      const parts = logDensities(value, weights, means, spreads);
      const peak = Math.max(parts[0], parts[1]);
      return peak + Math.log(Math.exp(parts[0] - peak) + Math.exp(parts[1] - peak));
    }));
    if (best === null || likelihood > best.likelihood) best = { weights, means, spreads, likelihood };
  }
  return best;
}

/**
 * The DAB threshold told from one image's cells' mean DAB densities (auto_positive_threshold):
 * two normal groups fitted to their logarithms, the threshold where a cell has even odds
 * of either, rounded to 4 decimals; null when one group explains them about as well (the
 * Bayesian information criterion) or the groups are too close: all negative, as in H&E.
 */
export function autoPositiveThreshold(dab) {
  const finite = Array.from(dab).filter((value) => Number.isFinite(value));
  if (finite.length < 10 || finite.every((value) => value === finite[0])) return null;
  const values = Float64Array.from(finite, (value) => Math.log(Math.max(value, LOWEST_DAB)));
  const { weights, means, spreads, likelihood } = twoGroups(values);
  const spread = Math.max(stdOf(values), 1e-3);
  const average = meanOf(values);
  const one = pairwiseSum(values.map((value) => logDensities(value, [1, 1], [average, average], [spread, spread])[0]));
  const gained = 2 * (likelihood - one) - 3 * Math.log(values.length);
  const [low, high] = means[0] <= means[1] ? [0, 1] : [1, 0];
  if (gained < BIC_MARGIN || Math.exp(means[high]) - Math.exp(means[low]) < LEAST_DAB_GAP) return null;
  const places = 2001;
  const stepSize = (means[high] - means[low]) / (places - 1);
  let even = means[low];
  let closest = Infinity;
  for (let index = 0; index < places; index++) {
    const place = index === places - 1 ? means[high] : index * stepSize + means[low];
    const odds = logDensities(place, weights, means, spreads);
    const gap = Math.abs(odds[low] - odds[high]);
    if (gap < closest) {
      closest = gap;
      even = place;
    }
  }
  return pyRound(Math.exp(even), 4);
}

/**
 * The DAB threshold for one image's cells under `positivity` ({ on, threshold }: a number,
 * or "auto"): undefined when positivity is off, null when "auto" finds no positive group.
 */
export function thresholdFor(cells, positivity) {
  if (!positivity || !positivity.on) return undefined;
  if (positivity.threshold === "auto") return autoPositiveThreshold(cells.map((cell) => cell.dab));
  return Number(positivity.threshold);
}

/** Whether each cell is positive at `threshold` (none when it is null). */
export function positives(cells, threshold) {
  return cells.map((cell) => threshold !== null && threshold !== undefined && cell.dab >= threshold);
}
