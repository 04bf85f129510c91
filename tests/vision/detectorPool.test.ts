import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RgbFrame } from '../../src/vision/detection.js';
import { DetectorPool, type ModelInput, type WorkerReply, type WorkerRequest } from '../../src/vision/detector/detectorPool.js';
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

/**
 * How a fake worker behaves when the pool asks it to close while it holds a frame: answer the frame
 * then exit (a healthy worker), exit without answering, or hang until it is terminated.
 */
type OnClose = 'answer' | 'exit' | 'hang';

describe('DetectorPool closing with a frame in flight (fake worker threads)', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.doUnmock('node:worker_threads');
    vi.resetModules();
  });

  async function poolWithFakeWorker(onClose: OnClose) {
    const terminated: number[] = [];
    class FakeWorker extends EventEmitter {
      private pending: WorkerRequest | undefined;
      constructor() {
        super();
        const input: ModelInput = { name: 'images', width: 2, height: 1, layout: 'NCHW', colorOrder: 'BGR', mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch', padValue: 114 };
        const ready: WorkerReply = { type: 'ready', manifestName: 'fake', input };
        process.nextTick(() => this.emit('message', ready));
      }
      postMessage(message: WorkerRequest | { type: 'close' }): void {
        if (!('type' in message)) {
          this.pending = message; // busy with this frame until told to close
          return;
        }
        if (onClose === 'hang') return;
        process.nextTick(() => {
          if (onClose === 'answer' && this.pending) {
            const { id, data } = this.pending;
            this.emit('message', { type: 'result', id, detections: [], timings: { preprocessMs: 0, inferenceMs: 0, decodeMs: 0 }, data } satisfies WorkerReply);
          }
          this.emit('exit', 0);
        });
      }
      terminate(): Promise<number> {
        terminated.push(1);
        return new Promise((resolve) =>
          process.nextTick(() => {
            this.emit('exit', 1);
            resolve(1);
          }),
        );
      }
    }
    vi.doMock('node:worker_threads', () => ({ Worker: FakeWorker }));
    vi.resetModules();
    const { DetectorPool: FakePool } = await import('../../src/vision/detector/detectorPool.js');
    const pool = await FakePool.start({ workers: 1, detector: {} });
    const frame: RgbFrame = { index: 7, timestampMs: 0, width: 2, height: 1, data: new Uint8Array(6) };
    const job = pool.submit(() => frame);
    // Settled or not, the outcome is read later; a rejection is never left unhandled.
    const outcome = job.then(
      (result) => ({ resolved: result.frame.index }),
      (err: Error) => ({ rejected: err.message }),
    );
    return { pool, outcome, terminated: () => terminated.length };
  }

  it('a worker that finishes its frame on close still delivers the result (unchanged)', async () => {
    const { pool, outcome, terminated } = await poolWithFakeWorker('answer');
    await pool.close();
    expect(await outcome).toEqual({ resolved: 7 });
    expect(terminated()).toBe(0);
  });

  it('rejects the in-flight job when its worker exits without answering', async () => {
    const { pool, outcome } = await poolWithFakeWorker('exit');
    await pool.close();
    expect(await outcome).toEqual({ rejected: expect.stringMatching(/detector pool closed before the detector worker answered this frame/) });
  });

  it('rejects the in-flight job when a hung worker has to be terminated', async () => {
    const { pool, outcome, terminated } = await poolWithFakeWorker('hang');
    // The close grace period runs on fake timers: nothing here depends on the clock.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const closing = pool.close();
    await vi.runAllTimersAsync();
    await closing;
    expect(terminated()).toBe(1);
    expect(await outcome).toEqual({ rejected: expect.stringMatching(/detector pool closed before the detector worker answered this frame/) });
    await expect(pool.submit(() => ({ index: 0, timestampMs: 0, width: 2, height: 1, data: new Uint8Array(6) }))).rejects.toThrow(/closed/);
  });
});
