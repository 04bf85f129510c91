/**
 * Directional counting line. Walking along the line from its first point to its second, a foot
 * point going from the left-hand side to the right-hand side is `in`, the other way `out`.
 *
 * A track's side only changes once its foot point is more than `hysteresis` away from the line,
 * so jitter on the line and people stopping on it never count; each real crossing counts,
 * including back and forth. A side change counts only if the path crossed the segment itself, not
 * the line's extension (people walking around the end of a line are not counted).
 */
import { projectionParameter, signedDistance, toPoint, type Point } from '../geometry.js';
import type { LineConfig } from '../scene.js';
import type { LineCrossingEvent, TrackPoint } from './trackPoint.js';

interface TrackSide {
  /** -1 = left of the walker (negative signed distance), +1 = right. */
  side: -1 | 1;
  /** Last foot point seen clear of the band on that side. */
  lastClear: Point;
  lastSeenMs: number;
}

/** Per-track memory is dropped after this long unseen (the tracker has long forgotten the id). */
const FORGET_AFTER_MS = 30_000;
/** Crossings this far beyond the segment's ends (as a fraction of its length) still count: box jitter at the ends. */
const END_TOLERANCE = 0.02;

export class CountingLine {
  readonly name: string;
  private readonly a: Point;
  private readonly b: Point;
  private readonly hysteresis: number;
  private readonly sides = new Map<number, TrackSide>();
  readonly counts = { in: 0, out: 0 };

  constructor(config: LineConfig) {
    this.name = config.name;
    this.a = toPoint(config.points[0]);
    this.b = toPoint(config.points[1]);
    this.hysteresis = config.hysteresis;
  }

  update(points: readonly TrackPoint[], timestampMs: number): LineCrossingEvent[] {
    const events: LineCrossingEvent[] = [];
    for (const p of points) {
      const d = signedDistance(this.a, this.b, p);
      const state = this.sides.get(p.trackId);
      if (state) state.lastSeenMs = timestampMs;
      if (Math.abs(d) <= this.hysteresis) continue;
      const side: -1 | 1 = d < 0 ? -1 : 1;
      const here = { x: p.x, y: p.y };
      if (!state) {
        this.sides.set(p.trackId, { side, lastClear: here, lastSeenMs: timestampMs });
        continue;
      }
      if (side !== state.side && this.crossesSegment(state.lastClear, here)) {
        const direction = side === 1 ? 'in' : 'out';
        this.counts[direction] += 1;
        events.push({ type: 'line_crossing', line: this.name, direction, timestampMs, trackId: p.trackId });
      }
      state.side = side;
      state.lastClear = here;
    }
    for (const [id, s] of this.sides) if (timestampMs - s.lastSeenMs > FORGET_AFTER_MS) this.sides.delete(id);
    return events;
  }

  /** Whether the path from `from` to `to` (on opposite sides) meets the line within its segment. */
  private crossesSegment(from: Point, to: Point): boolean {
    const d0 = signedDistance(this.a, this.b, from);
    const d1 = signedDistance(this.a, this.b, to);
    const u = d0 / (d0 - d1);
    const meet = { x: from.x + u * (to.x - from.x), y: from.y + u * (to.y - from.y) };
    const t = projectionParameter(this.a, this.b, meet);
    return t >= -END_TOLERANCE && t <= 1 + END_TOLERANCE;
  }
}
