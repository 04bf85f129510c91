/**
 * Retail KPIs as pure functions of the stored events (definitions: docs/kpis.md, after the
 * industry's usual ones). Same events in, same numbers out: the 1-minute aggregates kept in SQLite
 * and published upstream are this function's output, so anyone can recompute them from the events.
 */
import type { FeedbackVote, LineCrossing, StaffPresence, StoreEvent, ZoneVisit } from './events.js';
import { groupPlanEvents, hasPlanEvents, planBinKpis, type PlanBinKpis, type PlanKpiSettings } from './planBin.js';
import { binsBetween, lastOpening, type BinSize } from './timeBins.js';
import { dwellStats, queueStats, ratio, round, type DwellStats, type QueueStats } from './zoneStats.js';

export { percentile } from './zoneStats.js';
export type { DwellStats, QueueStats } from './zoneStats.js';
export type { PlanBinKpis, PlanZoneStats } from './planBin.js';

/**
 * A camera line, a door counter, or a line drawn on the floor plan (`planLine`): a plan line is
 * crossed once per person however many cameras see the door, so it is the footfall without double
 * counting when the cameras at the entrance overlap.
 */
export type EntranceRef = { camera: string; line: string } | { sensor: string } | { planLine: string };

export interface KpiSettings {
  timeZone: string;
  /** Local "HH:MM" at which occupancy restarts from 0 (counting errors do not pile up over days). */
  openingTime: string;
  /** Lines (and door counters) whose crossings are the store's traffic. */
  entrances: readonly EntranceRef[];
  /** A line on the pavement outside: its crossings are the passers-by of the capture rate. */
  outsideLine?: { camera: string; line: string };
  /** A zone visit at least this long is "engaged". */
  engagedDwellMs: number;
  /** A zone visit shorter than this is a bounce. */
  bounceMs: number;
  queueZones: readonly { camera: string; zone: string }[];
  /** Present when the store has a floor plan (`plan` in the config): bins then carry a `plan` section. */
  plan?: PlanKpiSettings;
}

export interface Satisfaction {
  votes: number;
  /** Mean vote mapped to 0 (worst) … 1 (best), so terminals with different scales compare. */
  score: number | null;
  /** Votes per button (1 … scale). */
  distribution: Record<string, number>;
}

export interface KpiBin {
  from: number;
  to: number;
  traffic: { in: number; out: number; by_entrance: Record<string, { in: number; out: number }> };
  /** Known only when staff badges are configured (a staff_presence event has been seen). */
  staff: { entries: number; present_mean: number; shopper_in: number; shoppers_per_staff: number | null } | null;
  occupancy: { end: number; max: number };
  lines: Record<string, { in: number; out: number }>;
  zones: Record<string, DwellStats>;
  queues: Record<string, QueueStats>;
  passers_by: number | null;
  capture_rate: number | null;
  transactions: number;
  sales: number;
  conversion: number | null;
  sales_per_visitor: number | null;
  /** Per zone ("store" for terminals without one). */
  satisfaction: Record<string, Satisfaction>;
  /**
   * Store-level lines and zones on the floor plan, keyed by their plan names. Absent when the store
   * has no plan and no plan events (bins of such stores are unchanged) and in bins stored before it existed.
   */
  plan?: PlanBinKpis;
}

export const lineKey = (camera: string, line: string): string => `${camera}/${line}`;
/** by_entrance key of a plan line: "plan:" cannot start a camera id, so it never reads as "<camera>/<line>". */
export const planEntranceKey = (line: string): string => `plan:${line}`;
const entranceKey = (e: EntranceRef): string => ('sensor' in e ? e.sensor : 'planLine' in e ? planEntranceKey(e.planLine) : lineKey(e.camera, e.line));

/** Where the events passed to `computeKpis` must start for `from`: occupancy needs the day so far. */
export function kpiHistoryStart(from: number, settings: KpiSettings): number {
  return lastOpening(from, settings.openingTime, settings.timeZone);
}

/** Event types `computeKpis` reads; the others (sensor readings, beacon presence) never change a bin. */
export const KPI_EVENT_TYPES: readonly StoreEvent['type'][] = ['line_crossing', 'zone_visit', 'door_count', 'pos_transaction', 'feedback_vote', 'staff_presence', 'plan_line_crossing', 'plan_zone_visit'];

/**
 * What the bins of [from, …) need of the events before `from`, folded: the occupancy after the day's
 * entrance moves so far, each staff badge's last presence event (from a day before the opening), and
 * whether there were plan events. A few numbers instead of the whole day's events, so computing a
 * 1-minute bin late in a busy day holds one minute of events, not the day (issue 15).
 */
export interface KpiCarry {
  /** The last entrance move before `from` since its opening, and the occupancy after it. */
  occupancy: { ts: number; value: number } | undefined;
  staff: StaffPresence[];
  planEvents: boolean;
}

/**
 * Folds the events before `from` into a carry, one event at a time (none is kept). `history` must be
 * in time order (ties in storage order) and hold the entrance moves since `kpiHistoryStart(from)`
 * and the staff presence since a day before that; other events are ignored.
 */
export function foldKpiHistory(history: Iterable<StoreEvent>, settings: KpiSettings, from: number): KpiCarry {
  const entrances = new Set(settings.entrances.map(entranceKey));
  const historyFrom = kpiHistoryStart(from, settings);
  const staff = new Map<string, StaffPresence>();
  let occupancy: KpiCarry['occupancy'];
  let opening = -Infinity;
  let planEvents = false;
  for (const e of history) {
    if (e.ts >= from) continue;
    if (e.type === 'staff_presence') {
      staff.delete(e.badge); // re-inserted: the map keeps the badges in the order of their last event
      staff.set(e.badge, e);
      continue;
    }
    if (e.ts < historyFrom) continue;
    if (e.type === 'plan_line_crossing' || e.type === 'plan_zone_visit') planEvents = true;
    const move = entranceMove(e, entrances);
    if (!move) continue;
    // The same steps as occupancyTimeline: 0 at each opening, never below 0.
    const o = lastOpening(e.ts, settings.openingTime, settings.timeZone);
    let value = occupancy?.value ?? 0;
    if (o !== opening) {
      opening = o;
      value = 0;
    }
    occupancy = { ts: e.ts, value: Math.max(0, value + move.in - move.out) };
  }
  return { occupancy, staff: [...staff.values()], planEvents };
}

interface EntranceMove {
  ts: number;
  key: string;
  in: number;
  out: number;
}

/** An event's entrance movement (+in, −out), if it is a crossing of an entrance line or a door count. */
function entranceMove(e: StoreEvent, entrances: ReadonlySet<string>): EntranceMove | undefined {
  if (e.type === 'line_crossing') {
    const key = lineKey(e.camera, e.line);
    if (entrances.has(key)) return { ts: e.ts, key, in: e.direction === 'in' ? 1 : 0, out: e.direction === 'out' ? 1 : 0 };
  } else if (e.type === 'plan_line_crossing') {
    const key = planEntranceKey(e.line);
    if (entrances.has(key)) return { ts: e.ts, key, in: e.direction === 'in' ? 1 : 0, out: e.direction === 'out' ? 1 : 0 };
  } else if (e.type === 'door_count' && entrances.has(e.sensor)) {
    return { ts: e.ts, key: e.sensor, in: e.in, out: e.out };
  }
  return undefined;
}

/** Signed entrance movements (+in, −out) in time order, from lines and door counters. */
function entranceMoves(events: readonly StoreEvent[], entrances: ReadonlySet<string>): EntranceMove[] {
  const moves: EntranceMove[] = [];
  for (const e of events) {
    const move = entranceMove(e, entrances);
    if (move) moves.push(move);
  }
  return moves.sort((a, b) => a.ts - b.ts);
}

/**
 * Occupancy after each move, restarting at 0 at every opening time and never below 0; `carried`
 * (the last move before these, folded by foldKpiHistory) continues the timeline of earlier moves.
 */
function occupancyTimeline(moves: readonly { ts: number; in: number; out: number }[], settings: KpiSettings, carried?: { ts: number; value: number }): { ts: number; value: number }[] {
  const timeline: { ts: number; value: number }[] = [];
  let value = 0;
  let opening = -Infinity;
  if (carried) {
    opening = lastOpening(carried.ts, settings.openingTime, settings.timeZone);
    value = carried.value;
    timeline.push({ ts: opening, value: 0 }, { ts: carried.ts, value });
  }
  for (const m of moves) {
    const o = lastOpening(m.ts, settings.openingTime, settings.timeZone);
    if (o !== opening) {
      opening = o;
      value = 0;
      timeline.push({ ts: o, value });
    }
    value = Math.max(0, value + m.in - m.out);
    timeline.push({ ts: m.ts, value });
  }
  return timeline;
}

/** Occupancy just before `t`: the last value since the latest opening, 0 if nothing moved since. */
function occupancyBefore(timeline: readonly { ts: number; value: number }[], t: number, settings: KpiSettings): number {
  const opening = lastOpening(t - 1, settings.openingTime, settings.timeZone);
  let value = 0;
  for (const point of timeline) {
    if (point.ts >= t) break;
    value = point.ts >= opening ? point.value : 0;
  }
  return value;
}

/** Staff badges present over time: a step function from presence changes. */
function staffTimeline(events: readonly StaffPresence[]): { ts: number; present: number; entered: boolean }[] {
  const present = new Set<string>();
  const steps: { ts: number; present: number; entered: boolean }[] = [];
  for (const e of [...events].sort((a, b) => a.ts - b.ts)) {
    const was = present.has(e.badge);
    if (e.present === was) continue;
    if (e.present) present.add(e.badge);
    else present.delete(e.badge);
    steps.push({ ts: e.ts, present: present.size, entered: e.present });
  }
  return steps;
}

/** Time-weighted mean of a step function over [from, to). */
function stepMean(steps: readonly { ts: number; value: number }[], from: number, to: number): number {
  let value = 0;
  let area = 0;
  let t = from;
  for (const s of steps) {
    if (s.ts <= from) {
      value = s.value;
      continue;
    }
    if (s.ts >= to) break;
    area += value * (s.ts - t);
    t = s.ts;
    value = s.value;
  }
  area += value * (to - t);
  return area / (to - from);
}

function satisfaction(votes: readonly FeedbackVote[]): Record<string, Satisfaction> {
  const out: Record<string, Satisfaction> = {};
  const sums: Record<string, number> = {};
  for (const v of votes) {
    const key = v.zone ?? 'store';
    const s = (out[key] ??= { votes: 0, score: null, distribution: {} });
    s.votes += 1;
    s.distribution[String(v.score)] = (s.distribution[String(v.score)] ?? 0) + 1;
    sums[key] = (sums[key] ?? 0) + (v.scale > 1 ? (v.score - 1) / (v.scale - 1) : 1);
  }
  for (const [key, s] of Object.entries(out)) s.score = round(sums[key]! / s.votes);
  return out;
}

/**
 * KPIs for each `size` bin of [from, to). `events` must include everything since
 * `kpiHistoryStart(from)` (occupancy and staff presence carry over from earlier in the day); the
 * order does not matter. With `carry` (foldKpiHistory of the events before `from`), `events` need
 * only hold those of [from, to): the bins are the same.
 */
export function computeKpis(events: readonly StoreEvent[], settings: KpiSettings, range: { from: number; to: number; size: BinSize }, carry?: KpiCarry): KpiBin[] {
  const entrances = new Set(settings.entrances.map(entranceKey));
  const moves = entranceMoves(carry ? events.filter((e) => e.ts >= range.from) : events, entrances);
  const occupancy = occupancyTimeline(moves, settings, carry?.occupancy);
  const staffEvents = [...(carry?.staff ?? []), ...events.filter((e): e is StaffPresence => e.type === 'staff_presence' && (!carry || e.ts >= range.from))];
  const staffSteps = staffTimeline(staffEvents);
  const queueKeys = new Set(settings.queueZones.map((q) => lineKey(q.camera, q.zone)));
  const outsideKey = settings.outsideLine ? lineKey(settings.outsideLine.camera, settings.outsideLine.line) : undefined;
  const planEvents = groupPlanEvents(events);
  const withPlan = settings.plan !== undefined || hasPlanEvents(planEvents) || carry?.planEvents === true;
  const visitsByZone = new Map<string, ZoneVisit[]>();
  for (const e of events) {
    if (e.type !== 'zone_visit') continue;
    const key = lineKey(e.camera, e.zone);
    let list = visitsByZone.get(key);
    if (!list) visitsByZone.set(key, (list = []));
    list.push(e);
  }

  return binsBetween(range.from, range.to, range.size, settings.timeZone).map(({ from, to }) => {
    const inBin = <T extends StoreEvent>(e: T): boolean => e.ts >= from && e.ts < to;
    const binEvents = events.filter(inBin);

    const byEntrance: Record<string, { in: number; out: number }> = {};
    for (const key of entrances) byEntrance[key] = { in: 0, out: 0 };
    let trafficIn = 0;
    let trafficOut = 0;
    for (const m of moves) {
      if (m.ts < from || m.ts >= to) continue;
      byEntrance[m.key]!.in += m.in;
      byEntrance[m.key]!.out += m.out;
      trafficIn += m.in;
      trafficOut += m.out;
    }

    const lines: Record<string, { in: number; out: number }> = {};
    for (const e of binEvents) {
      if (e.type !== 'line_crossing') continue;
      const c = (lines[lineKey(e.camera, e.line)] ??= { in: 0, out: 0 });
      c[(e as LineCrossing).direction] += 1;
    }

    const occEnd = occupancyBefore(occupancy, to, settings);
    let occMax = occupancyBefore(occupancy, from + 1, settings);
    for (const point of occupancy) if (point.ts >= from && point.ts < to) occMax = Math.max(occMax, point.value);

    let staff: KpiBin['staff'] = null;
    if (staffEvents.length > 0) {
      const entries = staffSteps.filter((s) => s.entered && s.ts >= from && s.ts < to).length;
      const presentMean = stepMean(
        staffSteps.map((s) => ({ ts: s.ts, value: s.present })),
        from,
        to,
      );
      const shopperIn = Math.max(0, trafficIn - entries);
      staff = { entries, present_mean: round(presentMean, 2)!, shopper_in: shopperIn, shoppers_per_staff: round(presentMean > 0 ? shopperIn / presentMean : null, 2) };
    }

    const zones: Record<string, DwellStats> = {};
    const queues: Record<string, QueueStats> = {};
    for (const [key, visits] of visitsByZone) {
      const ended = visits.filter(inBin);
      if (queueKeys.has(key)) queues[key] = queueStats(visits, from, to);
      if (ended.length > 0) zones[key] = dwellStats(ended, settings, trafficIn);
    }
    for (const key of queueKeys) queues[key] ??= queueStats([], from, to);

    const passersBy = outsideKey ? (lines[outsideKey]?.in ?? 0) + (lines[outsideKey]?.out ?? 0) : null;
    const sales = binEvents.filter((e) => e.type === 'pos_transaction');
    const salesAmount = Math.round(sales.reduce((a, e) => a + e.amount, 0) * 100) / 100;
    const visitors = staff ? staff.shopper_in : trafficIn;

    return {
      from,
      to,
      traffic: { in: trafficIn, out: trafficOut, by_entrance: byEntrance },
      staff,
      occupancy: { end: occEnd, max: occMax },
      lines,
      zones,
      queues,
      passers_by: passersBy,
      capture_rate: passersBy === null ? null : round(ratio(trafficIn, passersBy)),
      transactions: sales.length,
      sales: salesAmount,
      conversion: round(ratio(sales.length, visitors)),
      sales_per_visitor: round(ratio(salesAmount, visitors), 2),
      satisfaction: satisfaction(binEvents.filter((e): e is FeedbackVote => e.type === 'feedback_vote')),
      ...(withPlan ? { plan: planBinKpis(planEvents, settings, { from, to }, trafficIn) } : {}),
    };
  });
}
