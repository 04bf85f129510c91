/**
 * npm run bench:detector [-- --json] [--frames N] [--gt FILE.txt] [--model NAME|PATH ...] [--video FILE]
 *
 * Per model, at 1 and 2 intra-op threads, on vtest.avi frames held in memory (every 5th frame):
 * - inference ms (p50/p95): the session alone;
 * - frame→detections ms (preprocess + inference + decode + NMS) for two inputs, interleaved frame
 *   by frame so both see the same machine:
 *   - "gateway input": the frame as the gateway's ffmpeg decodes it, already scaled to the model
 *     (416x416 for a stretch model, 416 wide keeping the aspect ratio for a letterbox one): no
 *     resize, preprocessing is the one normalisation pass (plus the padding of a letterbox model);
 *   - "full frame": the video's own size (768x576), resized by sharp (lanczos3) first — what
 *     `storepulse detect` on a full-size image does.
 * With --gt (MOT format, frame numbers 1-based over vtest.avi) also AP50 for persons on full frames.
 * Models: the default, YOLOX-Nano from ../shared when present, and any --model given.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { RgbFrame } from '../src/vision/detection.js';
import type { ModelManifest } from '../src/vision/detector/modelManifest.js';
import { PersonDetector } from '../src/vision/detector/personDetector.js';
import { averagePrecision } from '../src/vision/eval/averagePrecision.js';
import { motBoxToDetection, parseMot } from '../src/vision/eval/motFormat.js';
import { readVideoFrames } from '../src/vision/videoFrames.js';
import { hasYoloxNano, VTEST_PATH, YOLOX_NANO_PATH } from '../tests/helpers/fixtures.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    frames: { type: 'string', default: '60' },
    gt: { type: 'string' },
    model: { type: 'string', multiple: true },
    video: { type: 'string', default: VTEST_PATH },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('npm run bench:detector [-- --json] [--frames N (default 60)] [--gt FILE.txt] [--model NAME|PATH ...] [--video FILE]');
  process.exit(0);
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const stats = (xs: number[]) => ({ p50: +percentile(xs, 50).toFixed(2), p95: +percentile(xs, 95).toFixed(2) });

async function loadFrames(wanted: (i: number) => boolean, last: number, detectorInput?: ModelManifest['input']): Promise<RgbFrame[]> {
  const frames: RgbFrame[] = [];
  for await (const f of readVideoFrames(values.video, { maxFrames: last + 1, detectorInput })) {
    // Plain frames at the decoded size, as the gateway hands them to a detector worker.
    if (wanted(f.index)) frames.push({ index: f.index, width: f.width, height: f.height, data: f.data, timestampMs: f.timestampMs });
  }
  return frames;
}

const frameCount = Number(values.frames);
// Every 5th frame: varied content without decoding the whole video.
const everyFifth = (i: number): boolean => i % 5 === 0;
const benchFrames = await loadFrames(everyFifth, frameCount * 5 - 1);
/** The same frames decoded at a model's input as the gateway does, per input shape. */
const gatewayFrames = new Map<string, RgbFrame[]>();
async function gatewayFramesFor(input: ModelManifest['input']): Promise<RgbFrame[]> {
  const key = `${input.width}x${input.height}:${input.resize}`;
  let frames = gatewayFrames.get(key);
  if (!frames) {
    frames = await loadFrames(everyFifth, frameCount * 5 - 1, input);
    gatewayFrames.set(key, frames);
  }
  return frames;
}
const gt = values.gt ? parseMot(readFileSync(values.gt, 'utf8')) : [];
const gtFrameIndices = [...new Set(gt.map((b) => b.frame - 1))];
const gtFrames = gt.length ? await loadFrames((i) => gtFrameIndices.includes(i), Math.max(...gtFrameIndices)) : [];

const models = [...new Set(['nanodet-m-416', ...(hasYoloxNano ? [YOLOX_NANO_PATH] : []), ...(values.model ?? [])])];
const results = [];
for (const model of models) {
  if (model.endsWith('.onnx') && !existsSync(model)) continue;
  const perThreads: Record<string, unknown> = {};
  let name = model;
  let defaultThreshold = 0;
  for (const threads of [1, 2]) {
    const detector = await PersonDetector.create({ model, threads, warmupRuns: 3 });
    name = detector.manifest.name;
    defaultThreshold = detector.manifest.scoreThreshold;
    const atInput = await gatewayFramesFor(detector.manifest.input);
    const inference: number[] = [];
    const full = { endToEnd: [] as number[], preprocess: [] as number[], decode: [] as number[] };
    const gateway = { endToEnd: [] as number[], preprocess: [] as number[], decode: [] as number[] };
    const timed = async (frame: RgbFrame, into: typeof full): Promise<void> => {
      const t0 = performance.now();
      const { timings } = await detector.detectTimed(frame);
      into.endToEnd.push(performance.now() - t0);
      into.preprocess.push(timings.preprocessMs);
      into.decode.push(timings.decodeMs);
    };
    for (const [i, frame] of benchFrames.entries()) {
      await detector.prepare(frame);
      const t = performance.now();
      await detector.infer();
      inference.push(performance.now() - t);
      await timed(frame, full);
      await timed(atInput[i] as RgbFrame, gateway);
    }
    const summary = (x: typeof full, frame: RgbFrame) => ({
      frameSize: `${frame.width}x${frame.height}`,
      frameToDetectionsMs: stats(x.endToEnd),
      preprocessMs: stats(x.preprocess),
      decodeMs: stats(x.decode),
    });
    perThreads[`threads${threads}`] = {
      inferenceMs: stats(inference),
      gatewayInput: summary(gateway, atInput[0] as RgbFrame),
      fullFrame: summary(full, benchFrames[0] as RgbFrame),
    };
    await detector.close();
  }
  let accuracy: unknown;
  if (gtFrames.length) {
    const detector = await PersonDetector.create({ model, threads: 2, scoreThreshold: 0.05 });
    const evaluations = [];
    for (const frame of gtFrames) {
      const groundTruth = gt.filter((b) => b.frame - 1 === frame.index).map(motBoxToDetection);
      evaluations.push({ groundTruth, detections: await detector.detect(frame) });
    }
    const r = averagePrecision(evaluations, 0.5, defaultThreshold);
    accuracy = { ap50: +r.ap.toFixed(3), groundTruthBoxes: r.groundTruthCount, frames: gtFrames.length, precisionAtDefault: +r.precision.toFixed(3), recallAtDefault: +r.recall.toFixed(3), defaultThreshold };
    await detector.close();
  }
  results.push({ model: name, ...perThreads, ...(accuracy ? { accuracy } : {}) });
}

const report = { machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`, node: process.version, frames: benchFrames.length, video: values.video, results };
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`${report.machine}; ${report.frames} frames of ${report.video}`);
  for (const r of results) {
    type Input = { frameSize: string; frameToDetectionsMs: { p50: number; p95: number }; preprocessMs: { p50: number } };
    const t = r as unknown as Record<string, { inferenceMs: { p50: number; p95: number }; gatewayInput: Input; fullFrame: Input }>;
    const describe = (label: string, x: Input): string =>
      `frame→detections, ${label} ${x.frameSize}: p50 ${x.frameToDetectionsMs.p50} ms p95 ${x.frameToDetectionsMs.p95} ms (preprocess p50 ${x.preprocessMs.p50} ms)`;
    console.log(`\n${r.model}`);
    for (const k of ['threads1', 'threads2']) {
      const x = t[k]!;
      console.log(`  ${k}: inference p50 ${x.inferenceMs.p50} ms p95 ${x.inferenceMs.p95} ms`);
      console.log(`    ${describe('gateway input (ffmpeg-scaled to the model)', x.gatewayInput)}`);
      console.log(`    ${describe('full frame (sharp resize)', x.fullFrame)}`);
    }
    if ('accuracy' in r) console.log(`  accuracy: ${JSON.stringify(r.accuracy)}`);
  }
}
