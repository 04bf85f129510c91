/** Hand-made walks on a small store plan (metres) for the journey tests and the benchmark. */
import { journeySetup, type JourneySetup } from '../../src/analytics/journeys/journeyConfig.js';
import type { CompletedJourney, JourneyStream } from '../../src/analytics/journeys/journeyStream.js';
import type { PlanTrackSample } from '../../src/analytics/journeys/planTrack.js';
import { gatewayConfigSchema } from '../../src/gateway/config/configSchema.js';

/**
 * A 20 m × 10 m store: entrance on the left, promotion end-cap and aisle in the middle, till on the
 * right. Zones are rectangles [x0, y0, x1, y1].
 */
export const ZONES = { entrance: [0, 0, 3, 4], promo: [5, 0, 9, 4], aisle: [5, 6, 9, 10], till: [12, 0, 16, 4] } as const;

/** A camera calibrated onto the plan: the gateway config requires one before plan zones count. */
export const CALIBRATED_CAMERA = {
  id: 'cam',
  source: { kind: 'file', path: 'x.mp4' },
  calibration: { image_points: [[0, 0], [1, 0], [1, 1], [0, 1]], plan_points: [[0, 0], [20, 0], [20, 10], [0, 10]] },
};

/** The raw gateway config (plan zones + journeys) of the test store. */
export function rawStoreConfig(journeys: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cameras: [CALIBRATED_CAMERA],
    floor_plan: { width_m: 20, height_m: 10 },
    plan: { zones: Object.entries(ZONES).map(([name, [x0, y0, x1, y1]]) => ({ name, polygon: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]] })) },
    journeys: { funnel: ['entrance', 'promo', 'till'], ...journeys },
  };
}

/** The journey setup as the gateway resolves it from its validated config. */
export function storeConfig(journeys: Record<string, unknown> = {}): JourneySetup {
  return journeySetup(gatewayConfigSchema.parse(rawStoreConfig(journeys)))!;
}

/** Waypoints [t seconds, x, y]: the walker moves in straight lines between them and is seen every `stepMs`. */
export type Waypoint = readonly [number, number, number];

export function walk(trackId: string, waypoints: readonly Waypoint[], stepMs = 100): PlanTrackSample[] {
  const samples: PlanTrackSample[] = [];
  const startMs = Math.round(waypoints[0]![0] * 1000);
  const endMs = Math.round(waypoints[waypoints.length - 1]![0] * 1000);
  let leg = 0;
  for (let tMs = startMs; tMs <= endMs; tMs += stepMs) {
    while (leg < waypoints.length - 2 && tMs > waypoints[leg + 1]![0] * 1000) leg += 1;
    const [t0, x0, y0] = waypoints[leg]!;
    const [t1, x1, y1] = waypoints[Math.min(leg + 1, waypoints.length - 1)]!;
    const f = t1 === t0 ? 0 : Math.min(1, Math.max(0, (tMs / 1000 - t0) / (t1 - t0)));
    samples.push({ trackId, tMs, x: x0 + (x1 - x0) * f, y: y0 + (y1 - y0) * f });
  }
  return samples;
}

/** The same walk shifted by (dx, dy) metres and dt seconds (a companion, a passer-by). */
export function offset(waypoints: readonly Waypoint[], dx: number, dy: number, dt = 0): Waypoint[] {
  return waypoints.map(([t, x, y]) => [t + dt, x + dx, y + dy] as const);
}

/** Feeds every sample frame by frame (all tracks seen at one time form one frame), then flushes. */
export function runStream(stream: JourneyStream, walks: readonly PlanTrackSample[][]): CompletedJourney[] {
  const frames = new Map<number, PlanTrackSample[]>();
  for (const s of walks.flat()) {
    const frame = frames.get(s.tMs) ?? [];
    frame.push(s);
    frames.set(s.tMs, frame);
  }
  const done: CompletedJourney[] = [];
  for (const tMs of [...frames.keys()].sort((a, b) => a - b)) done.push(...stream.update(frames.get(tMs)!, tMs));
  done.push(...stream.flush());
  return done;
}

/** entrance (0–3.6 s) → promo (4.4–15.8 s) → till (17.2–25.8 s) → out at 27 s. */
export const SHOPPER: Waypoint[] = [
  [0, 1, 2],
  [3, 1, 2],
  [5, 7, 2],
  [15, 7, 2],
  [18, 14, 2],
  [25, 14, 2],
  [27, 18.5, 2],
];

/** Units as sorted lists of sorted member ids (order-free comparison). */
export function unitsOf(journeys: readonly CompletedJourney[]): string[][] {
  const byUnit = new Map<string, string[]>();
  for (const j of journeys) byUnit.set(j.unitKey, [...(byUnit.get(j.unitKey) ?? []), j.trackId]);
  return [...byUnit.values()].map((m) => m.sort()).sort((a, b) => (a.join() < b.join() ? -1 : 1));
}
