/**
 * The fleet before/after arithmetic on hand-written numbers: windows of the same weekdays and
 * hours, per-store changes, the fleet summary and the difference in differences against stores
 * without the change.
 */
import { describe, expect, it } from 'vitest';
import { parseImpactQuery } from '../../src/central/fleetApi.js';
import { fleetImpactReport, impactCsvRows, impactWindow, IMPACT_CSV_COLUMNS, median, rateChange, windowsToFetch, type MatchedAnnotation, type WindowTotals } from '../../src/central/impactMaths.js';

const H = 3_600_000;
const D = 24 * H;
const CHANGE = Date.parse('2026-11-16T09:30:00Z'); // a Monday

describe('impactWindow', () => {
  it('leaves the change hour out, and compares each after hour with the same weekday and hour whole weeks earlier', () => {
    expect(impactWindow(CHANGE, 7)).toEqual({ afterFrom: Date.parse('2026-11-16T10:00:00Z'), afterTo: Date.parse('2026-11-23T10:00:00Z'), beforeFrom: Date.parse('2026-11-09T10:00:00Z'), beforeTo: Date.parse('2026-11-16T09:00:00Z'), shiftMs: 7 * D });
    // 3 days after are compared with the same 3 weekdays a week earlier (not the 3 days just before).
    const w3 = impactWindow(CHANGE, 3);
    expect([w3.beforeFrom, w3.beforeTo, w3.shiftMs]).toEqual([Date.parse('2026-11-09T10:00:00Z'), Date.parse('2026-11-12T10:00:00Z'), 7 * D]);
    expect(impactWindow(CHANGE, 10).shiftMs).toBe(14 * D);
    // On the hour: that hour is still left out (windows depend on the hour only).
    expect(impactWindow(Date.parse('2026-11-16T09:00:00Z'), 7)).toEqual(impactWindow(CHANGE, 7));
  });

  it('one window per distinct hour of each store\'s first matching change', () => {
    const a = (storeId: string, ts: number): MatchedAnnotation => ({ storeId, gatewayId: 'g', id: 1, ts, text: 'promo', subject: null });
    const windows = windowsToFetch([a('s1', CHANGE), a('s2', CHANGE + 10 * 60_000), a('s2', CHANGE - D), a('s3', CHANGE + 3 * D)], 7);
    expect(windows.map((w) => new Date(w.afterFrom).toISOString())).toEqual(['2026-11-15T10:00:00.000Z', '2026-11-16T10:00:00.000Z', '2026-11-19T10:00:00.000Z']);
  });
});

describe('fleetImpactReport', () => {
  const totals = (afterFrom: number, storeId: string, hours: number, before: [number, number, number], after: [number, number, number]): WindowTotals => ({
    afterFrom,
    storeId,
    hours,
    before: { traffic: before[0], transactions: before[1], sales: before[2] },
    after: { traffic: after[0], transactions: after[1], sales: after[2] },
  });
  const annotation = (storeId: string, ts: number, id = 1): MatchedAnnotation => ({ storeId, gatewayId: `gw-${storeId}`, id, ts, text: 'Promo start', subject: 'zone:promo' });
  const w = impactWindow(CHANGE, 7).afterFrom;
  const w2 = impactWindow(CHANGE + 2 * D, 7).afterFrom;

  const report = fleetImpactReport({
    match: 'promo',
    days: 7,
    annotations: [annotation('a1', CHANGE), annotation('a2', CHANGE), annotation('a3', CHANGE + 2 * D), annotation('a1', CHANGE + D, 2), annotation('a4', CHANGE + 2 * D)],
    totals: [
      totals(w, 'a1', 100, [1000, 200, 5000], [1200, 300, 7500]), // +20 % traffic, conversion 0.2 → 0.25
      totals(w, 'a2', 100, [2000, 400, 8000], [3000, 600, 12000]), // +50 %, conversion flat
      totals(w, 'c1', 100, [1500, 300, 6000], [1500, 300, 6000]), // flat
      totals(w, 'c2', 100, [1000, 200, 4000], [1100, 220, 4400]), // +10 %
      totals(w, 'a3', 100, [999, 1, 1], [1, 1, 1]), // a3's own window is another: ignored here, and never a control
      totals(w2, 'a3', 90, [1000, 200, 4000], [900, 180, 3600]), // −10 %
      totals(w2, 'c1', 90, [1000, 200, 4000], [1000, 200, 4000]),
      totals(w2, 'c2', 90, [1000, 200, 4000], [1000, 200, 4000]),
      // a4 has no hours on both sides: listed, without figures.
    ],
  });

  it('per store: the first matching change, its values before and after, the change and the change beyond the controls', () => {
    expect(report.stores.map((s) => s.store_id)).toEqual(['a1', 'a2', 'a3', 'a4']);
    const [a1, a2, a3, a4] = report.stores;
    expect(a1).toMatchObject({ matching_annotations: 2, hours: 100, annotation: { id: 1, time: '2026-11-16T09:30:00.000Z', text: 'Promo start', subject: 'zone:promo', gateway_id: 'gw-a1' } });
    expect(a1!.after).toEqual({ from: '2026-11-16T10:00:00.000Z', to: '2026-11-23T10:00:00.000Z' });
    expect(a1!.values_before).toEqual({ traffic: 1000, conversion: 0.2, sales_per_visitor: 5 });
    expect(a1!.values_after).toEqual({ traffic: 1200, conversion: 0.25, sales_per_visitor: 6.25 });
    expect(a1!.change.traffic).toBeCloseTo(0.2, 12);
    expect(a1!.change.conversion).toBeCloseTo(0.25, 12);
    expect(a1!.change.sales_per_visitor).toBeCloseTo(0.25, 12);
    // Controls in a1's window: c1 0 %, c2 +10 % → mean +5 %.
    expect(a1!.control_change.traffic).toBeCloseTo(0.05, 12);
    expect(a1!.control_change.conversion).toBeCloseTo(0, 12);
    expect(a1!.did.traffic).toBeCloseTo(0.15, 12);
    expect(a2!.change.traffic).toBeCloseTo(0.5, 12);
    expect(a2!.did.traffic).toBeCloseTo(0.45, 12);
    // a3 has its own window, where the controls were flat.
    expect(a3!.hours).toBe(90);
    expect(a3!.change.traffic).toBeCloseTo(-0.1, 12);
    expect(a3!.control_change.traffic).toBe(0);
    expect(a3!.did.traffic).toBeCloseTo(-0.1, 12);
    expect(a4).toMatchObject({ hours: 0, values_before: { traffic: null }, change: { traffic: null, conversion: null }, did: { traffic: null } });
    expect(report.control_stores).toBe(2);
    expect(report.shift_days).toBe(7);
  });

  it('the fleet summary: mean and median change, stores up and down, the controls and the difference in differences', () => {
    const t = report.summary.traffic;
    expect(t).toMatchObject({ stores: 3, up: 2, down: 1, unchanged: 0 });
    expect(t.mean_change).toBeCloseTo((0.2 + 0.5 - 0.1) / 3, 12);
    expect(t.median_change).toBeCloseTo(0.2, 12);
    expect(t.mean_control_change).toBeCloseTo((0.05 + 0.05 + 0) / 3, 12);
    expect(t.mean_did).toBeCloseTo((0.15 + 0.45 - 0.1) / 3, 12);
    expect(report.summary.conversion).toMatchObject({ stores: 3, up: 1, down: 0, unchanged: 2 });
  });

  it('CSV: one row per store with every figure', () => {
    const rows = impactCsvRows(report);
    expect(rows).toHaveLength(4);
    expect(rows[0]!.length).toBe(IMPACT_CSV_COLUMNS.length);
    expect(rows[0]!.slice(0, 7)).toEqual(['a1', '2026-11-16T09:30:00.000Z', 'Promo start', 'zone:promo', 100, 1000, 1200]);
  });

  it('nothing matched: no stores, empty summary', () => {
    const empty = fleetImpactReport({ match: 'nothing', days: 14, annotations: [], totals: [] });
    expect(empty).toMatchObject({ stores: [], control_stores: 0, shift_days: 14, summary: { traffic: { stores: 0, mean_change: null, median_change: null, mean_did: null } } });
  });
});

describe('small helpers', () => {
  it('relative change of a count or a rate, and median', () => {
    expect(rateChange(10, 1, 15, 1)).toBe(0.5);
    expect(rateChange(710, 1, 852, 1)).toBe(0.2);
    expect(rateChange(2, 10, 3, 12)).toBe(0.25); // conversion 0.2 → 0.25
    expect(rateChange(0, 1, 15, 1)).toBeNull(); // from nothing: no relative change
    expect(rateChange(2, 0, 3, 12)).toBeNull(); // no visitors before: no conversion to compare
    expect(rateChange(2, 10, 0, 0)).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('parseImpactQuery: match required, days 1–91 (28 by default), an optional period for the annotations', () => {
    expect(parseImpactQuery({ match: 'promo', from: '2026-11-01', to: '2026-12-01' })).toEqual({ ok: true, match: 'promo', days: 28, from: new Date('2026-11-01'), to: new Date('2026-12-01') });
    expect(parseImpactQuery({ match: 'promo', from: 'last week' })).toEqual({ ok: false, error: 'from is not a date: last week' });
    expect(parseImpactQuery({ match: 'promo', from: '2026-12-01', to: '2026-11-01' })).toEqual({ ok: false, error: 'to must be after from' });
    expect(parseImpactQuery({ match: ' promo ' })).toEqual({ ok: true, match: 'promo', days: 28 });
    expect(parseImpactQuery({ match: 'zone:promo', days: '14' })).toEqual({ ok: true, match: 'zone:promo', days: 14 });
    expect(parseImpactQuery({})).toMatchObject({ ok: false, error: expect.stringMatching(/^match is required/) });
    expect(parseImpactQuery({ match: 'x', days: '0' })).toMatchObject({ ok: false, error: expect.stringMatching(/days must be a whole number from 1 to 91/) });
    expect(parseImpactQuery({ match: 'x', days: '1.5' })).toMatchObject({ ok: false });
    expect(parseImpactQuery({ match: 'x', days: '92' })).toMatchObject({ ok: false });
    expect(parseImpactQuery({ match: 'x'.repeat(201) })).toMatchObject({ ok: false });
  });
});
