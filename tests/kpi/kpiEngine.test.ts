import { describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../src/kpi/events.js';
import { computeKpis, kpiHistoryStart, percentile, type KpiSettings } from '../../src/kpi/kpiEngine.js';
import { binStart, binsBetween, formatLocal, lastOpening, nextBinStart, zoneOffsetMs } from '../../src/kpi/timeBins.js';

const TZ = 'Europe/Paris';
// 2026-11-23 is a Monday; Paris is UTC+1 in November.
const at = (hhmm: string, day = '2026-11-23'): number => Date.parse(`${day}T${hhmm}:00+01:00`);

const settings: KpiSettings = {
  timeZone: TZ,
  openingTime: '08:00',
  entrances: [{ camera: 'door', line: 'entrance' }, { sensor: 'side-door' }],
  outsideLine: { camera: 'door', line: 'pavement' },
  engagedDwellMs: 30_000,
  bounceMs: 10_000,
  queueZones: [{ camera: 'tills', zone: 'queue' }],
};

const cross = (ts: number, direction: 'in' | 'out', line = 'entrance', camera = 'door'): StoreEvent => ({ type: 'line_crossing', ts, camera, line, direction });
const visit = (enter: number, exit: number, zone = 'promo', camera = 'floor', minDwellMs = 5_000): StoreEvent => ({
  type: 'zone_visit',
  ts: exit,
  camera,
  zone,
  enter_ts: enter,
  dwell_ms: exit - enter,
  counted: exit - enter >= minDwellMs,
});

describe('time bins in the store time zone', () => {
  it('floors to local quarter hours, hours and days', () => {
    const t = at('10:37');
    expect(binStart(t, '1m', TZ)).toBe(at('10:37'));
    expect(binStart(t, '15m', TZ)).toBe(at('10:30'));
    expect(binStart(t, '1h', TZ)).toBe(at('10:00'));
    expect(binStart(t, '1d', TZ)).toBe(at('00:00'));
    expect(nextBinStart(t, '1d', TZ)).toBe(at('00:00', '2026-11-24'));
    expect(formatLocal(at('10:00'), TZ)).toBe('2026-11-23T10:00:00+01:00');
  });

  it('has 23-hour and 25-hour days at the DST changes', () => {
    const spring = binsBetween(Date.parse('2026-03-29T12:00:00Z'), Date.parse('2026-03-29T12:00:01Z'), '1d', TZ)[0]!;
    expect((spring.to - spring.from) / 3_600_000).toBe(23);
    const autumn = binsBetween(Date.parse('2026-10-25T12:00:00Z'), Date.parse('2026-10-25T12:00:01Z'), '1d', TZ)[0]!;
    expect((autumn.to - autumn.from) / 3_600_000).toBe(25);
    expect(zoneOffsetMs(Date.parse('2026-07-01T12:00:00Z'), TZ)).toBe(2 * 3_600_000);
  });

  it('finds the opening time of the same or the previous day', () => {
    expect(lastOpening(at('09:00'), '08:00', TZ)).toBe(at('08:00'));
    expect(lastOpening(at('07:59'), '08:00', TZ)).toBe(at('08:00', '2026-11-22'));
  });
});

describe('computeKpis', () => {
  it('counts entrance traffic per line and door counter, and keeps other lines apart', () => {
    const events: StoreEvent[] = [
      cross(at('10:00'), 'in'),
      cross(at('10:01'), 'in'),
      cross(at('10:02'), 'out'),
      { type: 'door_count', ts: at('10:05'), sensor: 'side-door', in: 3, out: 1 },
      cross(at('10:06'), 'in', 'stairs', 'floor'),
    ];
    const [bin] = computeKpis(events, settings, { from: at('10:00'), to: at('11:00'), size: '1h' });
    expect(bin!.traffic).toEqual({ in: 5, out: 2, by_entrance: { 'door/entrance': { in: 2, out: 1 }, 'side-door': { in: 3, out: 1 } } });
    expect(bin!.lines).toEqual({ 'door/entrance': { in: 2, out: 1 }, 'floor/stairs': { in: 1, out: 0 } });
  });

  it('keeps occupancy at or above 0 and restarts it at opening time', () => {
    const events: StoreEvent[] = [
      cross(at('20:00', '2026-11-22'), 'in'),
      cross(at('20:01', '2026-11-22'), 'in'), // left overnight without being counted out
      cross(at('08:10'), 'out'), // early leaver before anyone came in: stays 0
      cross(at('08:20'), 'in'),
      cross(at('08:21'), 'in'),
      cross(at('08:40'), 'in'),
      cross(at('08:50'), 'out'),
    ];
    const bins = computeKpis(events, settings, { from: at('08:00'), to: at('09:00'), size: '15m' });
    expect(bins.map((b) => b.occupancy.end)).toEqual([0, 2, 3, 2]);
    expect(bins.map((b) => b.occupancy.max)).toEqual([0, 2, 3, 3]);
    const evening = computeKpis(events, settings, { from: at('20:00', '2026-11-22'), to: at('20:15', '2026-11-22'), size: '15m' });
    expect(evening[0]!.occupancy.end).toBe(2);
  });

  it('gives the same numbers for a bin whatever bin size computed the day, and from the history start', () => {
    const events: StoreEvent[] = [cross(at('08:30'), 'in'), cross(at('09:10'), 'in'), cross(at('09:20'), 'out')];
    const from = at('09:00');
    expect(kpiHistoryStart(from, settings)).toBe(at('08:00'));
    const hourly = computeKpis(events, settings, { from, to: at('10:00'), size: '1h' })[0]!;
    const minutes = computeKpis(events, settings, { from, to: at('10:00'), size: '1m' });
    expect(minutes.reduce((a, b) => a + b.traffic.in, 0)).toBe(hourly.traffic.in);
    expect(minutes.at(-1)!.occupancy.end).toBe(hourly.occupancy.end);
    expect(hourly.occupancy).toEqual({ end: 1, max: 2 });
  });

  it('computes zone visits, dwell percentiles, engaged visits, bounce and visit rates', () => {
    const t = at('11:00');
    const events: StoreEvent[] = [
      visit(t, t + 2_000), // a pass: not a visit, but a bounce
      visit(t, t + 8_000), // a visit and a bounce (< 10 s)
      visit(t, t + 20_000),
      visit(t, t + 40_000), // engaged
      visit(t, t + 100_000), // engaged
      cross(t + 1_000, 'in'),
      cross(t + 2_000, 'in'),
    ];
    const [bin] = computeKpis(events, settings, { from: t, to: at('12:00'), size: '1h' });
    expect(bin!.zones['floor/promo']).toEqual({
      visits: 4,
      passes: 1,
      engaged: 2,
      dwell_mean_s: 42,
      dwell_p50_s: 30,
      dwell_p90_s: 82,
      bounce_rate: 0.4,
      visit_rate: 2,
    });
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([], 0.5)).toBeNull();
  });

  it('measures queue length over time and waits of people served', () => {
    const t = at('12:00');
    const q = (enterS: number, exitS: number): StoreEvent => visit(t + enterS * 1000, t + exitS * 1000, 'queue', 'tills', 0);
    // Minute 1: one person 0–60 s and one 30–90 s → mean length 1.5, max 2; one served (60 s).
    const events = [q(0, 60), q(30, 90)];
    const [m0, m1] = computeKpis(events, settings, { from: t, to: t + 120_000, size: '1m' });
    expect(m0!.queues['tills/queue']).toEqual({ length_mean: 1.5, length_max: 2, served: 0, wait_mean_s: null, wait_p90_s: null });
    expect(m1!.queues['tills/queue']).toMatchObject({ length_mean: 0.5, length_max: 1, served: 2, wait_mean_s: 60 });
  });

  it('derives capture rate, conversion and sales per visitor, and handles empty bins', () => {
    const t = at('14:00');
    const events: StoreEvent[] = [
      ...Array.from({ length: 10 }, (_, i) => cross(t + i * 1000, 'in')),
      ...Array.from({ length: 30 }, (_, i) => cross(t + i * 1000, i % 2 ? 'in' : 'out', 'pavement')),
      ...Array.from({ length: 5 }, (_, i): StoreEvent => ({ type: 'pos_transaction', ts: t + i * 60_000, register: 'till-1', amount: 20.1 })),
    ];
    const [bin, empty] = computeKpis(events, settings, { from: t, to: at('16:00'), size: '1h' });
    expect(bin!.passers_by).toBe(30);
    expect(bin!.capture_rate).toBe(0.333);
    expect(bin!.conversion).toBe(0.5);
    expect(bin!.sales).toBe(100.5);
    expect(bin!.sales_per_visitor).toBe(10.05);
    expect(empty).toMatchObject({ transactions: 0, conversion: null, passers_by: 0, capture_rate: null, traffic: { in: 0, out: 0 } });
  });

  it('excludes staff badges from traffic and reports shoppers per staff member', () => {
    const t = at('09:00');
    const events: StoreEvent[] = [
      { type: 'staff_presence', ts: t - 3_600_000, badge: 'alice', present: true },
      { type: 'staff_presence', ts: t + 30 * 60_000, badge: 'bob', present: true },
      { type: 'staff_presence', ts: t + 45 * 60_000, badge: 'bob', present: true }, // repeated: not a second entry
      ...Array.from({ length: 7 }, (_, i) => cross(t + i * 60_000, 'in')),
      { type: 'pos_transaction', ts: t + 50 * 60_000, register: 'till-1', amount: 10 },
    ];
    const [bin] = computeKpis(events, settings, { from: t, to: at('10:00'), size: '1h' });
    expect(bin!.staff).toEqual({ entries: 1, present_mean: 1.5, shopper_in: 6, shoppers_per_staff: 4 });
    expect(bin!.conversion).toBe(0.167); // 1 receipt ÷ 6 shoppers, staff not counted as visitors
    const noStaff = computeKpis([cross(t, 'in')], settings, { from: t, to: at('10:00'), size: '1h' })[0]!;
    expect(noStaff.staff).toBeNull();
  });

  it('aggregates feedback votes per zone on a 0–1 scale', () => {
    const t = at('15:00');
    const vote = (score: number, zone?: string): StoreEvent => ({ type: 'feedback_vote', ts: t, terminal: 'exit', score, scale: 4, ...(zone ? { zone } : {}) });
    const [bin] = computeKpis([vote(4), vote(1), vote(4), vote(2, 'tills')], settings, { from: t, to: at('16:00'), size: '1h' });
    expect(bin!.satisfaction).toEqual({
      store: { votes: 3, score: 0.667, distribution: { '4': 2, '1': 1 } },
      tills: { votes: 1, score: 0.333, distribution: { '2': 1 } },
    });
  });
});
