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
 * 1-based ranks, ties sharing the mean of the ranks they span. Sorts a copy natively (a typed array
 * sort without a comparator, several times faster than sorting indices with one), gives each
 * distinct value the mean rank of its run of equals — the run [lo, hi) holds ranks lo+1 … hi, mean
 * (lo+1+hi)/2 — and looks each value up (measured: half the time of a binary search per value).
 */
export function averageRanks(values: Float64Array): Float64Array {
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

/** A comma-separated list of numbers (PostgreSQL's string_agg of the series) as a typed array. */
export function parseSeries(text: string): Float64Array {
  if (text === '') return new Float64Array(0);
  const parts = text.split(',');
  const out = new Float64Array(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = Number(parts[i]);
  return out;
}
