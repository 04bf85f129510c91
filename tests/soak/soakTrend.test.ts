/**
 * The soak test's leak verdict on synthetic series shaped like what a daemon's RSS really does:
 * noise and GC sawtooth around a plateau must pass, a steady leak must fail, and a warm-up step
 * followed by a plateau must pass because only the second half is judged.
 */
import { describe, expect, it } from 'vitest';
import { fitLine, judgeTrend, lag1Autocorrelation, studentT95, type SeriesPoint } from '../../scripts/lib/soakTrend.js';

const MB = 2 ** 20;

/** A seeded generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gaussian noise (Box–Muller). */
function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** A 60-minute run sampled every 5 s. */
function series(valueAt: (tS: number, i: number) => number, minutes = 60, everyS = 5): SeriesPoint[] {
  return Array.from({ length: (minutes * 60) / everyS + 1 }, (_, i) => ({ t: i * everyS, value: valueAt(i * everyS, i) }));
}

const RSS_TOLERANCE = { tolerancePerHour: 1 * MB };

describe('fitLine', () => {
  it('recovers the slope and intercept of an exact line', () => {
    const fit = fitLine([0, 1, 2, 3, 4].map((t) => ({ t, value: 3 + 2 * t })));
    expect(fit.slope).toBeCloseTo(2, 12);
    expect(fit.intercept).toBeCloseTo(3, 12);
    expect(fit.slopeStdError).toBeCloseTo(0, 12);
  });

  it('gives no bound for fewer than three points or a single instant', () => {
    expect(fitLine([{ t: 0, value: 1 }]).slopeStdError).toBe(Infinity);
    expect(fitLine([{ t: 5, value: 1 }, { t: 5, value: 2 }]).slopeStdError).toBe(Infinity);
  });
});

describe('helpers', () => {
  it('measures lag-1 autocorrelation: near 1 for a slow wave, negative for alternation', () => {
    expect(lag1Autocorrelation(Array.from({ length: 200 }, (_, i) => Math.sin(i / 20)))).toBeGreaterThan(0.95);
    expect(lag1Autocorrelation(Array.from({ length: 200 }, (_, i) => (i % 2 ? 1 : -1)))).toBeLessThan(-0.9);
    expect(lag1Autocorrelation([4, 4, 4, 4])).toBe(0);
  });

  it('approximates the one-sided 95 % Student t quantile', () => {
    // Reference values from statistical tables.
    expect(studentT95(1)).toBeCloseTo(6.314, 3);
    expect(studentT95(1.5)).toBeGreaterThan(2.92);
    expect(studentT95(1.5)).toBeLessThan(6.314);
    expect(studentT95(0.5)).toBe(Infinity);
    expect(studentT95(5)).toBeCloseTo(2.015, 3);
    expect(studentT95(11)).toBeCloseTo(1.796, 2);
    expect(studentT95(10)).toBeCloseTo(1.812, 2);
    expect(studentT95(30)).toBeCloseTo(1.697, 2);
    expect(studentT95(1e6)).toBeCloseTo(1.645, 3);
  });
});

describe('judgeTrend', () => {
  it('passes a flat series with noise', () => {
    const noise = gaussian(random(1));
    const verdict = judgeTrend(
      series(() => 180 * MB + 2 * MB * noise()),
      RSS_TOLERANCE,
    );
    expect(verdict.enoughData).toBe(true);
    expect(verdict.n).toBe(361);
    expect(verdict.lowerPerHour).toBeLessThan(verdict.tolerancePerHour);
    expect(verdict.leak).toBe(false);
  });

  it('passes a flat series with a GC sawtooth (autocorrelated, not a trend)', () => {
    const noise = gaussian(random(2));
    // Heap climbs for 90 s then a major GC drops it: 16 sawtooth periods over the hour.
    const verdict = judgeTrend(
      series((t) => 60 * MB + 20 * MB * ((t % 225) / 225) + 0.5 * MB * noise()),
      RSS_TOLERANCE,
    );
    expect(verdict.leak).toBe(false);
    expect(verdict.lag1Autocorrelation).toBeGreaterThan(0.5);
    expect(verdict.effectiveN).toBeLessThan(verdict.n);
  });

  it('fails a real leak: 5 MB/hour under 2 MB of noise', () => {
    const noise = gaussian(random(3));
    const verdict = judgeTrend(
      series((t) => 180 * MB + (5 * MB * t) / 3600 + 2 * MB * noise()),
      RSS_TOLERANCE,
    );
    expect(verdict.leak).toBe(true);
    expect(verdict.slopePerHour / MB).toBeGreaterThan(3);
    expect(verdict.slopePerHour / MB).toBeLessThan(7);
    expect(verdict.lowerPerHour).toBeGreaterThan(verdict.tolerancePerHour);
  });

  it('still fails a leak hidden under a GC sawtooth (the autocorrelation widening does not blind it)', () => {
    const noise = gaussian(random(6));
    const verdict = judgeTrend(
      series((t) => 60 * MB + 20 * MB * ((t % 225) / 225) + (20 * MB * t) / 3600 + 0.5 * MB * noise()),
      RSS_TOLERANCE,
    );
    expect(verdict.leak).toBe(true);
  });

  it('fails a slow descriptor leak (one fd every 5 minutes), but not a constant fd count', () => {
    expect(judgeTrend(series((t) => 40 + Math.floor(t / 300)), { tolerancePerHour: 1 }).leak).toBe(true);
    expect(judgeTrend(series(() => 40), { tolerancePerHour: 1 }).leak).toBe(false);
  });

  it('passes a warm-up step followed by a plateau (only the second half is judged)', () => {
    const noise = gaussian(random(4));
    const points = series((t) => (t < 600 ? 120 * MB + (60 * MB * t) / 600 : 180 * MB) + 1 * MB * noise());
    const secondHalf = judgeTrend(points, RSS_TOLERANCE);
    expect(secondHalf.leak).toBe(false);
    expect(Math.abs(secondHalf.slopePerHour)).toBeLessThan(1 * MB);
    // Fitted over the whole run, the same warm-up reads as a steep slope: the window is what removes it.
    expect(judgeTrend(points, { ...RSS_TOLERANCE, fromFraction: 0 }).slopePerHour).toBeGreaterThan(10 * MB);
  });

  it('never calls a leak on too few points, and says so', () => {
    const verdict = judgeTrend(
      [0, 1, 2, 3].map((i) => ({ t: i * 5, value: i * MB })),
      RSS_TOLERANCE,
    );
    expect(verdict.enoughData).toBe(false);
    expect(verdict.leak).toBe(false);
  });

  it('ignores samples that could not be read (NaN)', () => {
    const noise = gaussian(random(5));
    const points = series((_t, i) => (i % 7 === 0 ? NaN : 180 * MB + MB * noise()));
    const verdict = judgeTrend(points, RSS_TOLERANCE);
    expect(Number.isFinite(verdict.slopePerHour)).toBe(true);
    expect(verdict.leak).toBe(false);
  });
});
