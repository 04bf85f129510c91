/**
 * Keeps one camera delivering frames for months: (re)connects with exponential backoff and jitter,
 * restarts a source that goes silent (stall detection), and exposes a status an installer can read
 * (connecting, live, stalled, error with the last error, ended, stopped). How frames are actually
 * obtained (an ffmpeg child, HTTP snapshots) is a `connect` function, so this logic is shared and
 * tested without a camera.
 */
import type { RgbFrame } from '../detection.js';
import { backoffDelayMs, type BackoffOptions } from '../../common/backoff.js';

export type SourceState = 'connecting' | 'live' | 'stalled' | 'error' | 'ended' | 'stopped';

export interface SourceStatus {
  state: SourceState;
  /** When the current state began (ms, injected clock). */
  sinceMs: number;
  lastError: string | undefined;
  lastFrameMs: number | undefined;
  framesReceived: number;
  /** Connections started after the first one. */
  restarts: number;
}

export type SessionEnd = { kind: 'ended' } | { kind: 'failed'; error: string };

/** One connection attempt: frames arrive through `emit` until `finished` settles. */
export interface SourceSession {
  close(): void;
  finished: Promise<SessionEnd>;
}

export type PixelFrame = Pick<RgbFrame, 'width' | 'height' | 'data'>;
export type Connect = (emit: (frame: PixelFrame) => void) => SourceSession;

export interface SupervisorOptions {
  stallTimeoutMs: number;
  /**
   * How long a new session may take to deliver its first frame (default 3 × stallTimeoutMs). Longer
   * than the stall timeout on purpose: starting ffmpeg, probing the stream and decoding up to the
   * first key frame take seconds, and on a box over capacity (many cameras starting at once) a
   * first-frame deadline equal to the stall timeout killed sessions just before their first frame,
   * again and again — a restart storm that used the CPU for process starts instead of frames.
   */
  firstFrameTimeoutMs?: number;
  backoff: BackoffOptions;
  /** A file that ends is finished; a camera that ends is reconnected. */
  endIsFinal: boolean;
  now?: () => number;
  random?: () => number;
  /** How often the stall check runs. */
  watchdogIntervalMs?: number;
}

export interface SourceHandlers {
  onFrame(frame: RgbFrame): void;
  onStatus?(status: SourceStatus, previous: SourceState): void;
}

export class SupervisedSource {
  private session: SourceSession | undefined;
  private sessionStartMs = 0;
  private attempt = 0;
  private frameIndex = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private current: SourceStatus;

  constructor(
    private readonly connect: Connect,
    private readonly options: SupervisorOptions,
    private readonly handlers: SourceHandlers,
  ) {
    this.now = options.now ?? Date.now;
    this.current = { state: 'stopped', sinceMs: this.now(), lastError: undefined, lastFrameMs: undefined, framesReceived: 0, restarts: 0 };
  }

  get status(): SourceStatus {
    return { ...this.current };
  }

  start(): void {
    if (this.current.state !== 'stopped') return;
    this.watchdog = setInterval(() => this.checkStall(), this.options.watchdogIntervalMs ?? 500);
    this.open();
  }

  async stop(): Promise<void> {
    clearInterval(this.watchdog);
    clearTimeout(this.retryTimer);
    const session = this.session;
    this.session = undefined;
    this.setState('stopped');
    if (session) {
      session.close();
      await session.finished;
    }
  }

  private open(): void {
    if (this.session) return;
    this.setState('connecting');
    this.sessionStartMs = this.now();
    const session = this.connect((frame) => this.receive(session, frame));
    this.session = session;
    void session.finished.then((end) => this.onSessionEnd(session, end));
  }

  private receive(session: SourceSession, frame: PixelFrame): void {
    if (session !== this.session) return; // a late frame from a session already replaced
    const t = this.now();
    this.attempt = 0;
    this.current.framesReceived += 1;
    this.current.lastFrameMs = t;
    if (this.current.state !== 'live') this.setState('live');
    this.handlers.onFrame({ ...frame, index: this.frameIndex++, timestampMs: t });
  }

  private onSessionEnd(session: SourceSession, end: SessionEnd): void {
    if (session !== this.session) return;
    this.session = undefined;
    if (end.kind === 'ended' && this.options.endIsFinal) {
      this.setState('ended');
      clearInterval(this.watchdog);
      return;
    }
    // A stalled session was closed on purpose: keep 'stalled' (and its error) visible until the retry.
    if (this.current.state !== 'stalled') {
      this.setState('error', end.kind === 'failed' ? end.error : 'the stream ended');
    }
    const delay = backoffDelayMs(this.attempt++, this.options.backoff, this.options.random);
    this.current.restarts += 1;
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private checkStall(): void {
    const session = this.session;
    if (!session || (this.current.state !== 'live' && this.current.state !== 'connecting')) return;
    if (this.current.state === 'connecting') {
      const timeoutMs = this.options.firstFrameTimeoutMs ?? 3 * this.options.stallTimeoutMs;
      if (this.now() - this.sessionStartMs <= timeoutMs) return;
      this.setState('stalled', `no first frame ${(timeoutMs / 1000).toFixed(1)} s after connecting`);
    } else {
      const lastActivity = Math.max(this.current.lastFrameMs ?? 0, this.sessionStartMs);
      if (this.now() - lastActivity <= this.options.stallTimeoutMs) return;
      this.setState('stalled', `no frame for ${(this.options.stallTimeoutMs / 1000).toFixed(1)} s`);
    }
    session.close();
  }

  private setState(state: SourceState, error?: string): void {
    const previous = this.current.state;
    if (error !== undefined) this.current.lastError = error;
    if (state === previous && error === undefined) return;
    this.current.state = state;
    this.current.sinceMs = this.now();
    this.handlers.onStatus?.(this.status, previous);
  }
}
