/**
 * Polygon zone: occupancy, visits and dwell. A visit starts once a foot point has been inside for
 * `enter_s` (entry inertia; the visit is dated from the first inside sighting) and ends once it has
 * been outside or unseen for `exit_grace_s` (dated at the last inside sighting), so box jitter at the
 * edge and short occlusions neither split nor invent visits. Visits shorter than `min_dwell_s` are
 * reported as not counted. In queue mode the dwell of a visit is its wait time.
 */
import { pointInPolygon, toPoint, type Point } from '../geometry.js';
import type { ZoneConfig } from '../scene.js';
import type { TrackPoint, ZoneVisitEvent } from './trackPoint.js';

interface Presence {
  /** First inside sighting of the current inside streak (or of the open visit). */
  insideSinceMs: number;
  lastInsideMs: number;
  visitOpen: boolean;
}

export interface ZoneStats {
  visits: number;
  passThroughs: number;
  dwellMsTotal: number;
  maxOccupancy: number;
}

export class Zone {
  readonly name: string;
  readonly queue: boolean;
  private readonly polygon: Point[];
  private readonly enterMs: number;
  private readonly exitGraceMs: number;
  private readonly minDwellMs: number;
  private readonly presence = new Map<number, Presence>();
  readonly stats: ZoneStats = { visits: 0, passThroughs: 0, dwellMsTotal: 0, maxOccupancy: 0 };

  constructor(config: ZoneConfig) {
    this.name = config.name;
    this.queue = config.queue;
    this.polygon = config.polygon.map(toPoint);
    this.enterMs = config.enter_s * 1000;
    this.exitGraceMs = config.exit_grace_s * 1000;
    this.minDwellMs = config.min_dwell_s * 1000;
  }

  contains(p: Point): boolean {
    return pointInPolygon(p, this.polygon);
  }

  update(points: readonly TrackPoint[], timestampMs: number): ZoneVisitEvent[] {
    for (const p of points) {
      if (!this.contains(p)) continue;
      const state = this.presence.get(p.trackId);
      if (!state) {
        this.presence.set(p.trackId, { insideSinceMs: timestampMs, lastInsideMs: timestampMs, visitOpen: this.enterMs === 0 });
        continue;
      }
      state.lastInsideMs = timestampMs;
      if (!state.visitOpen && timestampMs - state.insideSinceMs >= this.enterMs) state.visitOpen = true;
    }
    const events: ZoneVisitEvent[] = [];
    for (const [trackId, state] of this.presence) {
      if (state.lastInsideMs === timestampMs) continue;
      if (!state.visitOpen) {
        // Left (or vanished) before the entry inertia elapsed: not a visit.
        this.presence.delete(trackId);
      } else if (timestampMs - state.lastInsideMs >= this.exitGraceMs) {
        events.push(this.close(trackId, state));
      }
    }
    this.stats.maxOccupancy = Math.max(this.stats.maxOccupancy, this.occupancy);
    return events;
  }

  /** People currently in the zone (open visits). */
  get occupancy(): number {
    let n = 0;
    for (const s of this.presence.values()) if (s.visitOpen) n += 1;
    return n;
  }

  /** Queue view: current length and how long each person present has waited so far. */
  currentWaitsMs(timestampMs: number): number[] {
    return [...this.presence.values()].filter((s) => s.visitOpen).map((s) => timestampMs - s.insideSinceMs);
  }

  /** Ends every open visit (end of a video, shutdown). */
  flush(): ZoneVisitEvent[] {
    const events: ZoneVisitEvent[] = [];
    for (const [trackId, state] of this.presence) if (state.visitOpen) events.push(this.close(trackId, state));
    this.presence.clear();
    return events;
  }

  private close(trackId: number, state: Presence): ZoneVisitEvent {
    this.presence.delete(trackId);
    const dwellMs = state.lastInsideMs - state.insideSinceMs;
    const counted = dwellMs >= this.minDwellMs;
    if (counted) {
      this.stats.visits += 1;
      this.stats.dwellMsTotal += dwellMs;
    } else this.stats.passThroughs += 1;
    return { type: 'zone_visit', zone: this.name, enterMs: state.insideSinceMs, exitMs: state.lastInsideMs, dwellMs, counted, trackId };
  }
}
