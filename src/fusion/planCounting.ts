/**
 * Store-level counting: the same directional counting lines and dwell zones as a camera's
 * (src/vision/analytics), run on fused store tracks in plan metres, so one person seen by two
 * cameras crosses a plan line once and visits a plan zone once. Its events carry no track id.
 */
import type { PlanLineCrossing, PlanZoneVisit } from '../kpi/events.js';
import { CountingLine } from '../vision/analytics/countingLine.js';
import type { AnalyticsEvent, TrackPoint } from '../vision/analytics/trackPoint.js';
import { Zone } from '../vision/analytics/zone.js';
import type { PlanConfig } from './planConfigSchema.js';
import type { FusedTick } from './storeFuser.js';

/** Store-level events: the store's own event types, so they go through the event store, KPIs and upstream. */
export type PlanEvent = PlanLineCrossing | PlanZoneVisit;

export interface PlanSummary {
  lines: Record<string, { in: number; out: number }>;
  zones: Record<string, { visits: number; dwell_s_total: number; pass_throughs: number; max_occupancy: number }>;
  /** Most store tracks on the plan at one moment. */
  max_people: number;
}

function withoutTrack(e: AnalyticsEvent): PlanEvent {
  if (e.type === 'line_crossing') return { type: 'plan_line_crossing', ts: e.timestampMs, line: e.line, direction: e.direction };
  return { type: 'plan_zone_visit', ts: e.exitMs, zone: e.zone, enter_ts: e.enterMs, dwell_ms: e.dwellMs, counted: e.counted };
}

export class PlanCounter {
  // The counters' geometry is unit-free: fed metres with thresholds in metres, they count in metres.
  readonly lines: CountingLine[];
  readonly zones: Zone[];
  private maxPeople = 0;
  private people = 0;

  constructor(plan: Pick<PlanConfig, 'lines' | 'zones'>) {
    this.lines = plan.lines.map((l) => new CountingLine(l));
    this.zones = plan.zones.map((z) => new Zone(z));
  }

  /** Feeds released fused ticks (StoreFuser.tick / flush), in time order. */
  update(ticks: readonly FusedTick[]): PlanEvent[] {
    const events: PlanEvent[] = [];
    for (const tick of ticks) {
      const points: TrackPoint[] = tick.positions.map((p) => ({ trackId: p.storeTrackId, x: p.x, y: p.y }));
      for (const line of this.lines) for (const e of line.update(points, tick.tMs)) events.push(withoutTrack(e));
      for (const zone of this.zones) for (const e of zone.update(points, tick.tMs)) events.push(withoutTrack(e));
      this.people = points.length;
      this.maxPeople = Math.max(this.maxPeople, this.people);
    }
    return events;
  }

  /** People on the plan at the last tick (store-level occupancy of everything the cameras see). */
  get currentPeople(): number {
    return this.people;
  }

  /** Closes open zone visits (end of a recording, shutdown). */
  finish(): PlanEvent[] {
    return this.zones.flatMap((z) => z.flush()).map(withoutTrack);
  }

  summary(): PlanSummary {
    return {
      lines: Object.fromEntries(this.lines.map((l) => [l.name, { ...l.counts }])),
      zones: Object.fromEntries(
        this.zones.map((z) => [z.name, { visits: z.stats.visits, dwell_s_total: Math.round(z.stats.dwellMsTotal) / 1000, pass_throughs: z.stats.passThroughs, max_occupancy: z.stats.maxOccupancy }]),
      ),
      max_people: this.maxPeople,
    };
  }
}
