/**
 * Leak detection for the soak test (pure: numbers in, verdict out).
 *
 * A least-squares line is fitted to the later part of a series (by default its second half, so the
 * warm-up — JIT, caches, pools filling — is left out) and the slope gets a one-sided 95 % confidence
 * bound. A series "leaks" only when even the lower bound of its slope is above the tolerance: a
 * trend beyond noise, not a noisy wiggle.
 *
 * Samples of a running process are not independent (a GC sawtooth, a broker outage that lasts
 * several samples), and treating them as independent makes the bound far too tight. The standard
 * error is therefore widened by the lag-1 autocorrelation of the residuals (the usual AR(1)
 * "effective sample size" correction), which is what keeps a flat-but-wavy RSS from being flagged.
 */

export interface SeriesPoint {
  /** Seconds since the start of the run. */
  t: number;
  value: number;
}

export interface TrendOptions {
  /** Largest slope (units per hour) that is not a leak. */
  tolerancePerHour: number;
  /** Where the fitted window starts, as a fraction of the run's duration (0.5 = second half). */
  fromFraction?: number;
}

export interface TrendVerdict {
  /** Points in the fitted window. */
  n: number;
  /** Effective number of independent points after the autocorrelation correction. */
  effectiveN: number;
  lag1Autocorrelation: number;
  slopePerHour: number;
  /** One-sided 95 % bounds of the slope (lower: "at least this steep"). */
  lowerPerHour: number;
  upperPerHour: number;
  tolerancePerHour: number;
  /** Too few (effective) points to bound a slope: never judged a leak, but reported. */
  enoughData: boolean;
  leak: boolean;
}

const SECONDS_PER_HOUR = 3600;
/** One-sided 95 % quantile of the standard normal. */
const Z_95 = 1.6448536269514722;
/** A line through fewer than three effective points has no spread to bound it: "not enough data". */
const MIN_EFFECTIVE_N = 3;

export interface LineFit {
  slope: number;
  intercept: number;
  /** Standard error of the slope, assuming independent residuals. */
  slopeStdError: number;
  residuals: number[];
}

/** Ordinary least squares of value on t. */
export function fitLine(points: readonly SeriesPoint[]): LineFit {
  const n = points.length;
  if (n < 2) return { slope: 0, intercept: points[0]?.value ?? 0, slopeStdError: Infinity, residuals: points.map(() => 0) };
  const meanT = points.reduce((s, p) => s + p.t, 0) / n;
  const meanV = points.reduce((s, p) => s + p.value, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.t - meanT) ** 2;
    sxy += (p.t - meanT) * (p.value - meanV);
  }
  if (sxx === 0) return { slope: 0, intercept: meanV, slopeStdError: Infinity, residuals: points.map((p) => p.value - meanV) };
  const slope = sxy / sxx;
  const intercept = meanV - slope * meanT;
  const residuals = points.map((p) => p.value - (intercept + slope * p.t));
  const sse = residuals.reduce((s, r) => s + r * r, 0);
  const slopeStdError = n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : Infinity;
  return { slope, intercept, slopeStdError, residuals };
}

/** Lag-1 autocorrelation of a series (0 for a constant one). */
export function lag1Autocorrelation(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 3) return 0;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - mean;
    den += d * d;
    if (i > 0) num += d * (xs[i - 1]! - mean);
  }
  return den === 0 ? 0 : num / den;
}

/** One-sided 95 % quantiles of Student's t for 1–10 degrees of freedom (standard table values). */
const T95_SMALL_DF = [6.314, 2.92, 2.353, 2.132, 2.015, 1.943, 1.895, 1.86, 1.833, 1.812];

/**
 * One-sided 95 % quantile of Student's t with `df` degrees of freedom (df may be fractional: it
 * comes from the effective sample size). Up to 10 from the table, interpolated; beyond, the
 * Cornish–Fisher expansion around the normal quantile, within 0.1 % there.
 */
export function studentT95(df: number): number {
  if (df < 1) return Infinity;
  if (df <= T95_SMALL_DF.length) {
    const lo = Math.floor(df);
    const hi = Math.min(T95_SMALL_DF.length, lo + 1);
    const a = T95_SMALL_DF[lo - 1]!;
    const b = T95_SMALL_DF[hi - 1]!;
    return a + (b - a) * (df - lo);
  }
  const z = Z_95;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2) + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3);
}

/** The window a verdict is computed on: points from `fromFraction` of the run's duration onwards. */
export function laterPart(points: readonly SeriesPoint[], fromFraction: number): SeriesPoint[] {
  if (points.length === 0) return [];
  const start = points[0]!.t;
  const end = points[points.length - 1]!.t;
  const cut = start + (end - start) * fromFraction;
  return points.filter((p) => p.t >= cut);
}

export function judgeTrend(points: readonly SeriesPoint[], options: TrendOptions): TrendVerdict {
  const window = laterPart(
    points.filter((p) => Number.isFinite(p.value)),
    options.fromFraction ?? 0.5,
  );
  const fit = fitLine(window);
  // Negative autocorrelation would shrink the bound below the independent case: never trust that.
  const rho = Math.min(0.99, Math.max(0, lag1Autocorrelation(fit.residuals)));
  const n = window.length;
  const effectiveN = n * ((1 - rho) / (1 + rho));
  const enoughData = effectiveN >= MIN_EFFECTIVE_N && Number.isFinite(fit.slopeStdError);
  const slopePerHour = fit.slope * SECONDS_PER_HOUR;
  let halfWidth = Infinity;
  if (enoughData) {
    const widened = fit.slopeStdError * Math.sqrt((n - 2) / (effectiveN - 2));
    halfWidth = studentT95(effectiveN - 2) * widened * SECONDS_PER_HOUR;
  }
  const lowerPerHour = slopePerHour - halfWidth;
  return {
    n,
    effectiveN,
    lag1Autocorrelation: rho,
    slopePerHour,
    lowerPerHour,
    upperPerHour: slopePerHour + halfWidth,
    tolerancePerHour: options.tolerancePerHour,
    enoughData,
    leak: enoughData && lowerPerHour > options.tolerancePerHour,
  };
}
