/**
 * Buying units: people who come in together and shop as one (a couple, a family) count once for
 * conversion. The rule, as documented in docs/journeys.md:
 *
 * 1. Candidates: two tracks whose first sightings are at most `max_entry_gap_s` apart.
 * 2. Together: over the window [later start, later start + `together_s`], sampled every 200 ms with
 *    both positions interpolated between their own sightings, the two are within `max_distance_m`
 *    in at least `together_fraction` of the samples. A moment where either is unknown (before its
 *    first or after its last sighting) counts as apart, so a track that vanishes early is alone.
 * 3. Units: complete linkage — every pair in a unit must be "together" (a stranger who walked next
 *    to one member only does not join). Pairs are merged closest first (mean distance over the
 *    window), never beyond `max_size` people. Everyone else is a unit of one.
 *
 * Decisions are final and streaming: a track's pairs are all known `max_entry_gap_s + together_s`
 * after it starts, and units are cut in start order from then on (see `decide`).
 */
import type { BuyingUnitRule } from './journeyConfig.js';

const GRID_STEP_MS = 200;

interface TraceSample {
  tMs: number;
  x: number;
  y: number;
}

interface EntryTrace {
  startMs: number;
  samples: TraceSample[];
  /** Sightings are kept until the first one past this time (enough for every pair it can be in). */
  keepUntilMs: number;
  complete: boolean;
}

interface PendingPair {
  a: string;
  b: string;
  dueMs: number;
}

export interface BuyingUnit {
  /** Stream-local: never leaves the gateway. */
  members: string[];
}

export interface PairVerdict {
  together: boolean;
  fraction: number;
  meanDistanceM: number;
}

/** Position at `tMs` interpolated between the bracketing sightings; undefined outside the trace. */
function positionAt(samples: readonly TraceSample[], tMs: number): TraceSample | undefined {
  if (samples.length === 0 || tMs < samples[0]!.tMs || tMs > samples[samples.length - 1]!.tMs) return undefined;
  let lo = 0;
  let hi = samples.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]!.tMs <= tMs) lo = mid;
    else hi = mid;
  }
  const a = samples[lo]!;
  const b = samples[hi]!;
  if (b.tMs === a.tMs) return a;
  const f = Math.min(1, Math.max(0, (tMs - a.tMs) / (b.tMs - a.tMs)));
  return { tMs, x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
}

/** Rule step 2 for two entry traces (pure; exported for tests and the docs' examples). */
export function walkTogether(a: { startMs: number; samples: readonly TraceSample[] }, b: { startMs: number; samples: readonly TraceSample[] }, rule: BuyingUnitRule): PairVerdict {
  const windowStart = Math.max(a.startMs, b.startMs);
  const windowMs = rule.together_s * 1000;
  let near = 0;
  let total = 0;
  let distanceSum = 0;
  let measured = 0;
  for (let t = windowStart; t <= windowStart + windowMs; t += GRID_STEP_MS) {
    total += 1;
    const pa = positionAt(a.samples, t);
    const pb = positionAt(b.samples, t);
    if (!pa || !pb) continue;
    const d = Math.hypot(pa.x - pb.x, pa.y - pb.y);
    distanceSum += d;
    measured += 1;
    if (d <= rule.max_distance_m) near += 1;
  }
  const fraction = total === 0 ? 0 : near / total;
  return { together: fraction >= rule.together_fraction, fraction, meanDistanceM: measured === 0 ? Infinity : distanceSum / measured };
}

export class BuyingUnitGrouper {
  private readonly traces = new Map<string, EntryTrace>();
  private readonly pending: PendingPair[] = [];
  /** Together pairs among undecided tracks: track → partner → mean distance. */
  private readonly edges = new Map<string, Map<string, number>>();
  /** Decided track ids are remembered until their journeys are matched, so a late sighting cannot restart one. */
  private readonly decided = new Set<string>();
  private readonly gapMs: number;
  private readonly togetherMs: number;

  constructor(private readonly rule: BuyingUnitRule) {
    this.gapMs = rule.max_entry_gap_s * 1000;
    this.togetherMs = rule.together_s * 1000;
  }

  /** Tracks whose unit is not decided yet. */
  get undecidedCount(): number {
    return this.traces.size;
  }

  observe(trackId: string, tMs: number, x: number, y: number): void {
    let trace = this.traces.get(trackId);
    if (!trace) {
      if (this.decided.has(trackId)) return;
      trace = { startMs: tMs, samples: [], keepUntilMs: tMs + this.gapMs + this.togetherMs, complete: false };
      for (const [otherId, other] of this.traces) {
        if (tMs - other.startMs > this.gapMs) continue;
        this.pending.push({ a: otherId, b: trackId, dueMs: tMs + this.togetherMs });
      }
      this.traces.set(trackId, trace);
    }
    if (trace.complete) return;
    trace.samples.push({ tMs, x, y });
    if (tMs > trace.keepUntilMs) trace.complete = true;
  }

  /** Units decided by `tMs` (sightings up to `tMs` must have been observed). */
  poll(tMs: number): BuyingUnit[] {
    this.evaluatePairs(tMs);
    return this.decide((trace) => tMs >= trace.keepUntilMs);
  }

  /** Decides every remaining track with what was seen (end of a recording, shutdown). */
  flush(): BuyingUnit[] {
    this.evaluatePairs(Infinity);
    return this.decide(() => true);
  }

  /** The stream has matched this track's unit with its journey: its id may be forgotten. */
  forget(trackId: string): void {
    this.decided.delete(trackId);
  }

  private evaluatePairs(tMs: number): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const pair = this.pending[i]!;
      if (pair.dueMs > tMs) continue;
      this.pending.splice(i, 1);
      const a = this.traces.get(pair.a);
      const b = this.traces.get(pair.b);
      if (!a || !b) continue;
      const verdict = walkTogether(a, b, this.rule);
      if (!verdict.together) continue;
      this.edgeMap(pair.a).set(pair.b, verdict.meanDistanceM);
      this.edgeMap(pair.b).set(pair.a, verdict.meanDistanceM);
    }
  }

  private edgeMap(id: string): Map<string, number> {
    let m = this.edges.get(id);
    if (!m) this.edges.set(id, (m = new Map()));
    return m;
  }

  /**
   * Decides units in start order. Complete linkage means every member of a unit started within
   * max_entry_gap_s of every other, so the earliest undecided track's unit can only hold tracks that
   * started in [its start, its start + gap]; once all their pairs are evaluated (its keepUntilMs), its
   * unit is cut out of that window and the next earliest track is considered. Bounded however long
   * a stream of arrivals keeps pairing up at the door.
   */
  private decide(isFinal: (trace: EntryTrace) => boolean): BuyingUnit[] {
    const units: BuyingUnit[] = [];
    // Map order is first-sighting order, so the first entry is the earliest undecided track.
    for (let first = this.traces.entries().next(); !first.done; first = this.traces.entries().next()) {
      const [earliestId, earliest] = first.value;
      if (!isFinal(earliest)) break;
      const window: string[] = [];
      for (const [id, trace] of this.traces) {
        if (trace.startMs - earliest.startMs > this.gapMs) break;
        window.push(id);
      }
      const members = this.completeLinkage(window).find((cluster) => cluster.includes(earliestId))!;
      units.push({ members });
      for (const member of members) {
        for (const partner of this.edges.get(member)?.keys() ?? []) this.edges.get(partner)?.delete(member);
        this.edges.delete(member);
        this.traces.delete(member);
        this.decided.add(member);
      }
    }
    return units;
  }

  private completeLinkage(candidates: readonly string[]): string[][] {
    const clusterOf = new Map<string, string[]>(candidates.map((id) => [id, [id]]));
    const pairs: { a: string; b: string; d: number }[] = [];
    for (const a of candidates) for (const [b, d] of this.edges.get(a) ?? []) if (a < b && clusterOf.has(b)) pairs.push({ a, b, d });
    pairs.sort((p, q) => p.d - q.d || (p.a + p.b < q.a + q.b ? -1 : 1));
    for (const { a, b } of pairs) {
      const ca = clusterOf.get(a)!;
      const cb = clusterOf.get(b)!;
      if (ca === cb || ca.length + cb.length > this.rule.max_size) continue;
      if (!ca.every((x) => cb.every((y) => this.edges.get(x)?.has(y)))) continue;
      const merged = [...ca, ...cb];
      for (const id of merged) clusterOf.set(id, merged);
    }
    return [...new Set(clusterOf.values())];
  }
}
