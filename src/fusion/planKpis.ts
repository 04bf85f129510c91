/**
 * Store-level KPIs of the plan lines and zones over one period, from the stored `plan_line_crossing`
 * and `plan_zone_visit` events: the same definitions as a camera zone's (docs/kpis.md: visits reach
 * the zone's minimum dwell, dwell statistics over those visits) plus the zone's occupancy, which for
 * a plan zone is known from the visits themselves (each one is an interval of presence). Pure: the
 * same events give the same numbers.
 */
import type { StoreEvent } from '../kpi/events.js';
import { percentile } from '../kpi/kpiEngine.js';

export interface PlanZoneKpis {
  /** Visits that ended in the period and reached the zone's minimum dwell. */
  visits: number;
  /** Shorter pass-throughs that ended in the period. */
  passes: number;
  dwell_mean_s: number | null;
  dwell_p50_s: number | null;
  dwell_p90_s: number | null;
  /** Most people in the zone at one moment, and the time-weighted mean, over the period's elapsed part. */
  occupancy_max: number;
  occupancy_mean: number;
}

export interface PlanKpis {
  from: number;
  to: number;
  lines: Record<string, { in: number; out: number }>;
  zones: Record<string, PlanZoneKpis>;
}

const round = (x: number | null, digits: number): number | null => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/**
 * KPIs of [from, to) (`to` is clipped to `now` for occupancy means, so a day in progress is not
 * diluted by its future hours). `names` lists the configured lines and zones, which appear even
 * without events; events of lines and zones since removed appear too (their history is real).
 */
export function computePlanKpis(events: readonly StoreEvent[], range: { from: number; to: number; now: number }, names: { lines: readonly string[]; zones: readonly string[] }): PlanKpis {
  const lines: PlanKpis['lines'] = {};
  for (const name of names.lines) lines[name] = { in: 0, out: 0 };
  const visits = new Map<string, { ts: number; enter_ts: number; dwell_ms: number; counted: boolean }[]>();
  for (const name of names.zones) visits.set(name, []);
  for (const e of events) {
    if (e.type === 'plan_line_crossing' && e.ts >= range.from && e.ts < range.to) (lines[e.line] ??= { in: 0, out: 0 })[e.direction] += 1;
    // A visit still counts towards occupancy in a period it overlaps but does not end in.
    if (e.type === 'plan_zone_visit' && e.enter_ts < range.to && e.ts >= range.from) {
      let list = visits.get(e.zone);
      if (!list) visits.set(e.zone, (list = []));
      list.push(e);
    }
  }
  const until = Math.max(range.from + 1, Math.min(range.to, range.now));
  const zones: PlanKpis['zones'] = {};
  for (const [name, list] of visits) {
    const ended = list.filter((v) => v.ts >= range.from && v.ts < range.to);
    const dwell = ended.filter((v) => v.counted).map((v) => v.dwell_ms / 1000).sort((a, b) => a - b);
    zones[name] = {
      visits: dwell.length,
      passes: ended.length - dwell.length,
      dwell_mean_s: round(dwell.length ? dwell.reduce((a, b) => a + b, 0) / dwell.length : null, 1),
      dwell_p50_s: round(percentile(dwell, 0.5), 1),
      dwell_p90_s: round(percentile(dwell, 0.9), 1),
      ...occupancy(list, range.from, until),
    };
  }
  return { from: range.from, to: range.to, lines, zones };
}

/** Presence intervals → most at once and the time-weighted mean over [from, to). */
function occupancy(list: readonly { ts: number; enter_ts: number }[], from: number, to: number): { occupancy_max: number; occupancy_mean: number } {
  const edges: { ts: number; d: number }[] = [];
  let area = 0;
  for (const v of list) {
    const a = Math.max(v.enter_ts, from);
    const b = Math.min(v.ts, to);
    if (b <= a) continue;
    area += b - a;
    edges.push({ ts: a, d: 1 }, { ts: b, d: -1 });
  }
  // Leaving before arriving at the same instant: one person handed over is not two.
  edges.sort((x, y) => x.ts - y.ts || x.d - y.d);
  let now = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (now += e.d));
  return { occupancy_max: max, occupancy_mean: round(area / (to - from), 2)! };
}
