/** Store-level KPIs of plan lines and zones from the stored plan events (the dashboard's store-level card). */
import { describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../src/kpi/events.js';
import { computePlanKpis } from '../../src/fusion/planKpis.js';

const S = 1000;
const visit = (zone: string, enterS: number, exitS: number, counted = true): StoreEvent => ({ type: 'plan_zone_visit', zone, ts: exitS * S, enter_ts: enterS * S, dwell_ms: (exitS - enterS) * S, counted });

describe('plan KPIs', () => {
  it('counts crossings by direction and visits, dwell and occupancy per zone, configured ones even without events', () => {
    const events: StoreEvent[] = [
      { type: 'plan_line_crossing', ts: 10 * S, line: 'door', direction: 'in' },
      { type: 'plan_line_crossing', ts: 20 * S, line: 'door', direction: 'out' },
      { type: 'plan_line_crossing', ts: 200 * S, line: 'door', direction: 'in' }, // after the period
      // Started before the period: its presence counts for occupancy from `from`, and it ended inside.
      visit('promo', -50, 50),
      visit('promo', 40, 60),
      visit('promo', 90, 91, false),
      // Ends after the period: its visit belongs to a later period, its presence to both.
      visit('till', 80, 150),
      // A zone since removed from the config still shows its history.
      visit('old', 0, 10),
      // Line crossings and camera events elsewhere are not plan events.
      { type: 'zone_visit', ts: 30 * S, camera: 'c1', zone: 'promo', enter_ts: 0, dwell_ms: 30 * S, counted: true },
    ];
    const kpis = computePlanKpis(events, { from: 0, to: 100 * S, now: 1e12 }, { lines: ['door', 'exit'], zones: ['promo', 'till'] });
    expect(kpis.lines).toEqual({ door: { in: 1, out: 1 }, exit: { in: 0, out: 0 } });
    expect(kpis.zones.promo).toEqual({ visits: 2, passes: 1, dwell_mean_s: 60, dwell_p50_s: 60, dwell_p90_s: 92, occupancy_max: 2, occupancy_mean: 0.71 });
    expect(kpis.zones.till).toMatchObject({ visits: 0, passes: 0, dwell_mean_s: null, occupancy_max: 1, occupancy_mean: 0.2 });
    expect(kpis.zones.old).toMatchObject({ visits: 1, occupancy_max: 1, occupancy_mean: 0.1 });
  });

  it('averages occupancy over the elapsed part of a period in progress', () => {
    const kpis = computePlanKpis([visit('promo', 0, 50)], { from: 0, to: 1000 * S, now: 100 * S }, { lines: [], zones: ['promo'] });
    expect(kpis.zones.promo!.occupancy_mean).toBe(0.5);
  });

  it('does not count one person handed over at the same instant twice', () => {
    const kpis = computePlanKpis([visit('promo', 0, 50), visit('promo', 50, 80)], { from: 0, to: 100 * S, now: 1e12 }, { lines: [], zones: ['promo'] });
    expect(kpis.zones.promo!.occupancy_max).toBe(1);
  });
});
