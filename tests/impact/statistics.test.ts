/**
 * The impact statistics on hand-made cases: quantiles against tabulated values, the stratified
 * before/after lift against figures worked out by hand, weekday balancing, difference-in-differences
 * and the refusals (no data, too few days).
 */
import { describe, expect, it } from 'vitest';
import { normalQuantile, studentTQuantile } from '../../src/analytics/impact/quantiles.js';
import { estimateLift, verdictOf, type ContrastTerm, type ObservedUnit } from '../../src/analytics/impact/stratifiedLift.js';

const SUBJECT: ContrastTerm[] = [{ component: 0, exponent: 1, label: 'visits to zone:promo' }];
const VS_CONTROL: ContrastTerm[] = [...SUBJECT, { component: 1, exponent: -1, label: 'visits to the control' }];

const unit = (side: 'before' | 'after', stratum: number, ...values: number[]): ObservedUnit => ({ side, stratum, values });

function interval(units: ObservedUnit[], contrast = SUBJECT) {
  const r = estimateLift(units, contrast);
  if (!r.ok) throw new Error(r.reason);
  return r.interval;
}

describe('quantiles', () => {
  it('match the tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    // Student t, 97.5 %: exact for 1 and 2 df, expansion from 3 on.
    const table: [number, number][] = [[1, 12.7062], [2, 4.3027], [3, 3.1824], [4, 2.7764], [5, 2.5706], [10, 2.2281], [42, 2.0181], [200, 1.9719]];
    for (const [df, t] of table) expect(Math.abs(studentTQuantile(0.975, df) - t) / t, `df ${df}`).toBeLessThan(0.002);
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(-studentTQuantile(0.975, 10), 10);
  });

  it('refuse impossible arguments', () => {
    expect(() => normalQuantile(1)).toThrow(RangeError);
    expect(() => studentTQuantile(0.5, 0)).toThrow(RangeError);
  });
});

describe('stratified before/after lift', () => {
  it('reads an exact lift from noiseless days as a zero-width interval', () => {
    const units = [0, 1, 2, 3, 4, 5, 6].flatMap((w) => [unit('before', w, 100 + 10 * w), unit('before', w, 100 + 10 * w), unit('after', w, 1.2 * (100 + 10 * w)), unit('after', w, 1.2 * (100 + 10 * w))]);
    const i = interval(units);
    expect(i.lift).toBeCloseTo(0.2, 12);
    expect(i.low).toBeCloseTo(0.2, 12);
    expect(i.high).toBeCloseTo(0.2, 12);
    expect(i.weekdays).toBe(7);
    expect(i.before / i.weekdays).toBeCloseTo(130, 10); // mean visits per day
    expect(verdictOf(i)).toBe('increase');
  });

  it('gives the interval worked out by hand', () => {
    // One weekday, two days a side: before 10 and 14 (total 12), after 12 and 16 (total 14).
    // Linearised contributions: before 10/12, 14/12 (±1/6 around their mean), after 12/14, 16/14 (±1/7).
    // Pooled variance (2/36 + 2/49) / (4 − 2) = 1/36 + 1/49; Var(log ratio) = pooled/2 + pooled/2.
    const i = interval([unit('before', 0, 10), unit('before', 0, 14), unit('after', 0, 12), unit('after', 0, 16)]);
    const se = Math.sqrt(1 / 36 + 1 / 49);
    const t = 4.302653; // t(0.975, 2 df)
    expect(i.degreesOfFreedom).toBe(2);
    expect(i.standardError).toBeCloseTo(se, 12);
    expect(i.lift).toBeCloseTo(14 / 12 - 1, 12);
    expect(i.low).toBeCloseTo((14 / 12) * Math.exp(-t * se) - 1, 5);
    expect(i.high).toBeCloseTo((14 / 12) * Math.exp(t * se) - 1, 5);
    expect(verdictOf(i)).toBe('no significant change');
  });

  it('balances weekdays: a missing busy day does not read as a drop', () => {
    // Before lacks a Saturday (stratum 1 is the busy day), after has two: raw totals 300 vs 500.
    const units = [unit('before', 0, 100), unit('before', 0, 100), unit('before', 1, 200), unit('after', 0, 100), unit('after', 1, 200), unit('after', 1, 200)];
    const r = estimateLift(units, SUBJECT);
    // No variation inside any weekday: df = 6 − 4 = 2, zero variance, and exactly no change.
    expect(r.ok && r.interval.lift).toBe(0);
  });

  it('compares only weekdays seen on both sides', () => {
    const units = [unit('before', 0, 100), unit('before', 0, 104), unit('after', 0, 110), unit('after', 0, 114), unit('after', 3, 5000)];
    const i = interval(units);
    expect(i.unitsAfter).toBe(2);
    expect(i.lift).toBeCloseTo(112 / 102 - 1, 12);
  });

  it('takes out a trend shared with the control (ratio of ratios)', () => {
    // Everything grows 10 %; the subject gains nothing of its own.
    const units = [0, 1, 2].flatMap((w) => [
      unit('before', w, 50 + w, 100 + 3 * w),
      unit('before', w, 54 + w, 108 + 3 * w),
      unit('after', w, 1.1 * (50 + w), 1.1 * (100 + 3 * w)),
      unit('after', w, 1.1 * (54 + w), 1.1 * (108 + 3 * w)),
    ]);
    expect(interval(units).lift).toBeCloseTo(0.1, 12);
    const did = interval(units, VS_CONTROL);
    expect(did.lift).toBeCloseTo(0, 12);
    expect(verdictOf(did)).toBe('no significant change');
  });

  it('reads identical ratios as no change, whatever the rounding', () => {
    // Dwell 40 s on every visit in subject and control: θ is 1 on both sides up to the last bit.
    const units = [0, 1].flatMap((w) => [unit('before', w, 40 * 7, 7, 40 * 13, 13), unit('before', w, 40 * 9, 9, 40 * 11, 11), unit('after', w, 40 * 3, 3, 40 * 17, 17), unit('after', w, 40 * 5, 5, 40 * 19, 19)]);
    const dwellVsControl: ContrastTerm[] = [
      { component: 0, exponent: 1, label: 'dwell' },
      { component: 1, exponent: -1, label: 'visits' },
      { component: 2, exponent: -1, label: 'control dwell' },
      { component: 3, exponent: 1, label: 'control visits' },
    ];
    expect(verdictOf(interval(units, dwellVsControl))).toBe('no significant change');
    expect(verdictOf({ low: -1e-16, high: -1e-16 })).toBe('no significant change');
  });

  it('a decrease is a decrease', () => {
    const units = [0, 1].flatMap((w) => [unit('before', w, 100), unit('before', w, 104), unit('before', w, 98), unit('after', w, 70), unit('after', w, 74), unit('after', w, 71)]);
    const i = interval(units);
    expect(i.high).toBeLessThan(0);
    expect(verdictOf(i)).toBe('decrease');
  });

  it('says why it cannot answer: a zero total, no matching weekday, too few days', () => {
    const zero = estimateLift([unit('before', 0, 0), unit('before', 0, 0), unit('after', 0, 5), unit('after', 0, 6)], SUBJECT);
    expect(zero).toEqual({ ok: false, reason: 'no visits to zone:promo before the change' });
    const control = estimateLift([unit('before', 0, 3, 4), unit('before', 0, 3, 5), unit('after', 0, 5, 0), unit('after', 0, 6, 0)], VS_CONTROL);
    expect(control).toEqual({ ok: false, reason: 'no visits to the control after the change' });
    const unmatched = estimateLift([unit('before', 0, 5), unit('after', 1, 6)], SUBJECT);
    expect(unmatched).toEqual({ ok: false, reason: 'no weekday has data both before and after the change' });
    const few = estimateLift([unit('before', 0, 5), unit('before', 0, 6), unit('after', 0, 7)], SUBJECT);
    expect(few.ok).toBe(false);
    expect(!few.ok && few.reason).toMatch(/too few days/);
  });
});
