import { afterEach, describe, expect, it } from 'vitest';
import type { RgbFrame } from '../../src/vision/detection.js';
import { SupervisedSource, type Connect, type PixelFrame, type SessionEnd, type SourceState } from '../../src/vision/sources/supervisedSource.js';

/** A scripted source: each connection runs the next script step. */
type Step = (emit: (f: PixelFrame) => void, end: (e: SessionEnd) => void) => void;
const pixel: PixelFrame = { width: 2, height: 1, data: new Uint8Array(6) };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function scripted(steps: Step[]): { connect: Connect; connections: () => number; closed: () => number } {
  let connections = 0;
  let closed = 0;
  const connect: Connect = (emit) => {
    const step = steps[Math.min(connections, steps.length - 1)] as Step;
    connections += 1;
    let finish!: (e: SessionEnd) => void;
    const finished = new Promise<SessionEnd>((resolve) => (finish = resolve));
    setTimeout(() => step(emit, finish), 5);
    return { finished, close: () => (closed++, finish({ kind: 'failed', error: 'closed' })) };
  };
  return { connect, connections: () => connections, closed: () => closed };
}

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached');
    await sleep(5);
  }
}

const sources: SupervisedSource[] = [];
afterEach(async () => Promise.all(sources.splice(0).map((s) => s.stop())));

// The stall timeout is well above any pause a loaded machine gives this process, so a session that
// does send frames is never taken for a stalled one between two polls of `until`.
const STALL_TIMEOUT_MS = 1000;

function start(connect: Connect, options: Partial<ConstructorParameters<typeof SupervisedSource>[1]> = {}) {
  const frames: RgbFrame[] = [];
  const states: SourceState[] = [];
  const source = new SupervisedSource(
    connect,
    { stallTimeoutMs: STALL_TIMEOUT_MS, backoff: { initialMs: 20, maxMs: 40 }, endIsFinal: false, watchdogIntervalMs: 20, ...options },
    { onFrame: (f) => frames.push(f), onStatus: (s) => states.push(s.state) },
  );
  sources.push(source);
  source.start();
  return { source, frames, states };
}

describe('SupervisedSource', () => {
  it('goes live on the first frame and numbers frames with capture timestamps', async () => {
    const { connect } = scripted([(emit) => [1, 2, 3].forEach(() => emit(pixel))]);
    const { source, frames, states } = start(connect);
    await until(() => frames.length === 3);
    expect(states).toEqual(['connecting', 'live']);
    expect(frames.map((f) => f.index)).toEqual([0, 1, 2]);
    expect(frames[0]?.timestampMs).toBeGreaterThan(0);
    expect(source.status).toMatchObject({ state: 'live', framesReceived: 3, restarts: 0 });
  });

  it('reports a failure with its message, then reconnects by itself', async () => {
    const { connect, connections } = scripted([(_, end) => end({ kind: 'failed', error: 'Connection refused' }), (emit) => emit(pixel)]);
    const { source, frames, states } = start(connect);
    await until(() => frames.length === 1);
    expect(states).toEqual(['connecting', 'error', 'connecting', 'live']);
    expect(connections()).toBe(2);
    expect(source.status).toMatchObject({ state: 'live', lastError: 'Connection refused', restarts: 1 });
  });

  it('restarts a source that stops sending frames (stall) and says why', async () => {
    const { connect, connections, closed } = scripted([(emit) => emit(pixel), (emit) => setInterval(() => emit(pixel), 20).unref()]);
    const { source, states } = start(connect);
    await until(() => connections() === 2 && source.status.state === 'live');
    expect(closed()).toBe(1);
    expect(states).toEqual(['connecting', 'live', 'stalled', 'connecting', 'live']);
    expect(source.status.lastError).toMatch(/no frame for 1\.0 s/);
  });

  it('treats a silent connection attempt as a stall too, after a longer first-frame deadline', async () => {
    const { connect, connections } = scripted([() => undefined, (emit) => emit(pixel)]);
    const states: { state: SourceState; error: string | undefined; atMs: number }[] = [];
    const t0 = performance.now();
    const source = new SupervisedSource(
      connect,
      { stallTimeoutMs: 200, firstFrameTimeoutMs: 600, backoff: { initialMs: 20, maxMs: 40 }, endIsFinal: false, watchdogIntervalMs: 20 },
      { onFrame: () => undefined, onStatus: (s) => states.push({ state: s.state, error: s.lastError, atMs: performance.now() - t0 }) },
    );
    sources.push(source);
    source.start();
    await until(() => source.status.state === 'live');
    expect(connections()).toBe(2);
    const stalled = states.find((s) => s.state === 'stalled');
    expect(stalled?.error).toBe('no first frame 0.6 s after connecting');
    // Not at the 0.2 s stall timeout: a session gets the first-frame deadline to start.
    expect(stalled!.atMs).toBeGreaterThanOrEqual(600);
  });

  it('keeps retrying with backoff while the camera is down', async () => {
    const { connect, connections } = scripted([(_, end) => end({ kind: 'failed', error: 'No route to host' })]);
    const connectedAt: number[] = [];
    const backoff = { initialMs: 20, maxMs: 40 };
    const { source } = start((emit) => (connectedAt.push(performance.now()), connect(emit)), { backoff });
    await until(() => connections() >= 4);
    // Not a busy loop: attempt k waits min(40, 20·2^k) ms with jitter, so at least half of that.
    // Only a lower bound: a loaded machine makes the gaps longer, never shorter.
    const gaps = connectedAt.slice(1).map((t, k) => t - (connectedAt[k] as number));
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    gaps.forEach((gap, k) => expect(gap, `gap after attempt ${k}`).toBeGreaterThanOrEqual(Math.min(backoff.maxMs, backoff.initialMs * 2 ** k) / 2));
    expect(source.status.state).toMatch(/^(error|connecting)$/); // between attempts, or in one
    expect(source.status.lastError).toBe('No route to host');
  });

  it('ends a file that is not looping instead of replaying it', async () => {
    const { connect, connections } = scripted([(emit, end) => (emit(pixel), end({ kind: 'ended' }))]);
    const { source } = start(connect, { endIsFinal: true });
    await until(() => source.status.state === 'ended');
    await sleep(100);
    expect(connections()).toBe(1);
  });

  it('stops: closes the session and ignores its late frames', async () => {
    let late: ((f: PixelFrame) => void) | undefined;
    const { connect } = scripted([(emit) => ((late = emit), emit(pixel))]);
    const { source, frames } = start(connect);
    await until(() => frames.length === 1);
    await source.stop();
    late?.(pixel);
    expect(frames).toHaveLength(1);
    expect(source.status.state).toBe('stopped');
  });
});
