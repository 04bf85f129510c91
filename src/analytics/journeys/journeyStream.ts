/**
 * One stream of plan-track samples (the fused store-level tracks, or one calibrated camera) turned
 * into finished journeys, each tagged with the buying unit it belongs to. A journey is handed on
 * once both are known: the track has ended and its unit has been decided.
 */
import { BuyingUnitGrouper } from './buyingUnits.js';
import type { JourneySetup } from './journeyConfig.js';
import { JourneyTracker, type Journey } from './journeyTracker.js';
import type { PlanTrackSample } from './planTrack.js';

export interface CompletedJourney extends Journey {
  /** Same for every member of one buying unit; local to the gateway (never sent anywhere). */
  unitKey: string;
  unitSize: number;
}

export interface JourneyStreamStats {
  framesRejected: number;
  samplesRejected: number;
}

export class JourneyStream {
  private readonly tracker: JourneyTracker;
  private readonly grouper: BuyingUnitGrouper;
  private readonly endedWithoutUnit = new Map<string, Journey>();
  private readonly unitOfTrack = new Map<string, { unitKey: string; unitSize: number }>();
  private nextUnit = 1;
  private lastFrameMs = -Infinity;
  readonly stats: JourneyStreamStats = { framesRejected: 0, samplesRejected: 0 };

  constructor(
    /** Makes unit keys unique when several streams feed one accumulator. */
    private readonly name: string,
    setup: Pick<JourneySetup, 'zones' | 'endGapS' | 'groups'>,
  ) {
    this.tracker = new JourneyTracker(setup.zones, setup.endGapS * 1000);
    this.grouper = new BuyingUnitGrouper(setup.groups);
  }

  /** Journeys in progress or waiting for their unit. */
  get pendingCount(): number {
    return this.tracker.activeCount + this.endedWithoutUnit.size;
  }

  /** One frame: every sample taken at `tMs`. Frames must come in time order; an older one is skipped and counted. */
  update(samples: readonly PlanTrackSample[], tMs: number): CompletedJourney[] {
    if (!Number.isFinite(tMs) || tMs < this.lastFrameMs) {
      this.stats.framesRejected += 1;
      return [];
    }
    this.lastFrameMs = tMs;
    const valid = samples.filter((s) => Number.isFinite(s.x) && Number.isFinite(s.y));
    this.stats.samplesRejected += samples.length - valid.length;
    for (const s of valid) this.grouper.observe(s.trackId, tMs, s.x, s.y);
    return this.match(this.tracker.update(valid, tMs), this.grouper.poll(tMs));
  }

  /** Ends every journey and decides every unit (end of a recording, shutdown). */
  flush(): CompletedJourney[] {
    const done = this.match(this.tracker.flush(), this.grouper.flush());
    // Cannot happen with a grouper that saw every sample; a unit of one rather than a lost journey.
    for (const journey of this.endedWithoutUnit.values()) done.push({ ...journey, unitKey: this.newUnitKey(), unitSize: 1 });
    this.endedWithoutUnit.clear();
    return done;
  }

  private newUnitKey(): string {
    return `${this.name}:u${this.nextUnit++}`;
  }

  private match(ended: readonly Journey[], units: readonly { members: string[] }[]): CompletedJourney[] {
    const done: CompletedJourney[] = [];
    for (const journey of ended) this.endedWithoutUnit.set(journey.trackId, journey);
    for (const unit of units) {
      const tag = { unitKey: this.newUnitKey(), unitSize: unit.members.length };
      for (const member of unit.members) this.unitOfTrack.set(member, tag);
    }
    for (const [trackId, journey] of this.endedWithoutUnit) {
      const tag = this.unitOfTrack.get(trackId);
      if (!tag) continue;
      done.push({ ...journey, ...tag });
      this.endedWithoutUnit.delete(trackId);
      this.unitOfTrack.delete(trackId);
      this.grouper.forget(trackId);
    }
    return done;
  }
}
