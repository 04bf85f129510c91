/**
 * Finished journeys kept as 1-minute count bins (no track ids, no times per person), from which a
 * report for any period and bin size is merged. A journey belongs to the minute it ended in; a
 * buying unit to the minute its last member's journey ended in. Pruned by age; the gateway saves the
 * changed bins (`takeChanged`) and restores them after a restart (src/gateway/gatewayJourneys.ts).
 */
import { addJourney, addUnit, emptyCounts, funnelDepth, journeyReport, mergeCounts, zoneSequence, type JourneyCounts, type JourneyReport } from './journeyAggregate.js';
import type { CompletedJourney } from './journeyStream.js';

const MINUTE_MS = 60_000;

export interface JourneyAccumulatorSettings {
  /** Plan zone names in config order (the matrix's row and column order). */
  zones: readonly string[];
  funnel: readonly string[];
  minPathCount: number;
  /** Bins older than this are dropped by `prune`. */
  retentionMs: number;
}

interface PendingUnit {
  size: number;
  received: number;
  depth: number;
  lastEndMs: number;
}

export class JourneyAccumulator {
  private readonly minutes = new Map<number, JourneyCounts>();
  private readonly pendingUnits = new Map<string, PendingUnit>();
  /** Minutes changed since `takeChanged` (what a persistent copy must rewrite). */
  private readonly changed = new Set<number>();

  constructor(readonly settings: JourneyAccumulatorSettings) {}

  /** Units with members still walking. */
  get pendingUnitCount(): number {
    return this.pendingUnits.size;
  }

  get binCount(): number {
    return this.minutes.size;
  }

  add(journey: CompletedJourney): void {
    const sequence = zoneSequence(journey.visits);
    addJourney(this.minute(journey.endMs), journey.visits, this.settings.funnel);
    const unit = this.pendingUnits.get(journey.unitKey) ?? { size: journey.unitSize, received: 0, depth: 0, lastEndMs: -Infinity };
    unit.received += 1;
    unit.depth = Math.max(unit.depth, funnelDepth(sequence, this.settings.funnel));
    unit.lastEndMs = Math.max(unit.lastEndMs, journey.endMs);
    if (unit.received < unit.size) {
      this.pendingUnits.set(journey.unitKey, unit);
      return;
    }
    this.pendingUnits.delete(journey.unitKey);
    addUnit(this.minute(unit.lastEndMs), unit.size, unit.depth);
  }

  /** Minute bins changed since the last call, for saving (the counts hold no track id). */
  takeChanged(): [number, JourneyCounts][] {
    const out: [number, JourneyCounts][] = [];
    for (const minute of this.changed) {
      const counts = this.minutes.get(minute);
      if (counts) out.push([minute, counts]);
    }
    this.changed.clear();
    return out;
  }

  /** Adds saved minute bins back (after a restart); counts already there are added to, not replaced. */
  restore(bins: readonly [number, JourneyCounts][]): void {
    for (const [minute, counts] of bins) {
      if (counts.funnelPersons.length !== this.settings.funnel.length) continue; // saved under another funnel
      mergeCounts(this.minute(minute), counts);
    }
  }

  /** The merged counts of [from, to) as a report (paths under the minimum count folded into "other"). */
  report(from: number, to: number): JourneyReport {
    const merged = emptyCounts(this.settings.funnel.length);
    for (const [minute, counts] of this.minutes) if (minute >= from && minute < to) mergeCounts(merged, counts);
    return journeyReport(merged, { zones: this.settings.zones, funnel: this.settings.funnel, minPathCount: this.settings.minPathCount });
  }

  /** Drops bins that ended more than the retention before `nowMs`. */
  prune(nowMs: number): void {
    for (const minute of this.minutes.keys()) if (minute + MINUTE_MS < nowMs - this.settings.retentionMs) this.minutes.delete(minute);
  }

  private minute(tMs: number): JourneyCounts {
    const key = Math.floor(tMs / MINUTE_MS) * MINUTE_MS;
    this.changed.add(key);
    let counts = this.minutes.get(key);
    if (!counts) this.minutes.set(key, (counts = emptyCounts(this.settings.funnel.length)));
    return counts;
  }
}
