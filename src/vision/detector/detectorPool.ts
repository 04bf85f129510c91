/**
 * Shares the CPU's cores between all cameras: a fixed number of worker threads, each with its own
 * single-threaded detector session. Jobs are lazy — a camera submits a function that picks its
 * newest frame only when a worker is free — so a busy pool makes cameras drop stale frames instead
 * of queueing them; the queue never holds more than one job per camera. Measured against one
 * two-thread session in docs/benchmarks.md.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Detection, RgbFrame } from '../detection.js';
import type { ModelManifest } from './modelManifest.js';
import type { DetectionTimings, DetectorOptions } from './personDetector.js';

export type ModelInput = ModelManifest['input'];

export interface WorkerRequest {
  id: number;
  width: number;
  height: number;
  data: Uint8Array;
}

export type WorkerReply =
  | { type: 'ready'; manifestName: string; input: ModelInput }
  | { type: 'load_failed'; error: string }
  | { type: 'result'; id: number; detections: Detection[]; timings: DetectionTimings; data: Uint8Array }
  | { type: 'failed'; id: number; error: string; data: Uint8Array };

export interface PooledDetection {
  frame: RgbFrame;
  detections: Detection[];
  timings: DetectionTimings;
  /** Time between the frame being taken and the result arriving (transfer + preprocess + inference + decode). */
  latencyMs: number;
}

interface Job {
  takeFrame: () => RgbFrame;
  resolve: (result: PooledDetection) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job: (Job & { id: number; frame: RgbFrame; startedMs: number }) | undefined;
}

export interface DetectorPoolOptions {
  workers: number;
  detector: Omit<DetectorOptions, 'threads'>;
  /** Called when a worker dies and is replaced (for logs and metrics). */
  onWorkerError?: (error: string) => void;
}

const RESPAWN_DELAY_MS = 1000;

/** The worker entry next to this file: .js when built, .ts when run from source (tsx, vitest). */
function spawnWorker(options: DetectorOptions): Worker {
  const here = fileURLToPath(import.meta.url);
  const entry = new URL(`./detectorWorker${extname(here)}`, import.meta.url);
  if (extname(here) === '.ts') {
    // Resolved here, not in the worker: an eval'd worker resolves bare names from the cwd.
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
    return new Worker(bootstrap, { eval: true, workerData: options });
  }
  return new Worker(entry, { workerData: options });
}

function waitReady(worker: Worker): Promise<ModelInput> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: WorkerReply): void => {
      cleanup();
      if (m.type === 'ready') resolve(m.input);
      else reject(new Error(m.type === 'load_failed' ? m.error : `unexpected ${m.type} from a starting worker`));
    };
    const onError = (err: Error): void => (cleanup(), reject(err));
    const onExit = (code: number): void => (cleanup(), reject(new Error(`detector worker exited with code ${code} while starting`)));
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

const CLOSE_TIMEOUT_MS = 5000;

/** Asks a worker to finish its frame and release its session; terminates it only if it hangs. */
function closeWorker(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => void worker.terminate().finally(resolve), CLOSE_TIMEOUT_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.postMessage({ type: 'close' });
  });
}

export class DetectorPool {
  private readonly queue: Job[] = [];
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  /** The model's input (size, resize mode), known once a worker has loaded it. */
  modelInput: ModelInput | undefined;
  completed = 0;
  /**
   * Wall-clock ms workers spent on the frames they finished (transfer there and back included),
   * cumulative: with `completed`, the frame-rate controller's measure of what the pool sustains.
   * Wall time rather than CPU time on purpose: it includes the contention from ffmpeg and the main
   * thread on the same cores, which is what limits the pool.
   */
  serviceMs = 0;

  private constructor(private readonly options: DetectorPoolOptions) {}

  static async start(options: DetectorPoolOptions): Promise<DetectorPool> {
    const pool = new DetectorPool(options);
    try {
      await Promise.all(Array.from({ length: options.workers }, () => pool.addWorker()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Runs the detector on the frame `takeFrame` returns once a worker is free. */
  submit(takeFrame: () => RgbFrame): Promise<PooledDetection> {
    if (this.closed) return Promise.reject(new Error('the detector pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ takeFrame, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the detector pool is closed'));
    await Promise.all(
      this.slots.splice(0).map(async (slot) => {
        await closeWorker(slot.worker);
        // The worker answers its frame before it leaves; one that had to be terminated never will.
        this.failJob(slot, 'the detector pool closed before the detector worker answered this frame');
      }),
    );
  }

  private async addWorker(): Promise<void> {
    const worker = spawnWorker({ ...this.options.detector, threads: 1 });
    this.modelInput = await waitReady(worker);
    if (this.closed) {
      await closeWorker(worker);
      return;
    }
    const slot: Slot = { worker, job: undefined };
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (err) => this.onWorkerDeath(slot, err.message));
    worker.on('exit', (code) => this.onWorkerDeath(slot, `detector worker exited with code ${code}`));
    this.slots.push(slot);
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.queue.shift();
      if (!job) return;
      let frame: RgbFrame;
      try {
        frame = job.takeFrame();
      } catch (err) {
        job.reject(err as Error);
        continue;
      }
      const id = this.nextId++;
      slot.job = { ...job, id, frame, startedMs: performance.now() };
      const request: WorkerRequest = { id, width: frame.width, height: frame.height, data: frame.data };
      slot.worker.postMessage(request, [frame.data.buffer as ArrayBuffer]);
    }
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const job = slot.job;
    if (!job || (reply.type !== 'result' && reply.type !== 'failed') || reply.id !== job.id) return;
    slot.job = undefined;
    // The pixels went to the worker and came back: the frame is whole again for its owner.
    const frame = { ...job.frame, data: reply.data };
    const latencyMs = performance.now() - job.startedMs;
    if (reply.type === 'result') {
      this.completed += 1;
      this.serviceMs += latencyMs;
      job.resolve({ frame, detections: reply.detections, timings: reply.timings, latencyMs });
    } else {
      job.reject(new Error(reply.error));
    }
    this.dispatch();
  }

  /** Rejects the job a worker holds, if any; each job settles once. */
  private failJob(slot: Slot, message: string): void {
    const job = slot.job;
    slot.job = undefined;
    job?.reject(new Error(message));
  }

  private onWorkerDeath(slot: Slot, reason: string): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) {
      // A worker of a closing pool (its slot already removed) that exited or was terminated.
      this.failJob(slot, `the detector pool closed before the detector worker answered this frame (${reason})`);
      return;
    }
    this.slots.splice(index, 1);
    this.failJob(slot, `detector worker failed: ${reason}`);
    if (this.closed) return;
    this.options.onWorkerError?.(reason);
    const respawn = (): void => {
      if (this.closed) return;
      this.addWorker().catch((err: Error) => {
        this.options.onWorkerError?.(`cannot restart a detector worker: ${err.message}`);
        setTimeout(respawn, RESPAWN_DELAY_MS * 5).unref();
      });
    };
    setTimeout(respawn, RESPAWN_DELAY_MS).unref();
  }
}
