/**
 * npm run bench:pipeline [-- --json] [--frames N]
 *
 * 1. Frames/s of the whole offline pipeline (ffmpeg decode → detect → track → lines/zones/heatmap)
 *    on vtest.avi, against the detector alone on the same frames held in memory — twice:
 *    - as `storepulse analyze` decodes: full size (768x576), resized by sharp in the detector;
 *    - decoded at the detector's input by ffmpeg as the gateway does (readVideoFrames
 *      detectorInput), boxes mapped back to 768x576. Cheaper, but not analyze's default: its
 *      counting accuracy on vtest is worse (docs/benchmarks.md).
 *    Each ratio compares a pipeline with the detector alone on the frames that pipeline decodes.
 * 2. Cost of tracking + analytics per frame with a crowd of 30 people (synthetic walkers, with
 *    jitter, painted in their own colours on a 1920x1080 frame), for a scene with 4 lines and 4
 *    zones: colour signatures, tracker, foot-point smoothing, lines, zones and heatmap.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FootPointEstimator } from '../src/vision/analytics/footPoints.js';
import { SceneAnalytics } from '../src/vision/analytics/sceneAnalytics.js';
import type { RgbFrame } from '../src/vision/detection.js';
import { PersonDetector } from '../src/vision/detector/personDetector.js';
import { analyzeFrames } from '../src/vision/pipeline/offlineAnalysis.js';
import { PROJECT_ROOT } from '../src/projectPaths.js';
import { loadScene, parseScene } from '../src/vision/scene.js';
import { withAppearance } from '../src/vision/tracking/appearance.js';
import { ByteTracker } from '../src/vision/tracking/byteTracker.js';
import { readVideoFrames, type ReadVideoOptions } from '../src/vision/videoFrames.js';
import { VTEST_PATH } from '../tests/helpers/fixtures.js';
import { seededRandom } from '../tests/helpers/syntheticDetections.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, frames: { type: 'string', default: '300' }, help: { type: 'boolean', default: false } } });
if (values.help) {
  console.log('npm run bench:pipeline [-- --json] [--frames N (default 300)]');
  process.exit(0);
}
const maxFrames = Number(values.frames);
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

// 1. Pipeline vs detector alone, for each decode size.
const scene = await loadScene(path.join(PROJECT_ROOT, 'config/scenes/vtest.yaml'));
const detector = await PersonDetector.create({ threads: 2, scoreThreshold: 0.1 });
const decodeAtInput = { maxFrames, detectorInput: detector.manifest.input };
const decodeFull = { maxFrames };

async function measure(decode: ReadVideoOptions): Promise<{ frames: number; frameSize: string; detectorOnlyFps: number; pipelineFps: number; analyticsMs: number[] }> {
  let frames: RgbFrame[] = [];
  for await (const f of readVideoFrames(VTEST_PATH, decode)) frames.push(f);
  const frameSize = `${frames[0]?.width}x${frames[0]?.height}`;
  let t0 = performance.now();
  for (const f of frames) await detector.detect(f);
  const detectorOnlyFps = frames.length / ((performance.now() - t0) / 1000);
  // Let the decoded frames go (~400 MB at full size): a gateway never holds them, and every garbage
  // collection in the measurements that follow would otherwise walk them.
  frames = [];
  const analyticsMs: number[] = [];
  t0 = performance.now();
  const result = await analyzeFrames(readVideoFrames(VTEST_PATH, decode), scene, detector, new ByteTracker(), {
    onAnalyticsTime: (ms) => analyticsMs.push(ms),
  });
  const pipelineFps = result.frames / ((performance.now() - t0) / 1000);
  return { frames: result.frames, frameSize, detectorOnlyFps, pipelineFps, analyticsMs };
}

const fullSize = await measure(decodeFull);
const atInput = await measure(decodeAtInput);
await detector.close();
const analyticsMs = fullSize.analyticsMs;

// 2. Tracking + analytics with 30 people.
const crowdScene = parseScene({
  lines: [0.2, 0.4, 0.6, 0.8].map((x, i) => ({ name: `L${i}`, points: [[x, 0.1], [x, 0.95]] })),
  zones: [0, 1, 2, 3].map((i) => ({ name: `Z${i}`, polygon: [[0.25 * i, 0.1], [0.25 * i + 0.2, 0.1], [0.25 * i + 0.2, 0.9], [0.25 * i, 0.9]], min_dwell_s: 1 })),
});
const random = seededRandom(7);
const walkers = Array.from({ length: 30 }, (_, k) => ({
  x: 40 + random() * 1800,
  y: 200 + (k % 6) * 140,
  vx: (random() - 0.5) * 120,
  colour: [random() * 255, random() * 255, random() * 255].map(Math.round) as [number, number, number],
}));
const tracker = new ByteTracker();
const analytics = new SceneAnalytics(crowdScene, 1920, 1080);
const feet = new FootPointEstimator();
const crowdFrame: RgbFrame = { index: 0, width: 1920, height: 1080, data: new Uint8Array(1920 * 1080 * 3), timestampMs: 0 };
crowdFrame.data.fill(90);
const rowOf = (colour: readonly number[]): Uint8Array => Uint8Array.from({ length: 1920 * 3 }, (_, i) => colour[i % 3] as number);
const walkerRows = walkers.map((w) => rowOf(w.colour));
const backgroundRow = rowOf([90, 90, 90]);
let painted: { x1: number; y1: number; x2: number; y2: number }[] = [];
/** Paints each walker's box in its colour over the grey floor (not timed: a camera delivers the pixels). */
function paint(boxes: { x1: number; y1: number; x2: number; y2: number }[]): void {
  const fill = (b: { x1: number; y1: number; x2: number; y2: number }, row: Uint8Array): void => {
    const x1 = Math.max(0, Math.floor(b.x1));
    const x2 = Math.min(1920, Math.ceil(b.x2));
    for (let y = Math.max(0, Math.floor(b.y1)); y < Math.min(1080, b.y2); y++) crowdFrame.data.set(row.subarray(0, (x2 - x1) * 3), (y * 1920 + x1) * 3);
  };
  for (const b of painted) fill(b, backgroundRow);
  boxes.forEach((b, k) => fill(b, walkerRows[k]!));
  painted = boxes;
}
const crowdMs: number[] = [];
let reported = 0;
for (let f = 0; f < 3000; f++) {
  const t = f * 100;
  const detections = walkers.map((w) => {
    w.x = Math.min(1860, Math.max(20, w.x + w.vx / 10));
    const jx = (random() - 0.5) * 6;
    return { x1: w.x + jx, y1: w.y, x2: w.x + 60 + jx, y2: w.y + 180, score: 0.6 + 0.3 * random() };
  });
  paint(detections);
  const start = performance.now();
  const tracks = tracker.update(withAppearance(crowdFrame, detections), t);
  analytics.update(feet.estimate(tracks, 1920, 1080, t), t);
  crowdMs.push(performance.now() - start);
  reported = tracks.length;
}
const steady = crowdMs.slice(100);

const ratio = (x: { pipelineFps: number; detectorOnlyFps: number }): number => +(x.pipelineFps / x.detectorOnlyFps).toFixed(3);
const report = {
  machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}`,
  node: process.version,
  video: VTEST_PATH,
  frames: fullSize.frames,
  // As `storepulse analyze` runs: decoded at full size, resized by sharp inside the detector.
  decodeSize: fullSize.frameSize,
  detectorOnlyFps: +fullSize.detectorOnlyFps.toFixed(1),
  pipelineFps: +fullSize.pipelineFps.toFixed(1),
  pipelineVsDetector: ratio(fullSize),
  // Decoded at the detector's input by ffmpeg (the gateway's way), boxes in source pixels.
  detectorInputDecode: {
    decodeSize: atInput.frameSize,
    detectorOnlyFps: +atInput.detectorOnlyFps.toFixed(1),
    pipelineFps: +atInput.pipelineFps.toFixed(1),
    pipelineVsDetector: ratio(atInput),
    pipelineVsFullSizeDetector: +(atInput.pipelineFps / fullSize.detectorOnlyFps).toFixed(3),
  },
  trackingAnalyticsMsOnVtest: { p50: +percentile(analyticsMs, 50).toFixed(3), p95: +percentile(analyticsMs, 95).toFixed(3) },
  crowd30: { tracksReported: reported, lines: 4, zones: 4, msPerFrame: { p50: +percentile(steady, 50).toFixed(3), p95: +percentile(steady, 95).toFixed(3), mean: +(steady.reduce((a, b) => a + b, 0) / steady.length).toFixed(3) } },
};
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  const s = report.detectorInputDecode;
  console.log(`${report.machine}, ${report.frames} frames of vtest.avi`);
  console.log(`as storepulse analyze decodes (${report.decodeSize}, sharp resize in the detector):`);
  console.log(`  detector alone (frames in memory): ${report.detectorOnlyFps} frames/s`);
  console.log(`  whole pipeline (decode→detect→track→analytics): ${report.pipelineFps} frames/s = ${(100 * report.pipelineVsDetector).toFixed(1)} % of detector-only`);
  console.log(`decoded at the detector's input by ffmpeg (${s.decodeSize}, the gateway's way; boxes mapped to 768x576):`);
  console.log(`  detector alone (frames in memory): ${s.detectorOnlyFps} frames/s`);
  console.log(`  whole pipeline: ${s.pipelineFps} frames/s = ${(100 * s.pipelineVsDetector).toFixed(1)} % of detector-only at that size, ${(100 * s.pipelineVsFullSizeDetector).toFixed(1)} % of the full-size detector-only`);
  console.log(`tracking + analytics on vtest: p50 ${report.trackingAnalyticsMsOnVtest.p50} ms, p95 ${report.trackingAnalyticsMsOnVtest.p95} ms per frame`);
  console.log(`tracking + analytics, 30 people, 4 lines, 4 zones: p50 ${report.crowd30.msPerFrame.p50} ms, p95 ${report.crowd30.msPerFrame.p95} ms, mean ${report.crowd30.msPerFrame.mean} ms (${reported} tracks reported)`);
}
