/**
 * Smooths each track's foot point over time before lines and zones see it.
 *
 * A detector's box edges jitter from frame to frame (on vtest.avi the bottom-centre of a tracked
 * box is off the annotated one by 4–5 % of the person's height, frame to frame, with no bias).
 * Someone standing next to a counting line then wobbles across the hysteresis band and is
 * counted in and out; a real crossing is long and steady and survives smoothing. An exponential
 * average with a time constant (not a per-frame weight) behaves the same at 5 and at 25 fps; its
 * lag (~one time constant) shifts a crossing's time by a frame, never its count, and shifts a
 * zone visit's entry and exit alike, so dwell is unchanged.
 *
 * Pure: timestamps come with the points. Memory per track is dropped once the track is gone.
 */
import type { TrackPoint } from './trackPoint.js';

/** Measured on frames 0–397 of vtest.avi at 10 fps (docs/benchmarks.md, "Counting accuracy"). */
export const DEFAULT_FOOT_TIME_CONSTANT_MS = 150;
/** A track unseen this long is forgotten (its id is never reused by the tracker anyway). */
const FORGET_AFTER_MS = 10_000;

interface Smoothed {
  x: number;
  y: number;
  lastMs: number;
}

export class FootPointSmoother {
  private readonly state = new Map<number, Smoothed>();

  /** `timeConstantMs` 0 turns smoothing off (points pass through unchanged). */
  constructor(private readonly timeConstantMs = DEFAULT_FOOT_TIME_CONSTANT_MS) {}

  smooth(points: readonly TrackPoint[], timestampMs: number): TrackPoint[] {
    const out = points.map((p) => {
      const previous = this.state.get(p.trackId);
      if (!previous || this.timeConstantMs <= 0) {
        this.state.set(p.trackId, { x: p.x, y: p.y, lastMs: timestampMs });
        return { ...p };
      }
      const dt = Math.max(0, timestampMs - previous.lastMs);
      const weight = 1 - Math.exp(-dt / this.timeConstantMs);
      const next = { x: previous.x + weight * (p.x - previous.x), y: previous.y + weight * (p.y - previous.y), lastMs: timestampMs };
      this.state.set(p.trackId, next);
      return { trackId: p.trackId, x: next.x, y: next.y };
    });
    for (const [id, s] of this.state) if (timestampMs - s.lastMs > FORGET_AFTER_MS) this.state.delete(id);
    return out;
  }
}
