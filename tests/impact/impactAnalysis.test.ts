/**
 * The parts around the statistics: change times in the store's zone (DST included), day units that
 * pair weekdays, subjects, and the report — which metrics a zone or a line gets, days left out and
 * why, refusals with a reason.
 */
import { describe, expect, it } from 'vitest';
import { changeWindow, ImpactInputError, parseChangeTime, unitHours } from '../../src/analytics/impact/changeWindow.js';
import { analyzeImpact, UnknownSubjectError, type ImpactQuery } from '../../src/analytics/impact/impactAnalysis.js';
import { impactCsvRows, impactLines } from '../../src/analytics/impact/impactFormat.js';
import { parseSubject, parseSubjects, subjectMatches, subjectsOverlap } from '../../src/analytics/impact/impactSubjects.js';
import { syntheticStoreBins } from '../../src/analytics/impact/syntheticStore.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('change time and day units', () => {
  it('reads local dates and times in the store zone, dropping minutes', () => {
    expect(parseChangeTime('2026-03-14', 'Europe/Paris')).toBe(Date.parse('2026-03-14T00:00:00+01:00'));
    expect(parseChangeTime('2026-07-01T09:45', 'Europe/Paris')).toBe(Date.parse('2026-07-01T09:00:00+02:00'));
    expect(parseChangeTime('2026-03-14', 'America/New_York')).toBe(Date.parse('2026-03-14T00:00:00-04:00')); // US summer time began on 8 March
    for (const bad of ['14/03/2026', '2026-02-30', '2026-03-14T24:00', '2026-03-14T09:61', 'yesterday']) {
      expect(() => parseChangeTime(bad, 'Europe/Paris'), bad).toThrow(ImpactInputError);
    }
  });

  it('cuts N weeks either side into local days that pair up by weekday, across a DST change', () => {
    const change = parseChangeTime('2026-03-14T14:00', 'Europe/Paris');
    const w = changeWindow(change, 4, 'Europe/Paris');
    expect(w.units).toHaveLength(56);
    expect(w.from).toBe(Date.parse('2026-02-14T14:00:00+01:00'));
    expect(w.to).toBe(Date.parse('2026-04-11T14:00:00+02:00'));
    const first = w.units[0]!;
    const twin = w.units.find((u) => u.index === 0)!;
    expect([first.side, twin.side]).toEqual(['before', 'after']);
    expect(first.stratum).toBe(twin.stratum);
    expect(new Date(first.start + DAY / 2).getUTCDay()).toBe(new Date(twin.start + DAY / 2).getUTCDay());
    // Clocks go forward on 29 March 2026: the unit from 28 March 14:00 holds 23 hours.
    const dst = w.units.find((u) => u.date === '2026-03-28')!;
    expect(unitHours(dst)).toBe(23);
    expect(w.units.filter((u) => unitHours(u) !== 24)).toHaveLength(1);
    expect(() => changeWindow(change, 0, 'UTC')).toThrow(ImpactInputError);
  });
});

describe('subjects', () => {
  it('name a zone or line, optionally on one camera', () => {
    expect(parseSubject('zone:promo')).toEqual({ kind: 'zone', name: 'promo', text: 'zone:promo' });
    expect(parseSubject('line:cam2/door')).toEqual({ kind: 'line', name: 'door', camera: 'cam2', text: 'line:cam2/door' });
    expect(parseSubjects('zone:a, zone:b,,')).toHaveLength(2);
    expect(parseSubject('store')).toEqual({ kind: 'store', name: 'store', text: 'store' });
    for (const bad of ['promo', 'shelf:promo', 'zone:', 'zone:a/b/c', 'zone:a b']) expect(() => parseSubject(bad), bad).toThrow(ImpactInputError);
    expect(subjectMatches(parseSubject('zone:promo'), 'cam1/promo')).toBe(true);
    expect(subjectMatches(parseSubject('zone:cam2/promo'), 'cam1/promo')).toBe(false);
    expect(subjectMatches(parseSubject('zone:promo'), 'cam1/promo2')).toBe(false);
    expect(subjectsOverlap(parseSubject('zone:promo'), parseSubject('zone:cam1/promo'))).toBe(true);
    expect(subjectsOverlap(parseSubject('zone:cam2/promo'), parseSubject('zone:cam1/promo'))).toBe(false);
    expect(subjectsOverlap(parseSubject('line:promo'), parseSubject('zone:promo'))).toBe(false);
  });
});

describe('impact report', () => {
  const change = Date.UTC(2026, 2, 14);
  const bins = syntheticStoreBins({ seed: 7, change, weeks: 2, trafficLift: 0.3 });
  const query = (extra: Partial<ImpactQuery> = {}): ImpactQuery => ({
    subject: parseSubject('zone:promo'),
    controls: [parseSubject('zone:aisle')],
    change,
    weeks: 2,
    timeZone: 'UTC',
    now: change + 30 * DAY,
    ...extra,
  });

  it('gives a zone traffic, dwell, visit rate and conversion, with the control where it applies', () => {
    const report = analyzeImpact(bins, query());
    expect(report.metrics.map((m) => m.metric)).toEqual(['traffic', 'dwell', 'visit_rate', 'conversion']);
    const traffic = report.metrics[0]!;
    expect(traffic.verdict).toBe('increase');
    expect(traffic.vs_control!.low).toBeGreaterThan(0);
    expect(traffic.after! / traffic.before!).toBeGreaterThan(1.2);
    expect(report.metrics[2]!.vs_control).toBeNull();
    expect(report.metrics[2]!.note).toMatch(/already relative to the whole store/);
    expect(report.metrics[3]!.verdict).toBe('no significant change');
    expect(report.excluded_days).toEqual([]);
    const text = impactLines(report).join('\n');
    expect(text).toMatch(/^traffic: INCREASE/m);
    expect(text).toMatch(/vs control: \+\d+\.\d % \(95 % CI \+/);
    expect(impactCsvRows(report)).toHaveLength(4);
  });

  it('gives a line traffic and conversion only', () => {
    const withLine = bins.map((b) => ({ ...b, lines: { 'cam1/door': { in: b.traffic.in, out: b.traffic.out } } }));
    const report = analyzeImpact(withLine, query({ subject: parseSubject('line:door'), controls: [] }));
    expect(report.metrics.map((m) => m.metric)).toEqual(['traffic', 'conversion']);
    expect(report.metrics[0]!.verdict).toBe('no significant change');
  });

  it('leaves out days without data, with hours missing, or not over yet, and says which', () => {
    const missingDay = change - 3 * DAY;
    const partialDay = change + 2 * DAY;
    const sparse = bins.filter((b) => !(b.from >= missingDay && b.from < missingDay + DAY) && !(b.from >= partialDay + 20 * HOUR && b.from < partialDay + DAY));
    const report = analyzeImpact(sparse, query({ now: change + 10 * DAY + 1 }));
    expect(report.before.days).toBe(13);
    expect(report.after.days).toBe(9);
    expect(report.excluded_days).toEqual([
      { date: '2026-03-11', side: 'before', reason: 'no data' },
      { date: '2026-03-16', side: 'after', reason: 'incomplete: 20 of 24 hours' },
      ...['2026-03-24', '2026-03-25', '2026-03-26', '2026-03-27'].map((date) => ({ date, side: 'after', reason: 'not over yet' })),
    ]);
  });

  it('takes the control from another store: its bins, its missing hours, its name in the report', () => {
    const otherStore = syntheticStoreBins({ seed: 8, change, weeks: 2, trafficLift: 0 });
    const gap = change - 5 * DAY;
    const sparse = otherStore.filter((b) => !(b.from >= gap + 10 * HOUR && b.from < gap + 12 * HOUR));
    const report = analyzeImpact(bins, query({ controls: [parseSubject('store')], controlSource: 'lyon-02.db' }), sparse);
    expect(report.control_source).toBe('lyon-02.db');
    expect(report.excluded_days).toEqual([{ date: '2026-03-09', side: 'before', reason: 'control incomplete: 22 of 24 hours' }]);
    const traffic = report.metrics[0]!;
    expect(traffic.verdict).toBe('increase');
    expect(traffic.vs_control!.low).toBeLessThan(0.3);
    expect(traffic.vs_control!.high).toBeGreaterThan(0.3);
    // The same name in another store is another zone: no "is the subject itself" there.
    expect(analyzeImpact(bins, query({ controls: [parseSubject('zone:promo')] }), otherStore).metrics[0]!.vs_control).not.toBeNull();
    expect(() => analyzeImpact(bins, query({ controls: [parseSubject('zone:bakery')] }), otherStore)).toThrow(/no zone bakery/);
  });

  it('takes the whole store as a subject: traffic and conversion', () => {
    const report = analyzeImpact(bins, query({ subject: parseSubject('store'), controls: [] }));
    expect(report.metrics.map((m) => [m.metric, m.unit])).toEqual([
      ['traffic', 'visitors per day'],
      ['conversion', 'ratio'],
    ]);
    expect(report.metrics[0]!.verdict).toBe('no significant change');
  });

  it('refuses an unknown subject naming the known ones, and a control that is the subject', () => {
    expect(() => analyzeImpact(bins, query({ subject: parseSubject('zone:bakery') }))).toThrow(UnknownSubjectError);
    expect(() => analyzeImpact(bins, query({ subject: parseSubject('zone:bakery') }))).toThrow(/known: zone:aisle, zone:promo/);
    expect(() => analyzeImpact(bins, query({ controls: [parseSubject('zone:promo')] }))).toThrow(/is the subject itself/);
    expect(() => analyzeImpact(bins, query({ controls: [parseSubject('zone:cam1/promo')] }))).toThrow(/zone:cam1\/promo is the subject itself/);
    expect(() => analyzeImpact([], query())).toThrow(/no stored data in the period/);
  });

  it('answers "insufficient data" rather than a number when a side has nothing', () => {
    const onlyAfter = bins.map((b) => (b.from < change ? { ...b, transactions: 0 } : b));
    const conversion = analyzeImpact(onlyAfter, query()).metrics.find((m) => m.metric === 'conversion')!;
    expect(conversion.verdict).toBe('insufficient data');
    expect(conversion.note).toMatch(/no POS transactions before the change/);
    expect(conversion.change).toBeNull();
  });
});
