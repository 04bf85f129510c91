import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbFrame } from '../../src/vision/detection.js';
import { DetectorPool } from '../../src/vision/detector/detectorPool.js';
import { PersonDetector } from '../../src/vision/detector/personDetector.js';
import { hasVtest, vtestFrames } from '../helpers/fixtures.js';

describe.skipIf(!hasVtest)('DetectorPool (worker threads, real model)', () => {
  let frames: RgbFrame[];
  let pool: DetectorPool;
  beforeAll(async () => {
    frames = await vtestFrames([0, 10, 20, 30]);
    pool = await DetectorPool.start({ workers: 2, detector: { scoreThreshold: 0.3 } });
  });
  afterAll(async () => pool.close());

  it('finds what the in-process detector finds, and hands the frame back whole', async () => {
    const direct = await PersonDetector.create({ threads: 1, scoreThreshold: 0.3 });
    const frame = frames[0] as RgbFrame;
    const expected = await direct.detect(frame);
    await direct.close();
    const copy = { ...frame, data: frame.data.slice() };
    const result = await pool.submit(() => copy);
    expect(result.detections.length).toBe(expected.length);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    result.detections.forEach((d, i) => expect(d.x1).toBeCloseTo((expected[i] as typeof d).x1, 3));
    expect(copy.data.byteLength).toBe(0); // transferred to the worker…
    expect(result.frame.data).toEqual(frame.data); // …and back
    expect(pool.modelInput).toMatchObject({ width: 416, height: 416, resize: 'stretch' });
  });

  it('runs jobs from several cameras on both workers at once', async () => {
    // Behaviour, not wall time (a busy machine makes any time bound flaky): when a worker takes a
    // frame, count the jobs handed out and not yet answered. `completed` goes up before the pool
    // hands the freed worker its next job, so a finished job is never counted as held.
    expect(pool.size).toBe(2);
    const completedBefore = pool.completed;
    let taken = 0;
    const heldAtTake: number[] = [];
    const results = await Promise.all(
      frames.map((f) =>
        pool.submit(() => {
          taken += 1;
          heldAtTake.push(taken - (pool.completed - completedBefore));
          return { ...f, data: f.data.slice() };
        }),
      ),
    );
    expect(results.every((r) => r.detections.length > 0)).toBe(true);
    expect(heldAtTake).toHaveLength(frames.length);
    expect(Math.max(...heldAtTake)).toBe(2); // both workers held a job at the same moment…
    expect(heldAtTake.every((held) => held >= 1 && held <= pool.size)).toBe(true); // …and never more than one each
    expect(pool.completed - completedBefore).toBe(frames.length);
    expect(pool.queued).toBe(0);
  });

  it('takes the frame only when a worker is free, so a waiting camera gets its newest frame', async () => {
    let newest = frames[1] as RgbFrame;
    const busy = [0, 1, 2].map(() => pool.submit(() => ({ ...(frames[0] as RgbFrame), data: (frames[0] as RgbFrame).data.slice() })));
    const waiting = pool.submit(() => ({ ...newest, data: newest.data.slice() }));
    newest = frames[3] as RgbFrame; // a newer frame arrives while the job waits
    const result = await waiting;
    await Promise.all(busy);
    expect(result.frame.index).toBe((frames[3] as RgbFrame).index);
  });

  it('closes while frames are in flight without taking the process down', async () => {
    const other = await DetectorPool.start({ workers: 1, detector: {} });
    const inFlight = [0, 1, 2].map(() => other.submit(() => ({ ...(frames[0] as RgbFrame), data: (frames[0] as RgbFrame).data.slice() })).catch((e: Error) => e.message));
    await other.close();
    const outcomes = await Promise.all(inFlight);
    expect(outcomes.filter((o) => o === 'the detector pool is closed').length).toBeGreaterThanOrEqual(1);
    await expect(other.submit(() => frames[0] as RgbFrame)).rejects.toThrow(/closed/);
  });

  it('reports a model that cannot load', async () => {
    await expect(DetectorPool.start({ workers: 1, detector: { model: '/nonexistent/model.onnx' } })).rejects.toThrow(/model/);
  });
});
