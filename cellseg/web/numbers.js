// Arithmetic as numpy and Python do it, where the page must give their numbers exactly:
// numpy's pairwise summation (sum, mean), its median, Python's round() and numpy's rint
// (halves to even), and numbers written as Python writes them in a CSV file.

/** The sum of `values` in numpy's order (pairwise: blocks of 8 partial sums, halves
 *  split at multiples of 8 past 128), so that float64 sums agree to the last bit. */
export function pairwiseSum(values, start = 0, length = values.length - start) {
  if (length < 8) {
    let sum = -0; // numpy starts from -0.0 ... and an empty sum is 0
    for (let index = start; index < start + length; index++) sum += values[index];
    return length ? sum : 0;
  }
  if (length <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => values[start + k]);
    const whole = length - (length % 8);
    for (let index = 8; index < whole; index += 8) {
      for (let k = 0; k < 8; k++) r[k] += values[start + index + k];
    }
    let sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (let index = whole; index < length; index++) sum += values[start + index];
    return sum;
  }
  let half = Math.floor(length / 2);
  half -= half % 8;
  return pairwiseSum(values, start, half) + pairwiseSum(values, start + half, length - half);
}

/** numpy's mean: the pairwise sum divided by the count (0 for none, where numpy warns). */
export function mean(values) {
  return values.length ? pairwiseSum(values) / values.length : 0;
}

/** numpy's median: the middle value, or the mean of the two middle ones. */
export function median(values) {
  if (!values.length) return 0;
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** numpy's rint and Python's round(x): the nearest integer, halves to the even one. */
export function roundHalfEven(value) {
  const nearest = Math.round(value);
  return nearest - value === 0.5 && nearest % 2 !== 0 ? nearest - 1 : nearest;
}

/** Python's round(value, digits) for a float: the exact decimal value of the double
 *  rounded to `digits` decimals, halves to even. */
export function pyRound(value, digits) {
  if (!Number.isFinite(value)) return value;
  const rounded = Number(value.toFixed(digits));
  // toFixed rounds exact halves away from zero; Python to even. A half is exact only when
  // the double's decimal expansion stops at the digit after the last one kept.
  const long = Math.abs(value).toFixed(Math.min(digits + 30, 100));
  const after = long.slice(long.indexOf(".") + 1 + digits);
  if (!/^50*$/.test(after)) return rounded;
  const scaled = Math.abs(rounded) * 10 ** digits;
  if (Math.round(scaled) % 2 === 0) return rounded;
  const down = Math.sign(value) * (Math.round(scaled) - 1) / 10 ** digits;
  return Number(down.toFixed(digits));
}

/** How Python writes a number in a CSV file (csv writes str(value)): floats as repr
 *  ("1.0", "0.1234", "1e-05"), integers as they are; null and undefined as an empty cell. */
export function pythonText(value, isFloat = !Number.isInteger(value)) {
  if (value === null || value === undefined || value === "") return "";
  if (typeof value !== "number") return String(value);
  if (!isFloat) return String(value);
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const size = Math.abs(value);
  if (value !== 0 && (size < 1e-4 || size >= 1e16)) {
    const [mantissa, exponent] = value.toExponential().split("e");
    const power = Number(exponent);
    return `${mantissa}e${power < 0 ? "-" : "+"}${String(Math.abs(power)).padStart(2, "0")}`;
  }
  const text = String(value);
  return Number.isInteger(value) ? `${text}.0` : text;
}
