/**
 * npm run bench:detector [-- --json] [--frames N] [--gt FILE.txt] [--model NAME|PATH ...]
 *
 * Per model: inference ms (p50/p95) at 1 and 2 intra-op threads, and frame→detections ms
 * (resize + tensor + inference + decode + NMS) on vtest.avi frames held in memory. With --gt
 * (MOT format, frame numbers 1-based over vtest.avi) also AP50 for persons.
 * Models: the default, YOLOX-Nano from ../shared when present, and any --model given.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { RgbFrame } from '../src/vision/detection.js';
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
  },
});

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const stats = (xs: number[]) => ({ p50: +percentile(xs, 50).toFixed(2), p95: +percentile(xs, 95).toFixed(2) });

async function loadFrames(wanted: (i: number) => boolean, last: number): Promise<RgbFrame[]> {
  const frames: RgbFrame[] = [];
  for await (const f of readVideoFrames(values.video, { maxFrames: last + 1 })) if (wanted(f.index)) frames.push(f);
  return frames;
}

const frameCount = Number(values.frames);
// Every 5th frame: varied content without decoding the whole video.
const benchFrames = await loadFrames((i) => i % 5 === 0, frameCount * 5 - 1);
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
    const inference: number[] = [];
    const endToEnd: number[] = [];
    const preprocess: number[] = [];
    const decode: number[] = [];
    for (const frame of benchFrames) {
      await detector.prepare(frame);
      const t = performance.now();
      await detector.infer();
      inference.push(performance.now() - t);
      const t0 = performance.now();
      const { timings } = await detector.detectTimed(frame);
      endToEnd.push(performance.now() - t0);
      preprocess.push(timings.preprocessMs);
      decode.push(timings.decodeMs);
    }
    perThreads[`threads${threads}`] = { inferenceMs: stats(inference), frameToDetectionsMs: stats(endToEnd), preprocessMs: stats(preprocess), decodeMs: stats(decode) };
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
    const t = r as unknown as Record<string, { inferenceMs: { p50: number; p95: number }; frameToDetectionsMs: { p50: number; p95: number }; preprocessMs: { p50: number } }>;
    console.log(`\n${r.model}`);
    for (const k of ['threads1', 'threads2']) {
      const x = t[k]!;
      console.log(`  ${k}: inference p50 ${x.inferenceMs.p50} ms p95 ${x.inferenceMs.p95} ms | frame→detections p50 ${x.frameToDetectionsMs.p50} ms p95 ${x.frameToDetectionsMs.p95} ms | preprocess p50 ${x.preprocessMs.p50} ms`);
    }
    if ('accuracy' in r) console.log(`  accuracy: ${JSON.stringify(r.accuracy)}`);
  }
}
