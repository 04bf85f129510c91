/**
 * The store-level (floor-plan) part of a KPI bin: `plan_line_crossing` and `plan_zone_visit` counted
 * with the same definitions as a camera's lines and zones (src/kpi/zoneStats.ts). They live in their
 * own `plan` section keyed by the plan's names, not among the camera keys ("<camera>/<name>"), because
 * a plan zone and a camera zone of the same name count the same people: summing "every zone named
 * promo" (impact analysis, dashboards) must not add the store-level count to the cameras'. Pure.
 */
import type { PlanLineCrossing } from './events.js';
import { dwellStats, presence, queueStats, type DwellStats, type QueueStats, type VisitLike } from './zoneStats.js';

/** A plan zone: a camera zone's statistics plus its occupancy, known from the visits themselves. */
export interface PlanZoneStats extends DwellStats {
  /** Time-weighted mean number of people in the zone over the bin. */
  occupancy_mean: number;
  /** Most people in the zone at one moment of the bin. */
  occupancy_max: number;
}

export interface PlanBinKpis {
  /** Crossings per plan line that had any in the bin. */
  lines: Record<string, { in: number; out: number }>;
  /** Plan zones with a visit that ended in the bin or that was under way during it. */
  zones: Record<string, PlanZoneStats>;
  /** Plan zones marked `queue: true`, always present. */
  queues: Record<string, QueueStats>;
}

/** What the plan part needs of the KPI settings. */
export interface PlanKpiSettings {
  /** Plan zones configured as queues (`plan.zones[].queue`). */
  queueZones: readonly string[];
}

/** Plan events grouped once per computation (not per bin), by the KPI fold (src/kpi/kpiEngine.ts). */
export interface PlanEvents {
  crossings: Pick<PlanLineCrossing, 'ts' | 'line' | 'direction'>[];
  /** The visits' times only, per zone: a day of a busy plan zone need not hold whole events. */
  visitsByZone: Map<string, VisitLike[]>;
}

export const hasPlanEvents = (p: PlanEvents): boolean => p.crossings.length > 0 || p.visitsByZone.size > 0;

/** The plan section of the bin [from, to); `storeIn` is the store's entering traffic (for visit rates). */
export function planBinKpis(
  plan: PlanEvents,
  settings: { plan?: PlanKpiSettings; engagedDwellMs: number; bounceMs: number },
  bin: { from: number; to: number },
  storeIn: number,
): PlanBinKpis {
  const { from, to } = bin;
  const lines: PlanBinKpis['lines'] = {};
  for (const e of plan.crossings) {
    if (e.ts < from || e.ts >= to) continue;
    (lines[e.line] ??= { in: 0, out: 0 })[e.direction] += 1;
  }
  const queueNames = new Set(settings.plan?.queueZones ?? []);
  const zones: PlanBinKpis['zones'] = {};
  const queues: PlanBinKpis['queues'] = {};
  for (const [name, visits] of plan.visitsByZone) {
    if (queueNames.has(name)) queues[name] = queueStats(visits, from, to);
    const ended = visits.filter((v) => v.ts >= from && v.ts < to);
    const occupancy = presence(visits, from, to);
    // A zone someone stood in all through the bin has an occupancy even without a visit ending.
    if (ended.length === 0 && occupancy.max === 0) continue;
    zones[name] = { ...dwellStats(ended, settings, storeIn), occupancy_mean: occupancy.mean, occupancy_max: occupancy.max };
  }
  for (const name of queueNames) queues[name] ??= queueStats([], from, to);
  return { lines, zones, queues };
}
