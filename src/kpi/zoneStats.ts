/**
 * Statistics of one zone's visits in one bin, shared by camera zones and floor-plan zones so that
 * both follow exactly the same definitions (docs/kpis.md). Pure.
 */

/** The visit fields the statistics need: camera `zone_visit` and store-level `plan_zone_visit` both have them. */
export interface VisitLike {
  /** When the visit ended. */
  ts: number;
  enter_ts: number;
  dwell_ms: number;
  counted: boolean;
}

export interface DwellStats {
  /** Visits that reached the zone's minimum dwell. */
  visits: number;
  /** Shorter pass-throughs (not visits, but part of the bounce rate). */
  passes: number;
  engaged: number;
  dwell_mean_s: number | null;
  dwell_p50_s: number | null;
  dwell_p90_s: number | null;
  /** Visits and passes shorter than the bounce threshold ÷ all of them. */
  bounce_rate: number | null;
  /** Visits ÷ the store's entering traffic in the same bin. */
  visit_rate: number | null;
}

export interface QueueStats {
  /** Time-averaged number of people in the queue zone. */
  length_mean: number;
  length_max: number;
  /** People who left the queue in the bin, and how long they had waited. */
  served: number;
  wait_mean_s: number | null;
  wait_p90_s: number | null;
}

/** Linear-interpolated percentile of sorted values (the spreadsheet PERCENTILE.INC). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = (sorted.length - 1) * p;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
export const round = (x: number | null, digits = 3): number | null => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/** Dwell statistics of the visits that ended in a bin; `storeIn` is the store's entering traffic then. */
export function dwellStats(visits: readonly VisitLike[], thresholds: { engagedDwellMs: number; bounceMs: number }, storeIn: number): DwellStats {
  const counted = visits.filter((v) => v.counted);
  const dwell = counted.map((v) => v.dwell_ms / 1000).sort((a, b) => a - b);
  const bounces = visits.filter((v) => v.dwell_ms < thresholds.bounceMs).length;
  return {
    visits: counted.length,
    passes: visits.length - counted.length,
    engaged: counted.filter((v) => v.dwell_ms >= thresholds.engagedDwellMs).length,
    dwell_mean_s: round(dwell.length ? dwell.reduce((a, b) => a + b, 0) / dwell.length : null, 1),
    dwell_p50_s: round(percentile(dwell, 0.5), 1),
    dwell_p90_s: round(percentile(dwell, 0.9), 1),
    bounce_rate: round(ratio(bounces, visits.length)),
    visit_rate: round(ratio(counted.length, storeIn)),
  };
}

/**
 * People in the zone over [from, to), from the visits as intervals of presence: the time-weighted
 * mean and the most at one moment. Every visit overlapping the bin counts, wherever it ends.
 */
export function presence(visits: readonly VisitLike[], from: number, to: number): { mean: number; max: number } {
  const overlapping = visits.filter((v) => v.enter_ts < to && v.ts > from);
  let area = 0;
  const edges: { ts: number; d: number }[] = [];
  for (const v of overlapping) {
    const a = Math.max(v.enter_ts, from);
    const b = Math.min(v.ts, to);
    area += b - a;
    edges.push({ ts: a, d: 1 }, { ts: b, d: -1 });
  }
  // Leaving before arriving at the same instant: one person handed over is not two.
  edges.sort((x, y) => x.ts - y.ts || x.d - y.d);
  let length = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (length += e.d));
  return { mean: round(area / (to - from), 2)!, max };
}

export function queueStats(visits: readonly VisitLike[], from: number, to: number): QueueStats {
  // Waits belong to the bin the wait ends in; the length counts everyone queueing during the bin.
  const { mean, max } = presence(visits, from, to);
  const ended = visits.filter((v) => v.ts >= from && v.ts < to);
  const waits = ended.map((v) => v.dwell_ms / 1000).sort((a, b) => a - b);
  return {
    length_mean: mean,
    length_max: max,
    served: ended.length,
    wait_mean_s: round(waits.length ? waits.reduce((a, b) => a + b, 0) / waits.length : null, 1),
    wait_p90_s: round(percentile(waits, 0.9), 1),
  };
}
