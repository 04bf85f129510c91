/**
 * Worker-thread side of the detector pool: one single-threaded onnxruntime session per worker.
 * Pixels arrive as a transferred buffer and go back the same way, so a frame is never copied
 * between threads.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DetectorOptions } from './personDetector.js';
import { PersonDetector } from './personDetector.js';
import type { WorkerReply, WorkerRequest } from './detectorPool.js';

const port = parentPort;
if (!port) throw new Error('detectorWorker must run in a worker thread');

try {
  const detector = await PersonDetector.create(workerData as DetectorOptions);
  let busy: Promise<unknown> = Promise.resolve();
  port.on('message', (request: WorkerRequest | { type: 'close' }) => {
    if ('type' in request) {
      // Terminating a thread inside onnxruntime aborts the whole process: finish, release, then leave.
      void busy.then(() => detector.close()).finally(() => port.close());
      return;
    }
    const frame = { index: 0, timestampMs: 0, width: request.width, height: request.height, data: request.data };
    busy = detector.detectTimed(frame).then(
      ({ detections, timings }) => {
        const reply: WorkerReply = { type: 'result', id: request.id, detections, timings, data: request.data };
        port.postMessage(reply, [request.data.buffer as ArrayBuffer]);
      },
      (err: Error) => {
        const reply: WorkerReply = { type: 'failed', id: request.id, error: err.message, data: request.data };
        port.postMessage(reply, [request.data.buffer as ArrayBuffer]);
      },
    );
  });
  port.postMessage({ type: 'ready', manifestName: detector.manifest.name, input: detector.manifest.input } satisfies WorkerReply);
} catch (err) {
  port.postMessage({ type: 'load_failed', error: (err as Error).message } satisfies WorkerReply);
}
