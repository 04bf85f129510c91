/**
 * Retail KPIs as pure functions of the stored events (definitions: docs/kpis.md, after the
 * industry's usual ones). Same events in, same numbers out: the 1-minute aggregates kept in SQLite
 * and published upstream are this function's output, so anyone can recompute them from the events.
 */
import type { FeedbackVote, StaffPresence, StoreEvent } from './events.js';
import { hasPlanEvents, planBinKpis, type PlanBinKpis, type PlanEvents, type PlanKpiSettings } from './planBin.js';
import { binsBetween, binStart, lastOpening, type BinSize } from './timeBins.js';
import { dwellStats, queueStats, ratio, round, type DwellStats, type QueueStats, type VisitLike } from './zoneStats.js';

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

/**
 * KPIs for each `size` bin of [from, to). `events` must include everything since
 * `kpiHistoryStart(from)` (occupancy and staff presence carry over from earlier in the day); the
 * order does not matter. With `carry` (foldKpiHistory of the events before `from`), `events` need
 * only hold those of [from, to): the bins are the same.
 */
export function computeKpis(events: readonly StoreEvent[], settings: KpiSettings, range: { from: number; to: number; size: BinSize }, carry?: KpiCarry): KpiBin[] {
  // Array.prototype.sort is stable: events of the same instant keep their order, as rows do in storage.
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  let folded = carry;
  if (!folded) {
    // The first bin is whole even when `from` is not on its edge: history ends where it starts.
    const start = binStart(range.from, range.size, settings.timeZone);
    folded = foldKpiHistory(sorted, settings, start);
    // Any plan event in the input gives the bins a plan section, however long before the opening.
    folded.planEvents ||= sorted.some((e) => e.ts < start && (e.type === 'plan_line_crossing' || e.type === 'plan_zone_visit'));
  }
  return foldKpis(sorted, settings, range, folded);
}

/**
 * The same bins as `computeKpis`, in one pass over `events` in time order (ties in storage order),
 * holding per bin only what its figures need: counts and sums, the occupancy walked as events pass,
 * and the visits' times for the dwell percentiles. Events are not kept, so an hourly or daily bin of
 * a busy store costs a few numbers per visit instead of every event of the hour or day (issue 15).
 * `carry` is foldKpiHistory of the events before the first bin's start (`from`, or the start of the
 * bin holding it); earlier events in `events` are ignored for occupancy and staff (the carry has
 * them). Throws on events out of time order.
 */
export function foldKpis(events: Iterable<StoreEvent>, settings: KpiSettings, range: { from: number; to: number; size: BinSize }, carry: KpiCarry): KpiBin[] {
  const entrances = new Set(settings.entrances.map(entranceKey));
  const queueKeys = new Set(settings.queueZones.map((q) => lineKey(q.camera, q.zone)));
  const outsideKey = settings.outsideLine ? lineKey(settings.outsideLine.camera, settings.outsideLine.line) : undefined;
  const bins = binsBetween(range.from, range.to, range.size, settings.timeZone).map((b) => new BinTally(b.from, b.to, entrances));
  const occupancy = new OccupancyWalk(bins, settings, carry.occupancy);
  const staffEvents: StaffPresence[] = [...carry.staff];
  const plan: PlanEvents = { crossings: [], visitsByZone: new Map() };
  // Zones in the order of their first visit; queue zones keep every visit (their length counts visits under way).
  const zones = new Map<string, { queueVisits: VisitLike[] | undefined }>();

  let last = -Infinity;
  for (const e of events) {
    if (e.ts < last) throw new Error(`foldKpis needs events in time order: ${e.type} at ${e.ts} after ${last}`);
    last = e.ts;
    const history = e.ts < (bins[0]?.from ?? range.from);
    const move = history ? undefined : entranceMove(e, entrances);
    if (move) occupancy.move(move);
    const bin = bins[binIndex(bins, e.ts)];
    if (bin && move) bin.addMove(move);
    switch (e.type) {
      case 'line_crossing':
        if (bin) bin.addCrossing(lineKey(e.camera, e.line), e.direction);
        break;
      case 'zone_visit': {
        const key = lineKey(e.camera, e.zone);
        let zone = zones.get(key);
        if (!zone) zones.set(key, (zone = { queueVisits: queueKeys.has(key) ? [] : undefined }));
        const visit: VisitLike = { ts: e.ts, enter_ts: e.enter_ts, dwell_ms: e.dwell_ms, counted: e.counted };
        zone.queueVisits?.push(visit);
        if (bin) bin.addVisit(key, visit);
        break;
      }
      case 'pos_transaction':
        if (bin) bin.addSale(e.amount);
        break;
      case 'feedback_vote':
        if (bin) bin.votes.add(e);
        break;
      case 'staff_presence':
        if (!history) staffEvents.push(e);
        break;
      case 'plan_line_crossing':
        plan.crossings.push({ ts: e.ts, line: e.line, direction: e.direction });
        break;
      case 'plan_zone_visit': {
        let list = plan.visitsByZone.get(e.zone);
        if (!list) plan.visitsByZone.set(e.zone, (list = []));
        list.push({ ts: e.ts, enter_ts: e.enter_ts, dwell_ms: e.dwell_ms, counted: e.counted });
        break;
      }
    }
  }
  occupancy.finish();

  const staffSteps = staffTimeline(staffEvents);
  const withPlan = settings.plan !== undefined || hasPlanEvents(plan) || carry.planEvents;
  return bins.map((b): KpiBin => {
    const { from, to, trafficIn } = b;
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

    const zoneStats: Record<string, DwellStats> = {};
    const queues: Record<string, QueueStats> = {};
    for (const [key, zone] of zones) {
      if (zone.queueVisits) queues[key] = queueStats(zone.queueVisits, from, to);
      const ended = b.visits.get(key);
      if (ended) zoneStats[key] = dwellStats(ended, settings, trafficIn);
    }
    for (const key of queueKeys) queues[key] ??= queueStats([], from, to);

    const passersBy = outsideKey ? (b.lines[outsideKey]?.in ?? 0) + (b.lines[outsideKey]?.out ?? 0) : null;
    const salesAmount = Math.round(b.salesSum * 100) / 100;
    const visitors = staff ? staff.shopper_in : trafficIn;
    return {
      from,
      to,
      traffic: { in: trafficIn, out: b.trafficOut, by_entrance: b.byEntrance },
      staff,
      occupancy: { end: b.occupancyEnd, max: b.occupancyMax },
      lines: b.lines,
      zones: zoneStats,
      queues,
      passers_by: passersBy,
      capture_rate: passersBy === null ? null : round(ratio(trafficIn, passersBy)),
      transactions: b.transactions,
      sales: salesAmount,
      conversion: round(ratio(b.transactions, visitors)),
      sales_per_visitor: round(ratio(salesAmount, visitors), 2),
      satisfaction: b.votes.result(),
      ...(withPlan ? { plan: planBinKpis(plan, settings, { from, to }, trafficIn) } : {}),
    };
  });
}

/** The bin holding `ts` (bins are contiguous and in order), or -1. */
function binIndex(bins: readonly { from: number; to: number }[], ts: number): number {
  let lo = 0;
  let hi = bins.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = bins[mid]!;
    if (ts < b.from) hi = mid - 1;
    else if (ts >= b.to) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** What one bin's figures need, added to as the events pass. */
class BinTally {
  trafficIn = 0;
  trafficOut = 0;
  readonly byEntrance: Record<string, { in: number; out: number }> = {};
  readonly lines: Record<string, { in: number; out: number }> = {};
  /** Visits (camera zones) that ended in the bin, per zone. */
  readonly visits = new Map<string, VisitLike[]>();
  transactions = 0;
  salesSum = 0;
  readonly votes = new VoteTally();
  occupancyMax = 0;
  occupancyEnd = 0;

  constructor(
    readonly from: number,
    readonly to: number,
    entrances: ReadonlySet<string>,
  ) {
    for (const key of entrances) this.byEntrance[key] = { in: 0, out: 0 };
  }

  addMove(m: EntranceMove): void {
    this.byEntrance[m.key]!.in += m.in;
    this.byEntrance[m.key]!.out += m.out;
    this.trafficIn += m.in;
    this.trafficOut += m.out;
  }

  addCrossing(key: string, direction: 'in' | 'out'): void {
    (this.lines[key] ??= { in: 0, out: 0 })[direction] += 1;
  }

  addVisit(key: string, visit: VisitLike): void {
    let list = this.visits.get(key);
    if (!list) this.visits.set(key, (list = []));
    list.push(visit);
  }

  addSale(amount: number): void {
    this.transactions += 1;
    this.salesSum += amount;
  }
}

/** Feedback votes per zone ("store" for terminals without one), summed as they come. */
class VoteTally {
  private readonly byZone: Record<string, Satisfaction> = {};
  private readonly sums: Record<string, number> = {};

  add(v: FeedbackVote): void {
    const key = v.zone ?? 'store';
    const s = (this.byZone[key] ??= { votes: 0, score: null, distribution: {} });
    s.votes += 1;
    s.distribution[String(v.score)] = (s.distribution[String(v.score)] ?? 0) + 1;
    // Mapped to 0 (worst) … 1 (best) so that terminals with different scales compare.
    this.sums[key] = (this.sums[key] ?? 0) + (v.scale > 1 ? (v.score - 1) / (v.scale - 1) : 1);
  }

  result(): Record<string, Satisfaction> {
    for (const [key, s] of Object.entries(this.byZone)) s.score = round(this.sums[key]! / s.votes);
    return this.byZone;
  }
}

/**
 * The store's occupancy walked through the bins as entrance moves pass, in time order: 0 at each
 * opening, never below 0. Each bin gets the occupancy at its end and the most at any moment of it
 * (including what it started with), without keeping the moves.
 */
class OccupancyWalk {
  private opening = -Infinity;
  private value = 0;
  /** The last point of the timeline (a move, or an opening's reset to 0). */
  private last: { ts: number; value: number } | undefined;
  /** The bin whose points are arriving; the bins before it are settled. */
  private current = 0;
  /** Whether the current bin's starting occupancy has been taken into its maximum. */
  private started = false;

  constructor(
    private readonly bins: readonly BinTally[],
    private readonly settings: KpiSettings,
    carried: { ts: number; value: number } | undefined,
  ) {
    if (carried) {
      this.opening = lastOpening(carried.ts, settings.openingTime, settings.timeZone);
      this.value = carried.value;
      this.point(this.opening, 0);
      this.point(carried.ts, carried.value);
    }
  }

  move(m: EntranceMove): void {
    const o = lastOpening(m.ts, this.settings.openingTime, this.settings.timeZone);
    if (o !== this.opening) {
      this.opening = o;
      this.value = 0;
      this.point(o, 0);
    }
    this.value = Math.max(0, this.value + m.in - m.out);
    this.point(m.ts, this.value);
  }

  /** Settles the bins after the last move. */
  finish(): void {
    while (this.current < this.bins.length) this.settle();
  }

  private point(ts: number, value: number): void {
    while (this.current < this.bins.length && ts >= this.bins[this.current]!.to) this.settle();
    const bin = this.bins[this.current];
    if (bin && ts >= bin.from) {
      // The occupancy the bin starts with is known once every point at its first instant is in.
      if (ts > bin.from) this.takeStart(bin);
      bin.occupancyMax = Math.max(bin.occupancyMax, value);
    }
    this.last = { ts, value };
  }

  private takeStart(bin: BinTally): void {
    if (this.started) return;
    bin.occupancyMax = Math.max(bin.occupancyMax, this.before(bin.from + 1));
    this.started = true;
  }

  private settle(): void {
    const bin = this.bins[this.current]!;
    this.takeStart(bin);
    bin.occupancyEnd = this.before(bin.to);
    this.current += 1;
    this.started = false;
  }

  /** Occupancy just before `t` (every point before `t` is in): the last value since the latest opening. */
  private before(t: number): number {
    if (!this.last) return 0;
    return this.last.ts >= lastOpening(t - 1, this.settings.openingTime, this.settings.timeZone) ? this.last.value : 0;
  }
}
