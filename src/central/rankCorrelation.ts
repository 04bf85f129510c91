/**
 * Pearson and Spearman correlation of two equally long series, for the fleet correlation query.
 *
 * Why here and not in SQL: ranking every store-hour of a period in PostgreSQL (two window sorts of
 * a million rows for 500 stores × 90 days) took 6–10 s on the 2-core test machine, while fetching
 * each store's hourly series and ranking them here takes a fraction of that (docs in
 * scripts/benchCentral.ts). The SQL function fleet_footfall_sales_correlation stays, for SQL users,
 * and the tests check that both agree.
 */

/**
 * 1-based ranks, ties sharing the mean of the ranks they span. Footfall is a small whole number per
 * hour, so when every value is an integer within a range not much wider than the series, the ranks
 * come from a counting pass (no sort: the value indexes its count; measured several times faster
 * than the sort below on 1M values). Otherwise a copy is sorted natively (a typed array sort without
 * a comparator, several times faster than sorting indices with one), each distinct value gets the
 * mean rank of its run of equals — the run [lo, hi) holds ranks lo+1 … hi, mean (lo+1+hi)/2 — and
 * each value is looked up (measured: half the time of a binary search per value).
 */
export function averageRanks(values: Float64Array): Float64Array {
  return countingRanks(values) ?? sortingRanks(values);
}

/** The counting pass of averageRanks, or undefined when the values are not suited to it. */
function countingRanks(values: Float64Array): Float64Array | undefined {
  const n = values.length;
  if (n === 0) return new Float64Array(0);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v)) return undefined; // also NaN and ±Infinity
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min + 1;
  if (span > 4 * n + 1024) return undefined;
  const count = new Float64Array(span);
  for (let i = 0; i < n; i++) count[values[i]! - min]! += 1;
  // count[k] becomes the mean rank of value min+k: the values below it hold ranks 1 … below, its own
  // c copies hold below+1 … below+c, mean below + (c+1)/2.
  let below = 0;
  for (let k = 0; k < span; k++) {
    const c = count[k]!;
    count[k] = below + (c + 1) / 2;
    below += c;
  }
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; i++) ranks[i] = count[values[i]! - min]!;
  return ranks;
}

function sortingRanks(values: Float64Array): Float64Array {
  const sorted = Float64Array.from(values).sort();
  const rankOf = new Map<number, number>();
  for (let lo = 0; lo < sorted.length; ) {
    let hi = lo + 1;
    while (hi < sorted.length && sorted[hi] === sorted[lo]) hi++;
    rankOf.set(sorted[lo]!, (lo + 1 + hi) / 2);
    lo = hi;
  }
  const ranks = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) ranks[i] = rankOf.get(values[i]!)!;
  return ranks;
}

/** Pearson's r; null with fewer than two pairs or when either series does not vary (as SQL's corr). */
export function pearson(x: Float64Array, y: Float64Array): number | null {
  const n = x.length;
  if (n < 2 || y.length !== n) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
}

export function spearman(x: Float64Array, y: Float64Array): number | null {
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * A comma-separated list of numbers (PostgreSQL's string_agg of the series: bigint and numeric text)
 * as a typed array, equal to Number() of each element; `length`, when known, is checked. Parsed in
 * one pass over the character codes: split() and Number() on a million substrings were most of the
 * correlation's time (measured ~0.9 s of 1.9 s). A plain decimal of at most 15 digits is its digits
 * as an integer (exact below 2^53) divided by a power of ten (exact up to 10^22): one correctly
 * rounded division, so exactly the double Number() gives. Anything else (more digits, exponents,
 * NaN) goes to Number().
 */
export function parseSeries(text: string, length?: number): Float64Array {
  if (text === '') {
    if (length !== undefined && length !== 0) throw new Error(`series of ${length} values is empty`);
    return new Float64Array(0);
  }
  let n = length;
  if (n === undefined) {
    n = 1;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === COMMA) n++;
  }
  const out = new Float64Array(n);
  let k = 0;
  let start = 0;
  let mantissa = 0;
  let digits = 0;
  let fraction = -1; // digits after the point; -1 before it
  let negative = false;
  let plain = true;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : COMMA;
    if (c === COMMA) {
      if (k === n) throw new Error(`series has more than ${n} values`);
      if (plain && digits > 0 && digits <= 15) {
        const value = fraction > 0 ? mantissa / POWERS_OF_TEN[fraction]! : mantissa;
        out[k++] = negative ? -value : value;
      } else {
        out[k++] = Number(text.slice(start, i));
      }
      start = i + 1;
      mantissa = 0;
      digits = 0;
      fraction = -1;
      negative = false;
      plain = true;
    } else if (c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      if (fraction >= 0) fraction++;
    } else if (c === DOT && fraction < 0) {
      fraction = 0;
    } else if (c === MINUS && i === start) {
      negative = true;
    } else {
      plain = false;
    }
  }
  if (k !== n) throw new Error(`series has ${k} values, want ${n}`);
  return out;
}

const COMMA = 44;
const DOT = 46;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);
