/**
 * npm run bench:journeys [-- --people 30 --zones 10 --seconds 600 --fps 10 --seed 1] [--json]
 *
 * What customer journeys add per frame per camera (issue 16 target, with fusion: < 1 ms): `people`
 * seeded random walkers in a 30 m × 20 m store seen by one calibrated camera at `fps`. Walkers leave
 * after 1–5 minutes and are replaced by new ones at the door (new tracks: journeys end, buying units
 * are decided); the first 10 walk in couples. Each frame is timed through the whole journey path of
 * the gateway: foot points to the plan (CameraToPlan), zone visits and journey ends (JourneyTracker
 * via JourneyStream), buying-unit grouping, and folding finished journeys into the 1-minute bins
 * (JourneyAccumulator). Also times one REST-sized report (an hour of bins merged). Detector and
 * tracker are not included. Reports wall time and this process's CPU time per frame (the latter is not
 * inflated by other processes on a busy machine).
 */
import { parseArgs } from 'node:util';
import { JourneyAccumulator } from '../src/analytics/journeys/journeyAccumulator.js';
import { journeysSchema } from '../src/analytics/journeys/journeyConfig.js';
import { JourneyStream } from '../src/analytics/journeys/journeyStream.js';
import { CameraToPlan } from '../src/analytics/journeys/planTrack.js';
import { seededRandom } from '../src/common/seededRandom.js';
import type { TrackPoint } from '../src/vision/analytics/trackPoint.js';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '30' },
    zones: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '600' },
    fps: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const PEOPLE = Number(values.people);
const ZONES = Number(values.zones);
const SECONDS = Number(values.seconds);
const FPS = Number(values.fps);
const STORE_W = 30;
const STORE_H = 20;
const COUPLES = Math.min(5, Math.floor(PEOPLE / 2));
const random = seededRandom(Number(values.seed));

// Zones in a 5-wide grid of 4 m × 6 m shelves' fronts.
const zones = Array.from({ length: ZONES }, (_, i) => {
  const x = (i % 5) * 6 + 1;
  const y = Math.floor(i / 5) * 9 + 2;
  return { name: `zone-${i}`, polygon: [[x, y], [x + 4, y], [x + 4, y + 6], [x, y + 6]] as [number, number][], enter_s: 0.3, exit_grace_s: 1.5, min_dwell_s: 2 };
});
const journeys = journeysSchema.parse({ funnel: zones.slice(0, 3).map((z) => z.name) });
const setup = { zones, endGapS: journeys.end_gap_s, groups: journeys.groups };
const camera = new CameraToPlan('cam', { image_points: [[0, 0], [1, 0], [1, 1], [0, 1]], plan_points: [[0, 0], [STORE_W, 0], [STORE_W, STORE_H], [0, STORE_H]] });
const stream = new JourneyStream('camera:cam', setup);
const accumulator = new JourneyAccumulator({ zones: zones.map((z) => z.name), funnel: journeys.funnel, minPathCount: journeys.min_path_count, retentionMs: 86_400_000 });

interface Walker {
  id: number;
  x: number;
  y: number;
  vx: number;
  vy: number;
  leaveMs: number;
}
let nextId = 1;
const entering = (tMs: number): Walker => ({ id: nextId++, x: 0.5 + random(), y: STORE_H / 2 + random() * 2, vx: 0, vy: 0, leaveMs: tMs + (60 + random() * 240) * 1000 });
// Spread the first departures so that arrivals do not all come at once.
const walkers: Walker[] = Array.from({ length: PEOPLE }, () => ({ ...entering(0), x: random() * STORE_W, y: random() * STORE_H, leaveMs: random() * 300_000 }));
for (let c = 0; c < COUPLES; c++) walkers[2 * c + 1]!.leaveMs = walkers[2 * c]!.leaveMs;

const frameMs = 1000 / FPS;
const perFrame: number[] = [];
/** CPU time of this process per frame: unlike wall time, not inflated when other processes take the cores. */
const perFrameCpu: number[] = [];
let completed = 0;
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

for (let frame = 0; frame < SECONDS * FPS; frame++) {
  const tMs = Math.round(frame * frameMs);
  for (let i = 0; i < walkers.length; i++) {
    const w = walkers[i]!;
    if (tMs >= w.leaveMs) walkers[i] = entering(tMs);
    const partnerOf = i % 2 === 1 && i < 2 * COUPLES ? walkers[i - 1] : undefined;
    const me = walkers[i]!;
    if (partnerOf) {
      // A couple: the second walks half a metre beside the first, and they leave and come back together.
      if (me.leaveMs !== partnerOf.leaveMs) walkers[i] = { ...entering(tMs), leaveMs: partnerOf.leaveMs };
      walkers[i]!.x = Math.min(STORE_W, partnerOf.x + 0.5);
      walkers[i]!.y = partnerOf.y;
      continue;
    }
    // A slow random walk with some momentum, ~1 m/s, bouncing off the walls.
    me.vx = 0.9 * me.vx + (random() - 0.5) * 0.4;
    me.vy = 0.9 * me.vy + (random() - 0.5) * 0.4;
    me.x += me.vx / FPS;
    me.y += me.vy / FPS;
    if (me.x < 0 || me.x > STORE_W) me.vx = -me.vx;
    if (me.y < 0 || me.y > STORE_H) me.vy = -me.vy;
    me.x = Math.min(STORE_W, Math.max(0, me.x));
    me.y = Math.min(STORE_H, Math.max(0, me.y));
  }
  const points: TrackPoint[] = walkers.map((w) => ({ trackId: w.id, x: w.x / STORE_W, y: w.y / STORE_H }));
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const done = stream.update(camera.samples(points, tMs), tMs);
  for (const j of done) accumulator.add(j);
  perFrame.push(now() - t0);
  const cpu = process.cpuUsage(cpu0);
  perFrameCpu.push((cpu.user + cpu.system) / 1000);
  completed += done.length;
}
for (const j of stream.flush()) accumulator.add(j);

const reportStart = now();
const report = accumulator.report(0, 3_600_000);
const reportMs = now() - reportStart;

/** The first minute is JIT warm-up; pauses after it are the garbage collector's (and other processes'). */
const WARMUP_FRAMES = 60 * FPS;
function stats(ms: readonly number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const pick = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { mean: round(ms.reduce((a, b) => a + b, 0) / ms.length), p50: round(pick(0.5)), p95: round(pick(0.95)), p99: round(pick(0.99)), max: round(sorted[sorted.length - 1]!) };
}
const result = {
  people: PEOPLE,
  zones: ZONES,
  frames: perFrame.length,
  fps: FPS,
  journeys_completed_while_running: completed,
  journeys_total: report.journeys,
  buying_units: report.buying_units.units,
  per_frame_ms: stats(perFrame),
  per_frame_ms_after_first_minute: stats(perFrame.slice(WARMUP_FRAMES)),
  cpu_per_frame_ms_after_first_minute: stats(perFrameCpu.slice(WARMUP_FRAMES)),
  report_one_hour_ms: round(reportMs),
};
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`journeys: ${PEOPLE} people, ${ZONES} zones, ${perFrame.length} frames at ${FPS} fps (one camera)`);
  console.log(`  journeys completed ${result.journeys_total} (buying units ${result.buying_units})`);
  const lines = [
    ['wall time per frame, all frames', result.per_frame_ms],
    ['wall time per frame, after the first minute', result.per_frame_ms_after_first_minute],
    ['CPU time per frame, after the first minute', result.cpu_per_frame_ms_after_first_minute],
  ] as const;
  for (const [label, st] of lines) console.log(`  ${label}: mean ${st.mean} ms, p50 ${st.p50}, p95 ${st.p95}, p99 ${st.p99}, max ${st.max}`);
  console.log(`  one report (an hour of 1-minute bins merged): ${result.report_one_hour_ms} ms`);
}
