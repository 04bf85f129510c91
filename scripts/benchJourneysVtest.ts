/**
 * npm run bench:journeys-vtest [-- --frames 795]
 *
 * Journeys on real footage: vtest.avi (= PETS09-S2L1) through the default detector and ByteTracker,
 * each frame's foot points mapped to the ground plane through a 4-point calibration, against the
 * annotated trajectories' own ground-plane positions (MOT15 columns 8–9, metres). Five plan zones
 * over where people walk; funnel north → centre → south. Prints, side by side:
 *   truth            — the annotated ground-plane positions (no camera, no mapping);
 *   truth via camera — the annotated boxes' foot points through the calibration (the mapping's share);
 *   pipeline         — detector + tracker + calibration (what the gateway would report).
 * Evaluation-only data from ../shared: exits 0 with "skipped" when it or vtest.avi is absent.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { JourneyAccumulator } from '../src/analytics/journeys/journeyAccumulator.js';
import type { JourneyReport } from '../src/analytics/journeys/journeyAggregate.js';
import { journeysSchema } from '../src/analytics/journeys/journeyConfig.js';
import { JourneyStream, type CompletedJourney } from '../src/analytics/journeys/journeyStream.js';
import { CameraToPlan, type PlanTrackSample } from '../src/analytics/journeys/planTrack.js';
import type { TrackPoint } from '../src/vision/analytics/trackPoint.js';
import { PersonDetector } from '../src/vision/detector/personDetector.js';
import { applyHomography, computeHomography } from '../src/vision/homography.js';
import { analyzeFrames } from '../src/vision/pipeline/offlineAnalysis.js';
import { ByteTracker } from '../src/vision/tracking/byteTracker.js';
import { readVideoFrames } from '../src/vision/videoFrames.js';
import { PETS09_GT_PATH, VTEST_PATH } from '../tests/helpers/fixtures.js';
import { PETS_FRAME_MS, PETS_FUNNEL, PETS_ZONES, petsCalibration, petsRows } from '../tests/journeys/petsPlan.js';
import { footPoint } from '../src/vision/analytics/sceneAnalytics.js';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '795' } } });
const MAX_FRAMES = Number(values.frames);
if (!existsSync(PETS09_GT_PATH) || !existsSync(VTEST_PATH)) {
  console.log('skipped: needs ../shared/data/PETS09-S2L1/gt.txt and vtest.avi');
  process.exit(0);
}
const zones = PETS_ZONES.map((z) => ({ ...z, enter_s: 0.3, exit_grace_s: 1.5, min_dwell_s: 2 }));
const journeys = journeysSchema.parse({ funnel: PETS_FUNNEL, min_path_count: 1 });
const setup = { zones, endGapS: journeys.end_gap_s, groups: journeys.groups };
const FRAME_MS = PETS_FRAME_MS;
const rows = petsRows(MAX_FRAMES);
// Calibrated on the whole annotation (four far-apart floor points), whatever part of the video is run.
const calibration = petsCalibration(petsRows());
const h = computeHomography(calibration.image_points, calibration.plan_points);
const rms = Math.sqrt(rows.reduce((s, r) => {
  const [u, v] = applyHomography(h, r.foot);
  return s + (u - r.world[0]) ** 2 + (v - r.world[1]) ** 2;
}, 0) / rows.length);

function summarise(done: CompletedJourney[]): JourneyReport {
  const accumulator = new JourneyAccumulator({ zones: zones.map((z) => z.name), funnel: journeys.funnel, minPathCount: 1, retentionMs: Infinity });
  for (const j of done) accumulator.add(j);
  return accumulator.report(0, 86_400_000);
}

function replay(frames: Map<number, PlanTrackSample[]>, name: string): JourneyReport {
  const stream = new JourneyStream(name, setup);
  const done: CompletedJourney[] = [];
  for (const t of [...frames.keys()].sort((a, b) => a - b)) done.push(...stream.update(frames.get(t)!, t));
  done.push(...stream.flush());
  return summarise(done);
}

const byFrame = <T>(items: readonly T[], key: (item: T) => number): Map<number, T[]> => {
  const m = new Map<number, T[]>();
  for (const item of items) m.set(key(item), [...(m.get(key(item)) ?? []), item]);
  return m;
};
const gtFrames = byFrame(rows, (r) => r.videoFrame * FRAME_MS);
const truth = replay(new Map([...gtFrames].map(([t, rs]) => [t, rs.map((r) => ({ trackId: `gt-${r.id}`, tMs: t, x: r.world[0], y: r.world[1] }))])), 'truth');
const gtCamera = new CameraToPlan('gt', calibration);
const viaCamera = replay(new Map([...gtFrames].map(([t, rs]) => [t, gtCamera.samples(rs.map((r): TrackPoint => ({ trackId: r.id, x: r.foot[0], y: r.foot[1] })), t)])), 'gt-camera');

const camera = new CameraToPlan('vtest', calibration);
const stream = new JourneyStream('vtest', setup);
const measuredDone: CompletedJourney[] = [];
const detector = await PersonDetector.create({ threads: 2, scoreThreshold: 0.1 });
const started = performance.now();
await analyzeFrames(readVideoFrames(VTEST_PATH, { maxFrames: MAX_FRAMES }), { lines: [], zones: [] }, detector, new ByteTracker(), {
  onTracks: (frame, tracks) => {
    const tMs = frame.index * FRAME_MS;
    measuredDone.push(...stream.update(camera.samples(tracks.map((t) => footPoint(t, frame.width, frame.height)), tMs), tMs));
  },
});
measuredDone.push(...stream.flush());
await detector.close();
const measured = summarise(measuredDone);
const seconds = (performance.now() - started) / 1000;

const row = (label: string, pick: (r: JourneyReport) => number | string | null) => `| ${label} | ${pick(truth)} | ${pick(viaCamera)} | ${pick(measured)} |`;
const zoneVisits = (r: JourneyReport, zone: string) => r.zones.find((z) => z.zone === zone)?.visits ?? 0;
const transitionsL1 = (r: JourneyReport) => {
  const key = (t: { from: string; to: string }) => `${t.from}>${t.to}`;
  const a = new Map(truth.transitions.map((t) => [key(t), t.count]));
  const b = new Map(r.transitions.map((t) => [key(t), t.count]));
  let diff = 0;
  for (const k of new Set([...a.keys(), ...b.keys()])) diff += Math.abs((a.get(k) ?? 0) - (b.get(k) ?? 0));
  return diff;
};
console.log(`vtest.avi, ${MAX_FRAMES} frames; calibration from 4 annotated foot points, RMS error over all ${rows.length} annotated positions ${rms.toFixed(2)} m; pipeline run ${seconds.toFixed(0)} s`);
console.log('| measure | truth (ground plane) | truth via camera calibration | detector + tracker |');
console.log('|---|---|---|---|');
console.log(row('journeys', (r) => r.journeys));
console.log(row('buying units', (r) => r.buying_units.units));
for (const z of zones) console.log(row(`visits ${z.name}`, (r) => zoneVisits(r, z.name)));
console.log(row('funnel north → centre → south (persons)', (r) => r.funnel.map((s) => s.persons).join(' → ')));
console.log(row('transitions: Σ|count − truth|', (r) => transitionsL1(r)));
console.log(row('transitions into a zone (truth: Σ)', (r) => r.transitions.filter((t) => t.to !== 'exit').reduce((s, t) => s + t.count, 0)));
