/**
 * Hourly and quarter-hour bins through the hour repeated when clocks go back. Found by the impact
 * analysis (weeks of hourly bins): west of Greenwich, binsBetween never got past the repeated hour,
 * which hung the request — and would hang the KPI recorder on that night. The fix is in
 * src/kpi/timeBins.ts (binStart); these cases belong with tests/kpi once reviewed.
 */
import { describe, expect, it } from 'vitest';
import { binsBetween, binStart } from '../../src/kpi/timeBins.js';

const HOUR = 3_600_000;

describe('bins across a DST fall-back', () => {
  it.each([
    ['America/New_York', '2026-11-01T00:00:00-04:00', '2026-11-02T00:00:00-05:00'],
    ['Europe/Paris', '2026-10-25T00:00:00+02:00', '2026-10-26T00:00:00+01:00'],
    ['America/Adak', '2026-11-01T00:00:00-09:00', '2026-11-02T00:00:00-10:00'],
  ])('%s: the 25-hour day has 25 consecutive hourly bins and 100 quarter hours', (timeZone, from, to) => {
    const start = Date.parse(from);
    const end = Date.parse(to);
    const hours = binsBetween(start, end, '1h', timeZone);
    expect(hours).toHaveLength(25);
    hours.forEach((b, i) => {
      expect(b.from).toBe(start + i * HOUR);
      expect(b.to - b.from).toBe(HOUR);
    });
    expect(binsBetween(start, end, '15m', timeZone)).toHaveLength(100);
    expect(binsBetween(start, end, '1d', timeZone)).toEqual([{ from: start, to: end }]);
  });

  it('puts each instant of the repeated hour in its own occurrence', () => {
    const firstOneAm = Date.parse('2026-11-01T01:20:00-04:00');
    const secondOneAm = Date.parse('2026-11-01T01:20:00-05:00');
    expect(binStart(firstOneAm, '1h', 'America/New_York')).toBe(Date.parse('2026-11-01T01:00:00-04:00'));
    expect(binStart(secondOneAm, '1h', 'America/New_York')).toBe(Date.parse('2026-11-01T01:00:00-05:00'));
  });

  it('always moves forward where the clock goes back half an hour (Lord Howe Island)', () => {
    const start = Date.parse('2026-04-05T00:00:00+11:00');
    const bins = binsBetween(start, start + 30 * HOUR, '1h', 'Australia/Lord_Howe');
    for (let i = 1; i < bins.length; i++) expect(bins[i]!.from).toBe(bins[i - 1]!.to);
    expect(bins.at(-1)!.to).toBeGreaterThanOrEqual(start + 30 * HOUR);
  });
});
