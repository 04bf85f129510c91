/**
 * Store-level (floor-plan) events in the KPI engine: plan lines and zones get the statistics of a
 * camera's, in their own `plan` section (never mixed with "<camera>/<name>" keys), a plan line can
 * be the store's entrance, and stores without a plan keep bins exactly as before.
 */
import { describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../src/kpi/events.js';
import { entranceRefOf, planKpiSettingsOf } from '../../src/kpi/entranceConfig.js';
import { computeKpis, type KpiSettings } from '../../src/kpi/kpiEngine.js';
import { filterBin, kpiRows } from '../../src/kpi/kpiTable.js';

const at = (hhmm: string, day = '2026-11-23'): number => Date.parse(`${day}T${hhmm}:00+01:00`);
const S = 1000;

const base: KpiSettings = {
  timeZone: 'Europe/Paris',
  openingTime: '08:00',
  entrances: [{ camera: 'door', line: 'entrance' }],
  engagedDwellMs: 30_000,
  bounceMs: 10_000,
  queueZones: [],
};
const withPlan: KpiSettings = { ...base, plan: { queueZones: ['till'] } };

const planCross = (ts: number, direction: 'in' | 'out', line = 'door'): StoreEvent => ({ type: 'plan_line_crossing', ts, line, direction });
const planVisit = (enter: number, exit: number, zone = 'promo', minDwellMs = 5_000): StoreEvent => ({
  type: 'plan_zone_visit',
  ts: exit,
  zone,
  enter_ts: enter,
  dwell_ms: exit - enter,
  counted: exit - enter >= minDwellMs,
});
const camVisit = (enter: number, exit: number, zone = 'promo', camera = 'floor'): StoreEvent => ({ type: 'zone_visit', ts: exit, camera, zone, enter_ts: enter, dwell_ms: exit - enter, counted: exit - enter >= 5_000 });
const camCross = (ts: number, direction: 'in' | 'out', line = 'entrance', camera = 'door'): StoreEvent => ({ type: 'line_crossing', ts, camera, line, direction });

const hour = { from: at('10:00'), to: at('11:00'), size: '1h' as const };

describe('plan events in computeKpis', () => {
  it('counts plan lines in and out per plan line, apart from camera lines of the same name', () => {
    const events = [planCross(at('10:01'), 'in'), planCross(at('10:02'), 'in'), planCross(at('10:03'), 'out'), planCross(at('10:04'), 'in', 'stairs'), camCross(at('10:05'), 'in', 'door', 'cam1')];
    const [bin] = computeKpis(events, withPlan, hour);
    expect(bin!.plan!.lines).toEqual({ door: { in: 2, out: 1 }, stairs: { in: 1, out: 0 } });
    expect(bin!.lines).toEqual({ 'cam1/door': { in: 1, out: 0 } });
  });

  it('gives a plan zone the same dwell statistics as a camera zone with the same visits, plus occupancy', () => {
    const visits: [number, number][] = [
      [at('10:00'), at('10:00') + 3 * S], // a pass-through (under the zone's 5 s) and a bounce
      [at('10:10'), at('10:11')], // 60 s: engaged
      [at('10:20'), at('10:20') + 8 * S], // counted but a bounce
    ];
    const events = [
      ...visits.map(([a, b]) => planVisit(a, b)),
      ...visits.map(([a, b]) => camVisit(a, b)),
      camCross(at('10:00'), 'in'),
      camCross(at('10:01'), 'in'),
      camCross(at('10:02'), 'in'),
      camCross(at('10:03'), 'in'),
    ];
    const [bin] = computeKpis(events, withPlan, hour);
    const camera = bin!.zones['floor/promo']!;
    const plan = bin!.plan!.zones['promo']!;
    expect(plan).toEqual({ ...camera, occupancy_mean: expect.any(Number), occupancy_max: 1 });
    expect(camera).toMatchObject({ visits: 2, passes: 1, engaged: 1, dwell_mean_s: 34, bounce_rate: round3(2 / 3), visit_rate: 0.5 });
    // 71 s of presence over the hour.
    expect(plan.occupancy_mean).toBe(Math.round((71 / 3600) * 100) / 100);
    expect(bin!.zones).not.toHaveProperty('promo');
  });

  it('shows a plan zone occupied through a bin in which no visit ends, and its queue statistics', () => {
    const events = [planVisit(at('10:05'), at('10:25'), 'till'), planVisit(at('10:07'), at('10:09'), 'till')];
    const bins = computeKpis(events, withPlan, { from: at('10:00'), to: at('10:30'), size: '15m' });
    expect(bins[0]!.plan!.zones['till']).toMatchObject({ visits: 1, passes: 0, occupancy_max: 2 });
    expect(bins[1]!.plan!.zones['till']).toMatchObject({ visits: 1, occupancy_max: 1 });
    // 10:05–10:15 and 10:07–10:09 → 12 person-minutes over 15 minutes.
    expect(bins[0]!.plan!.queues['till']).toEqual({ length_mean: 0.8, length_max: 2, served: 1, wait_mean_s: 120, wait_p90_s: 120 });
    expect(bins[1]!.plan!.queues['till']).toMatchObject({ length_max: 1, served: 1, wait_mean_s: 1200 });
  });

  it('lists configured plan queue zones even when empty, and leaves quiet bins with empty plan maps', () => {
    const [bin] = computeKpis([], withPlan, hour);
    expect(bin!.plan).toEqual({ lines: {}, zones: {}, queues: { till: { length_mean: 0, length_max: 0, served: 0, wait_mean_s: null, wait_p90_s: null } } });
  });

  it('adds no plan section for a store without a plan or plan events (bins unchanged)', () => {
    const [bin] = computeKpis([camCross(at('10:00'), 'in'), camVisit(at('10:01'), at('10:02'))], base, hour);
    expect(bin).not.toHaveProperty('plan');
    // Plan events stored before the plan was removed from the config still show (their history is real).
    const [old] = computeKpis([planCross(at('10:01'), 'in')], base, hour);
    expect(old!.plan).toEqual({ lines: { door: { in: 1, out: 0 } }, zones: {}, queues: {} });
  });

  it('takes a plan line as the entrance when configured: traffic, occupancy and conversion from it', () => {
    const settings: KpiSettings = { ...withPlan, entrances: [{ planLine: 'door' }, { sensor: 'side' }] };
    const events: StoreEvent[] = [
      // Two overlapping cameras at the door each count the same two people; the plan line counts them once.
      camCross(at('10:01'), 'in', 'entrance', 'cam1'),
      camCross(at('10:01'), 'in', 'entrance', 'cam2'),
      camCross(at('10:02'), 'in', 'entrance', 'cam1'),
      camCross(at('10:02'), 'in', 'entrance', 'cam2'),
      planCross(at('10:01'), 'in'),
      planCross(at('10:02'), 'in'),
      planCross(at('10:40'), 'out'),
      { type: 'door_count', ts: at('10:10'), sensor: 'side', in: 2, out: 0 },
      { type: 'pos_transaction', ts: at('10:30'), register: 't1', amount: 10 },
    ];
    const [bin] = computeKpis(events, settings, hour);
    expect(bin!.traffic).toEqual({ in: 4, out: 1, by_entrance: { 'plan:door': { in: 2, out: 1 }, side: { in: 2, out: 0 } } });
    expect(bin!.occupancy).toEqual({ end: 3, max: 4 });
    expect(bin!.conversion).toBe(0.25);
    expect(bin!.plan!.lines['door']).toEqual({ in: 2, out: 1 });
  });
});

describe('plan sections in the KPI table and filters', () => {
  const events = [planCross(at('10:01'), 'in'), planVisit(at('10:02'), at('10:03')), camVisit(at('10:02'), at('10:03'))];
  const [bin] = computeKpis(events, { ...withPlan, entrances: [{ planLine: 'door' }] }, hour);

  it('exports plan lines, zones and queues as plan_* metrics with the plan name as subject', () => {
    const rows = kpiRows(bin!);
    const value = (metric: string, subject: string) => rows.find((r) => r.metric === metric && r.subject === subject)?.value;
    expect(value('plan_line_in', 'door')).toBe(1);
    expect(value('plan_line_out', 'door')).toBe(0);
    expect(value('plan_zone_visits', 'promo')).toBe(1);
    expect(value('plan_zone_dwell_mean_s', 'promo')).toBe(60);
    expect(value('plan_zone_occupancy_max', 'promo')).toBe(1);
    expect(value('plan_queue_served', 'till')).toBe(0);
    expect(value('entrance_in', 'plan:door')).toBe(1);
    expect(value('zone_visits', 'floor/promo')).toBe(1);
    expect(rows.some((r) => r.metric === 'zone_visits' && r.subject === 'promo')).toBe(false);
  });

  it('filters the plan section by name, and drops it for one camera', () => {
    expect(filterBin(bin!, { zone: 'promo' }).plan).toEqual({ lines: {}, zones: { promo: bin!.plan!.zones['promo'] }, queues: {} });
    expect(filterBin(bin!, { line: 'door' }).plan).toEqual({ lines: { door: { in: 1, out: 0 } }, zones: {}, queues: {} });
    expect(filterBin(bin!, { line: 'door' }).traffic.by_entrance).toEqual({ 'plan:door': { in: 1, out: 0 } });
    expect(filterBin(bin!, { camera: 'floor' }).plan).toEqual({ lines: {}, zones: {}, queues: {} });
    expect(filterBin(bin!, { camera: 'floor' }).traffic.by_entrance).toEqual({});
  });
});

describe('KPI settings from the config', () => {
  it('maps a plan_line entrance and the plan queue zones', () => {
    expect(entranceRefOf({ plan_line: 'door' })).toEqual({ planLine: 'door' });
    expect(entranceRefOf({ camera: 'c', line: 'l' })).toEqual({ camera: 'c', line: 'l' });
    expect(planKpiSettingsOf(undefined)).toBeUndefined();
    expect(planKpiSettingsOf({ lines: [], zones: [{ name: 'promo', queue: false }, { name: 'till', queue: true }] })).toEqual({ queueZones: ['till'] });
    expect(planKpiSettingsOf({ lines: [{ name: 'door' }], zones: [] })).toEqual({ queueZones: [] });
    expect(planKpiSettingsOf({ lines: [], zones: [] })).toBeUndefined();
  });
});

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
