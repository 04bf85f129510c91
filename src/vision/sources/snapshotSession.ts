/**
 * HTTP snapshot polling, for cameras (and cheap IP cams) that only serve a JPEG per request.
 * Each image is decoded and scaled in memory by sharp; a failed or slow request ends the session,
 * and the supervisor reconnects with backoff.
 */
import sharp from 'sharp';
import { redactUrl } from './ffmpegArgs.js';
import type { PixelFrame, SessionEnd, SourceSession } from './supervisedSource.js';

export interface SnapshotOptions {
  url: string;
  intervalMs: number;
  timeoutMs: number;
  width: number;
  height: number | undefined;
}

async function fetchFrame(options: SnapshotOptions, signal: AbortSignal): Promise<PixelFrame> {
  const response = await fetch(options.url, { signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]) });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  const body = Buffer.from(await response.arrayBuffer());
  const { data, info } = await sharp(body).resize({ width: options.width, height: options.height, fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`snapshot decoded to ${info.channels} channels`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

export function snapshotSession(options: SnapshotOptions, emit: (frame: PixelFrame) => void): SourceSession {
  const abort = new AbortController();
  const finished = (async (): Promise<SessionEnd> => {
    while (!abort.signal.aborted) {
      const started = Date.now();
      try {
        emit(await fetchFrame(options, abort.signal));
      } catch (err) {
        if (abort.signal.aborted) break;
        const e = err as Error;
        const reason = e.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : (e.cause as Error | undefined)?.message ?? e.message;
        return { kind: 'failed', error: redactUrl(`snapshot ${options.url}: ${reason}`) };
      }
      const wait = options.intervalMs - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
    return { kind: 'ended' };
  })();
  return { finished, close: () => abort.abort() };
}
