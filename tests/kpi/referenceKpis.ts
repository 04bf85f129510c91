/**
 * The KPI computation as it was before it became a single time-ordered pass (issue 15): every event
 * held in memory, each bin filtering them. Kept verbatim as the oracle that the streaming fold in
 * src/kpi/kpiEngine.ts must match bin for bin (tests/kpi/kpiFold.test.ts). Not used by the product.
 */
import type { FeedbackVote, LineCrossing, StaffPresence, StoreEvent, ZoneVisit } from '../../src/kpi/events.js';
import { lineKey, planEntranceKey, type EntranceRef, type KpiBin, type KpiCarry, type KpiSettings, type Satisfaction } from '../../src/kpi/kpiEngine.js';
import { hasPlanEvents, planBinKpis, type PlanEvents } from '../../src/kpi/planBin.js';
import { binsBetween, lastOpening, type BinSize } from '../../src/kpi/timeBins.js';
import { dwellStats, queueStats, ratio, round, type DwellStats, type QueueStats } from '../../src/kpi/zoneStats.js';

function groupPlanEvents(events: readonly StoreEvent[]): PlanEvents {
  const crossings: PlanEvents['crossings'] = [];
  const visitsByZone: PlanEvents['visitsByZone'] = new Map();
  for (const e of events) {
    if (e.type === 'plan_line_crossing') crossings.push(e);
    else if (e.type === 'plan_zone_visit') {
      let list = visitsByZone.get(e.zone);
      if (!list) visitsByZone.set(e.zone, (list = []));
      list.push(e);
    }
  }
  return { crossings, visitsByZone };
}

const entranceKey = (e: EntranceRef): string => ('sensor' in e ? e.sensor : 'planLine' in e ? planEntranceKey(e.planLine) : lineKey(e.camera, e.line));

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
export function referenceComputeKpis(events: readonly StoreEvent[], settings: KpiSettings, range: { from: number; to: number; size: BinSize }, carry?: KpiCarry): KpiBin[] {
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
