/**
 * One camera's analytics: its counting lines, zones and heatmap fed with the tracker's output.
 * Pure apart from the PNG export; timestamps come from the frames.
 */
import type { TrackedBox } from '../tracking/frameTracker.js';
import type { Scene } from '../scene.js';
import { CountingLine } from './countingLine.js';
import { Heatmap } from './heatmap.js';
import type { AnalyticsEvent, TrackPoint } from './trackPoint.js';
import { Zone } from './zone.js';

export interface SceneSummary {
  lines: Record<string, { in: number; out: number }>;
  zones: Record<string, {
    visits: number;
    dwell_s_total: number;
    dwell_s_mean: number;
    max_occupancy: number;
    pass_throughs: number;
    queue?: { wait_s_mean: number; max_length: number };
  }>;
}

/** Bottom-centre of the box, normalised: where the person stands. */
export function footPoint(track: TrackedBox, frameWidth: number, frameHeight: number): TrackPoint {
  return {
    trackId: track.id,
    x: Math.min(1, Math.max(0, (track.box.x1 + track.box.x2) / 2 / frameWidth)),
    y: Math.min(1, Math.max(0, track.box.y2 / frameHeight)),
  };
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

export class SceneAnalytics {
  readonly lines: CountingLine[];
  readonly zones: Zone[];
  readonly heatmap: Heatmap;

  constructor(scene: Scene, frameWidth: number, frameHeight: number) {
    this.lines = scene.lines.map((l) => new CountingLine(l));
    this.zones = scene.zones.map((z) => new Zone(z));
    this.heatmap = Heatmap.forFrame(frameWidth, frameHeight);
  }

  update(points: readonly TrackPoint[], timestampMs: number): AnalyticsEvent[] {
    const events: AnalyticsEvent[] = [];
    for (const line of this.lines) events.push(...line.update(points, timestampMs));
    for (const zone of this.zones) events.push(...zone.update(points, timestampMs));
    this.heatmap.update(points, timestampMs);
    return events;
  }

  /** Closes open zone visits (end of input). */
  finish(): AnalyticsEvent[] {
    return this.zones.flatMap((z) => z.flush());
  }

  summary(): SceneSummary {
    const lines = Object.fromEntries(this.lines.map((l) => [l.name, { ...l.counts }]));
    const zones = Object.fromEntries(
      this.zones.map((z) => {
        const s = z.stats;
        const base = {
          visits: s.visits,
          dwell_s_total: seconds(s.dwellMsTotal),
          dwell_s_mean: s.visits ? seconds(s.dwellMsTotal / s.visits) : 0,
          max_occupancy: s.maxOccupancy,
          pass_throughs: s.passThroughs,
        };
        return [z.name, z.queue ? { ...base, queue: { wait_s_mean: base.dwell_s_mean, max_length: s.maxOccupancy } } : base];
      }),
    );
    return { lines, zones };
  }
}
