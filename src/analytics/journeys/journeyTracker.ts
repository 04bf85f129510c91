/**
 * Per track on the plan, the ordered zones it visited and the dwell of each visit. Zone presence is
 * the camera zones' own state machine (src/vision/analytics/zone.ts: entry inertia, exit grace,
 * min dwell) run on plan coordinates, so a plan zone and a camera zone agree on what a visit is.
 * A journey ends once its track has not been seen for `endGapMs`. Pure: time comes with the samples.
 * One instance per sample stream (the fused store-level stream, or one calibrated camera).
 */
import { Zone } from '../../vision/analytics/zone.js';
import type { TrackPoint } from '../../vision/analytics/trackPoint.js';
import type { JourneyZone } from './journeyConfig.js';
import type { PlanTrackSample } from './planTrack.js';

export interface ZoneVisit {
  zone: string;
  enterMs: number;
  exitMs: number;
  dwellMs: number;
}

/** One person's walk through the store. Stays inside the gateway: only aggregates leave it. */
export interface Journey {
  trackId: string;
  startMs: number;
  /** Last sighting of the track. */
  endMs: number;
  /** Counted visits (min dwell reached), in the order they started. */
  visits: ZoneVisit[];
}

export interface JourneyTrackerStats {
  /** Frames older than the previous one: skipped whole (their zone state would run backwards). */
  framesRejected: number;
  /** Samples with a non-finite coordinate or time. */
  samplesRejected: number;
}

interface OpenJourney {
  numericId: number;
  startMs: number;
  lastSeenMs: number;
  visits: ZoneVisit[];
}

export class JourneyTracker {
  private readonly zones: Zone[];
  private readonly open = new Map<string, OpenJourney>();
  /** The zone state machine keys tracks by number; plan tracks have string ids. */
  private readonly trackOfNumber = new Map<number, string>();
  private nextNumber = 1;
  private lastFrameMs = -Infinity;
  readonly stats: JourneyTrackerStats = { framesRejected: 0, samplesRejected: 0 };

  constructor(
    zones: readonly JourneyZone[],
    private readonly endGapMs: number,
  ) {
    const longestGrace = Math.max(0, ...zones.map((z) => z.exit_grace_s * 1000));
    if (longestGrace > endGapMs) throw new RangeError(`end gap ${endGapMs} ms is shorter than a zone's exit grace (${longestGrace} ms): visits would be cut off`);
    this.zones = zones.map(
      (z) => new Zone({ name: z.name, polygon: z.polygon.map(([x, y]) => [x, y] as [number, number]), enter_s: z.enter_s, exit_grace_s: z.exit_grace_s, min_dwell_s: z.min_dwell_s, queue: false }),
    );
  }

  /** Journeys currently in progress. */
  get activeCount(): number {
    return this.open.size;
  }

  /** One frame of samples (all taken at `tMs`); returns the journeys that ended. */
  update(samples: readonly PlanTrackSample[], tMs: number): Journey[] {
    if (!Number.isFinite(tMs) || tMs < this.lastFrameMs) {
      this.stats.framesRejected += 1;
      return [];
    }
    this.lastFrameMs = tMs;
    const points: TrackPoint[] = [];
    for (const s of samples) {
      if (!Number.isFinite(s.x) || !Number.isFinite(s.y)) {
        this.stats.samplesRejected += 1;
        continue;
      }
      let journey = this.open.get(s.trackId);
      if (!journey) {
        journey = { numericId: this.nextNumber++, startMs: tMs, lastSeenMs: tMs, visits: [] };
        this.open.set(s.trackId, journey);
        this.trackOfNumber.set(journey.numericId, s.trackId);
      }
      journey.lastSeenMs = tMs;
      points.push({ trackId: journey.numericId, x: s.x, y: s.y });
    }
    for (const zone of this.zones) this.recordVisits(zone.update(points, tMs));
    const ended: Journey[] = [];
    for (const [trackId, journey] of this.open) {
      // endGapMs ≥ every exit grace, so the zones above have already closed this track's visits.
      if (tMs - journey.lastSeenMs >= this.endGapMs) ended.push(this.close(trackId, journey));
    }
    return ended;
  }

  /** Ends every journey (end of a recording, shutdown). */
  flush(): Journey[] {
    for (const zone of this.zones) this.recordVisits(zone.flush());
    return [...this.open].map(([trackId, journey]) => this.close(trackId, journey));
  }

  private recordVisits(events: ReturnType<Zone['update']>): void {
    for (const e of events) {
      if (!e.counted) continue;
      const trackId = this.trackOfNumber.get(e.trackId);
      const journey = trackId === undefined ? undefined : this.open.get(trackId);
      journey?.visits.push({ zone: e.zone, enterMs: e.enterMs, exitMs: e.exitMs, dwellMs: e.dwellMs });
    }
  }

  private close(trackId: string, journey: OpenJourney): Journey {
    this.open.delete(trackId);
    this.trackOfNumber.delete(journey.numericId);
    const visits = journey.visits.sort((a, b) => a.enterMs - b.enterMs || a.exitMs - b.exitMs);
    return { trackId, startMs: journey.startMs, endMs: journey.lastSeenMs, visits };
  }
}
