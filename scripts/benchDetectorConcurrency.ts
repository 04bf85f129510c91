/**
 * npm run bench:concurrency [-- --frames N] [--json]
 *
 * How to share the cores between cameras (the choice behind the detector pool): frames/s of the
 * shipped detector on vtest.avi frames decoded at its input size, with
 *   a) one in-process session using 2 intra-op threads,
 *   b) two in-process sessions of 1 thread each, fed concurrently,
 *   c) the DetectorPool: 2 worker threads with a 1-thread session each (what the gateway runs).
 */
import { parseArgs } from 'node:util';
import type { RgbFrame } from '../src/vision/detection.js';
import { DetectorPool } from '../src/vision/detector/detectorPool.js';
import { PersonDetector } from '../src/vision/detector/personDetector.js';
import { readVideoFrames } from '../src/vision/videoFrames.js';
import { VTEST_PATH } from '../tests/helpers/fixtures.js';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '200' }, json: { type: 'boolean', default: false } } });
const total = Number(values.frames);
const frames: RgbFrame[] = [];
for await (const f of readVideoFrames(VTEST_PATH, { fps: 5, width: 416, maxFrames: 60 })) frames.push(f);
const copy = (i: number): RgbFrame => {
  const f = frames[i % frames.length] as RgbFrame;
  return { ...f, data: f.data.slice() };
};

/** `lanes` concurrent callers share `total` frames; returns frames/s. */
async function throughput(lanes: ((frame: RgbFrame) => Promise<unknown>)[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(lanes.map(async (detect) => {
    while (next < total) await detect(copy(next++));
  }));
  return total / ((performance.now() - started) / 1000);
}

const results: Record<string, number> = {};
const twoThreads = await PersonDetector.create({ threads: 2 });
await throughput([(f) => twoThreads.detect(f)]); // warm-up pass
results.one_session_2_threads = await throughput([(f) => twoThreads.detect(f)]);
await twoThreads.close();

const a = await PersonDetector.create({ threads: 1 });
const b = await PersonDetector.create({ threads: 1 });
results.two_sessions_1_thread_in_process = await throughput([(f) => a.detect(f), (f) => b.detect(f)]);
await Promise.all([a.close(), b.close()]);

const pool = await DetectorPool.start({ workers: 2, detector: {} });
const viaPool = (f: RgbFrame): Promise<unknown> => pool.submit(() => f);
await throughput([viaPool, viaPool]);
results.pool_2_workers_1_thread = await throughput([viaPool, viaPool, viaPool, viaPool]);
await pool.close();

const rounded = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, +v.toFixed(1)]));
console.log(values.json ? JSON.stringify({ frames_per_s: rounded }) : rounded);
