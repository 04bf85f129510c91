/**
 * npm run bench:accuracy [-- --detections FILE] [--out FILE] [--seeds 1,2] [--repeat N]
 *                         [--mean-seeds 1-16] [--every N]
 *
 * Trackers side by side on the same detections of PETS09-S2L1 (vtest.avi + the MOT Challenge
 * annotations in ../shared): storepulse's ByteTracker (its defaults), OpenDataCam's tracker
 * (node-moving-things-tracker, its defaults) and a plain IoU tracker. For each scene (the
 * hand-placed config/scenes/vtest.yaml and seeded random scenes of 20 lines and 10 zones over where
 * people walk) and each segment (whole, tuning half 0–397, held-out half 398–794): line, dwell and
 * visit error against the annotated trajectories counted by the same counters, MOTA, IDF1, ID
 * switches, and frames/s of tracking + analytics (best of --repeat runs, default 5: a few ms of
 * garbage collection weigh heavily on runs this short; the detector is excluded).
 *
 * --mean-seeds LIST (e.g. 1-16 or 1,3,5) adds, per tracker and segment, the mean errors over that
 * many seeded random scenes of 40 lines and 20 zones each (the figures docs/benchmarks.md quotes);
 * --every N replays every N-th frame only (2 = vtest at 5 fps instead of 10).
 *
 * --detections A.json,B.json,… (several recordings, e.g. float and int8 models, full and gateway
 * decode; needs --mean-seeds) prints those means with MOTA and IDF1 per recording, then per tracker
 * and segment the mean over the recordings, so that no setting is judged on one set of detections.
 *
 * The detector runs once (or --detections loads a recording saved by
 * `storepulse eval --save-detections FILE`); every tracker replays the same recording through the
 * same analyzeFrames loop as `storepulse eval`. Prints a markdown table; --out FILE writes the JSON.
 * Exits 0 with "skipped" when ../shared or vtest.avi is absent.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/projectPaths.js';
import { PersonDetector } from '../src/vision/detector/personDetector.js';
import { loadGroundTruth } from '../src/vision/eval/groundTruth.js';
import { randomScene } from '../src/vision/eval/randomScene.js';
import { meanOverRecordings, meanSceneErrors, type MeanRow } from '../src/vision/eval/meanErrors.js';
import {
  readDetectionRecording,
  recordDetections,
  scoreSegment,
  standardSegments,
  trackSegment,
  walkableFootPoints,
  type DetectionRecording,
  type SegmentReport,
} from '../src/vision/eval/sequenceEvaluation.js';
import { loadScene, type Scene } from '../src/vision/scene.js';
import { ByteTracker } from '../src/vision/tracking/byteTracker.js';
import type { FrameTracker } from '../src/vision/tracking/frameTracker.js';
import { IouTracker } from '../src/vision/tracking/iouTracker.js';
import { readVideoFrames } from '../src/vision/videoFrames.js';
import { SHARED_DIR, VTEST_PATH } from '../tests/helpers/fixtures.js';
import { MovingThingsTracker } from './lib/movingThingsTracker.js';

const { values } = parseArgs({
  options: {
    detections: { type: 'string' },
    out: { type: 'string' },
    seeds: { type: 'string', default: '1,2' },
    repeat: { type: 'string', default: '5' },
    'mean-seeds': { type: 'string', default: '' },
    every: { type: 'string', default: '1' },
  },
});
const seeds = values.seeds.split(',').filter((s) => s.trim() !== '').map(Number);
const repeat = Number(values.repeat);
const every = Number(values.every);
/** "1-16" or "1,3,5" (or a mix) → seeds; NaN for anything else, caught below. */
const meanSeeds = values['mean-seeds'].split(',').filter((s) => s.trim() !== '').flatMap((part) => {
  const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
  if (!range) return [Number(part)];
  const [from, to] = [Number(range[1]), Number(range[2])];
  return to >= from && to - from < 1000 ? Array.from({ length: to - from + 1 }, (_, i) => from + i) : [NaN];
});
const detectionFiles = (values.detections ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
if (
  [...seeds, ...meanSeeds].some((s) => !Number.isInteger(s) || s < 0) || !Number.isInteger(repeat) || repeat < 1 || !Number.isInteger(every) || every < 1 ||
  (detectionFiles.length > 1 && meanSeeds.length === 0)
) {
  console.error('usage: npm run bench:accuracy -- [--detections FILE[,FILE…]] [--out FILE] [--seeds 1,2] [--repeat N] [--mean-seeds 1-16] [--every N] (several FILEs need --mean-seeds)');
  process.exit(2);
}
/** Random scenes for the means: more lines and zones than the per-seed rows, as in docs/benchmarks.md. */
const MEAN_LINES = 40;
const MEAN_ZONES = 20;

const GT_PATH = path.join(SHARED_DIR, 'data', 'PETS09-S2L1', 'gt.txt');
const SCENE_PATH = path.join(PROJECT_ROOT, 'config/scenes/vtest.yaml');
const RANDOM_LINES = 20;
const RANDOM_ZONES = 10;
/** Down to the weak detections storepulse's second association stage uses (the others filter their own). */
const DETECT_SCORE = 0.1;

if (!existsSync(SHARED_DIR) || !existsSync(GT_PATH)) {
  console.log(`bench:accuracy skipped: no ground truth at ${GT_PATH} (../shared holds the evaluation data)`);
  process.exit(0);
}
if (!values.detections && !existsSync(VTEST_PATH)) {
  console.log(`bench:accuracy skipped: ${VTEST_PATH} is absent (install opencv-doc, or pass --detections FILE)`);
  process.exit(0);
}

interface TrackerEntry {
  name: string;
  label: string;
  make: () => FrameTracker;
}

const require = createRequire(import.meta.url);
const movingThingsVersion = (require('node-moving-things-tracker/package.json') as { version: string }).version;
const TRACKERS: TrackerEntry[] = [
  // Always its defaults: they are what ships.
  { name: 'storepulse', label: 'storepulse ByteTracker (defaults)', make: () => new ByteTracker() },
  { name: 'opendatacam', label: `OpenDataCam node-moving-things-tracker ${movingThingsVersion} (defaults, detections ≥ 0.5)`, make: () => new MovingThingsTracker() },
  { name: 'iou', label: 'IoU tracker, Bochinski et al. 2017 (score ≥ 0.5, IoU ≥ 0.3, 2 hits)', make: () => new IouTracker() },
];

/**
 * The adapter must hand back pixel boxes as x1, y1, x2, y2 (the library works in centre x, y, w, h):
 * a box walking 3 frames must come back where it was put, under one id. The library truncates
 * centre and size to whole pixels, so a corner may be off by up to 1.5 px.
 */
function checkMovingThingsAdapter(): void {
  const tracker = new MovingThingsTracker();
  let id: number | undefined;
  for (let f = 0; f < 3; f++) {
    const box = { x1: 100.3 + 7 * f, y1: 50.6 + 2 * f, x2: 141.1 + 7 * f, y2: 170.2 + 2 * f, score: 0.9 };
    const out = tracker.update([box], f * 100);
    const got = out[0];
    const off = got ? Math.max(...(['x1', 'y1', 'x2', 'y2'] as const).map((k) => Math.abs(got.box[k] - box[k]))) : Infinity;
    if (out.length !== 1 || off > 1.5 || (id !== undefined && got?.id !== id)) {
      throw new Error(`node-moving-things-tracker adapter: frame ${f}: put ${JSON.stringify(box)}, got ${JSON.stringify(out)}`);
    }
    id = got?.id;
  }
}

async function detectVtest(): Promise<DetectionRecording> {
  const detector = await PersonDetector.create({ scoreThreshold: DETECT_SCORE });
  try {
    return await recordDetections(readVideoFrames(VTEST_PATH), detector);
  } finally {
    await detector.close();
  }
}

const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);
const round = (v: number, digits = 4): number => Math.round(v * 10 ** digits) / 10 ** digits;

checkMovingThingsAdapter();

const gt = await loadGroundTruth(GT_PATH, 1);

if (detectionFiles.length > 1) {
  await compareRecordings(detectionFiles);
  process.exit(0);
}

/** Several recordings: each one's 16-seed means (and MOTA, IDF1), then their mean per tracker and segment. */
async function compareRecordings(files: string[]): Promise<void> {
  const vtestScene = await loadScene(SCENE_PATH);
  const perRecording: { file: string; frames: number; ap: string; rows: MeanRow[] }[] = [];
  for (const file of files) {
    const recorded = await readDetectionRecording(file);
    const rec: DetectionRecording = every === 1 ? recorded : { ...recorded, frames: recorded.frames.filter((f) => f.videoFrame % every === 0) };
    const last = Math.max(...recorded.frames.map((f) => f.videoFrame));
    if (gt.lastVideoFrame > last) throw new Error(`${file}: the ground truth annotates video frame ${gt.lastVideoFrame} but the detections end at frame ${last}`);
    const walk = walkableFootPoints(gt, rec.width, rec.height);
    const meanScenes = meanSeeds.map((seed) => randomScene(walk, { seed, lines: MEAN_LINES, zones: MEAN_ZONES }));
    const rows: MeanRow[] = [];
    const aps: string[] = [];
    for (const range of standardSegments(last)) {
      for (const t of TRACKERS) {
        const segment = await trackSegment(rec, range, vtestScene, t.make());
        const report = scoreSegment(rec, gt, segment, vtestScene);
        if (t === TRACKERS[0]) aps.push(`${range.name} ${report.detection.ap.toFixed(3)}`);
        rows.push({ segment: range.name, tracker: t.name, ...meanSceneErrors(gt, segment, meanScenes, rec.width, rec.height), mota: report.tracking.mota, idf1: report.tracking.idf1 });
      }
    }
    perRecording.push({ file, frames: rec.frames.length, ap: aps.join(', '), rows });
  }
  const means = meanOverRecordings(perRecording.map((r) => r.rows));
  const table = (rows: readonly MeanRow[]): string[] => [
    '| segment | tracker | line error | dwell error | visit error | MOTA | IDF1 |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.segment} | ${r.tracker} | ${pct(r.lineError)} | ${pct(r.dwellError)} | ${pct(r.visitError)} | ${r.mota?.toFixed(3) ?? 'n/a'} | ${r.idf1?.toFixed(3) ?? 'n/a'} |`),
  ];
  const out: string[] = [];
  out.push(`## Tracker accuracy on PETS09-S2L1 (vtest.avi), ${files.length} recordings`);
  out.push('');
  out.push(`Means over ${meanSeeds.length} random scenes of ${MEAN_LINES} lines and ${MEAN_ZONES} zones (seeds ${values['mean-seeds']})${every > 1 ? `, every ${every}th frame` : ''}; MOTA and IDF1 of the whole tracks.`);
  out.push(`trackers: ${TRACKERS.map((t) => `**${t.name}** = ${t.label}`).join('; ')}`);
  for (const r of perRecording) {
    out.push('');
    out.push(`### ${r.file} (${r.frames} frames; detector AP50 ${r.ap})`);
    out.push('');
    out.push(...table(r.rows));
  }
  out.push('');
  out.push(`### Mean over the ${files.length} recordings`);
  out.push('');
  out.push(...table(means));
  console.log(out.join('\n'));
  if (values.out) {
    const json = {
      sequence: 'PETS09-S2L1',
      groundTruth: { file: GT_PATH, trajectories: gt.trajectories, boxes: gt.boxes, frameOffset: 1 },
      every,
      means: { seeds: meanSeeds, lines: MEAN_LINES, zones: MEAN_ZONES },
      trackers: TRACKERS.map((t) => ({ name: t.name, label: t.label })),
      recordings: perRecording,
      meanOverRecordings: means,
    };
    await writeFile(values.out, `${JSON.stringify(json, null, 2)}\n`);
    console.error(`wrote ${values.out}`);
  }
}

const startDetect = performance.now();
const recorded = values.detections ? await readDetectionRecording(values.detections) : await detectVtest();
const recording: DetectionRecording = every === 1 ? recorded : { ...recorded, frames: recorded.frames.filter((f) => f.videoFrame % every === 0) };
const detectWallS = (performance.now() - startDetect) / 1000;
const lastFrame = Math.max(...recorded.frames.map((f) => f.videoFrame));
if (gt.lastVideoFrame > lastFrame) throw new Error(`the ground truth annotates video frame ${gt.lastVideoFrame} but the detections end at frame ${lastFrame}`);

const walkable = walkableFootPoints(gt, recording.width, recording.height);
const scenes: { name: string; seed: number | null; scene: Scene }[] = [
  { name: 'vtest.yaml', seed: null, scene: await loadScene(SCENE_PATH) },
  ...seeds.map((seed) => ({ name: `random seed ${seed}`, seed, scene: randomScene(walkable, { seed, lines: RANDOM_LINES, zones: RANDOM_ZONES }) })),
];
const segments = standardSegments(lastFrame);

// Warm-up (JIT) so the first rows timed do not pay for it.
for (let pass = 0; pass < 3; pass++) for (const t of TRACKERS) for (const s of scenes) await trackSegment(recording, segments[0]!, s.scene, t.make());

interface Row {
  scene: string;
  segment: string;
  tracker: string;
  report: SegmentReport;
  msPerFrame: number;
}
const rows: Row[] = [];
for (const s of scenes) {
  for (const range of segments) {
    for (const t of TRACKERS) {
      const ms: number[] = [];
      let report: SegmentReport | undefined;
      for (let r = 0; r < repeat; r++) {
        const segment = await trackSegment(recording, range, s.scene, t.make());
        ms.push(segment.trackingMsPerFrame);
        report ??= scoreSegment(recording, gt, segment, s.scene);
      }
      rows.push({ scene: s.name, segment: range.name, tracker: t.name, report: report!, msPerFrame: Math.min(...ms) });
    }
  }
}

// Detector AP50 per segment (the same for every tracker).
const ap = new Map(rows.filter((r) => r.scene === scenes[0]!.name && r.tracker === TRACKERS[0]!.name).map((r) => [r.segment, r.report.detection]));
const source = values.detections ?? `${VTEST_PATH} (detector run here, score ≥ ${DETECT_SCORE})`;

const out: string[] = [];
out.push('## Tracker accuracy on PETS09-S2L1 (vtest.avi)');
out.push('');
out.push(`${recording.frames.length} frames, ${recording.width}x${recording.height}; ground truth ${gt.trajectories} trajectories; detections: ${source}`);
out.push(`detector AP50: ${segments.map((r) => `${r.name} ${ap.get(r.name)?.ap.toFixed(3) ?? 'n/a'}`).join(', ')}`);
out.push(`trackers: ${TRACKERS.map((t) => `**${t.name}** = ${t.label}`).join('; ')}`);
out.push(`scenes: vtest.yaml (${scenes[0]!.scene.lines.length} lines, ${scenes[0]!.scene.zones.length} zones); random: ${RANDOM_LINES} lines, ${RANDOM_ZONES} zones. frames/s = tracking + analytics only, best of ${repeat} runs on ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
out.push('');
out.push('| scene | segment | tracker | line error | dwell error | visit error | MOTA | IDF1 | ID switches | frames/s |');
out.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const c = r.report.counts;
  const t = r.report.tracking;
  const range = `${r.segment} (${r.report.from}–${r.report.to})`;
  out.push(`| ${r.scene} | ${range} | ${r.tracker} | ${pct(c.lineError)} | ${pct(c.dwellError)} | ${pct(c.visitError)} | ${t.mota.toFixed(3)} | ${t.idf1.toFixed(3)} | ${t.idSwitches} | ${Math.round(1000 / r.msPerFrame)} |`);
}

// Means over many random scenes: one tracking run per tracker and segment, counted on every scene.
const meanRows: MeanRow[] = [];
if (meanSeeds.length > 0) {
  const meanScenes = meanSeeds.map((seed) => randomScene(walkable, { seed, lines: MEAN_LINES, zones: MEAN_ZONES }));
  for (const range of segments) {
    for (const t of TRACKERS) {
      const segment = await trackSegment(recording, range, scenes[0]!.scene, t.make());
      meanRows.push({ segment: range.name, tracker: t.name, ...meanSceneErrors(gt, segment, meanScenes, recording.width, recording.height) });
    }
  }
  out.push('');
  out.push(`Means over ${meanSeeds.length} random scenes of ${MEAN_LINES} lines and ${MEAN_ZONES} zones (seeds ${values['mean-seeds']})${every > 1 ? `, every ${every}th frame` : ''}:`);
  out.push('');
  out.push('| segment | tracker | line error | dwell error | visit error |');
  out.push('|---|---|---:|---:|---:|');
  for (const r of meanRows) out.push(`| ${r.segment} | ${r.tracker} | ${pct(r.lineError)} | ${pct(r.dwellError)} | ${pct(r.visitError)} |`);
}
console.log(out.join('\n'));

if (values.out) {
  const json = {
    sequence: 'PETS09-S2L1',
    video: VTEST_PATH,
    groundTruth: { file: GT_PATH, trajectories: gt.trajectories, boxes: gt.boxes, frameOffset: 1 },
    frames: recording.frames.length,
    frameSize: [recording.width, recording.height],
    detections: { source, detectMsPerFrame: round(recording.detectMsPerFrame, 2), loadOrDetectWallS: round(detectWallS, 1) },
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}`,
    node: process.version,
    repeat,
    trackers: TRACKERS.map((t) => ({ name: t.name, label: t.label })),
    scenes: scenes.map((s) => ({ name: s.name, seed: s.seed, lines: s.scene.lines.length, zones: s.scene.zones.length })),
    segments: segments.map((r) => ({ ...r, detection: ap.get(r.name) })),
    every,
    means: meanSeeds.length > 0 ? { seeds: meanSeeds, lines: MEAN_LINES, zones: MEAN_ZONES, rows: meanRows } : undefined,
    results: rows.map((r) => ({
      scene: r.scene,
      segment: r.segment,
      tracker: r.tracker,
      frames: r.report.frames,
      lineError: r.report.counts.lineError,
      lineBias: r.report.counts.lineBias,
      dwellError: r.report.counts.dwellError,
      dwellBias: r.report.counts.dwellBias,
      visitError: r.report.counts.visitError,
      visitBias: r.report.counts.visitBias,
      tracking: r.report.tracking,
      trackingMsPerFrame: round(r.msPerFrame),
      framesPerSecond: Math.round(1000 / r.msPerFrame),
      counts: { lines: r.report.counts.lines, zones: r.report.counts.zones },
    })),
  };
  await writeFile(values.out, `${JSON.stringify(json, null, 2)}\n`);
  console.error(`wrote ${values.out}`);
}
