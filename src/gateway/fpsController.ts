/**
 * Fair frame rates when the box is over capacity. The detector pool has a measured capacity (frames
 * per second it can finish); the cameras together ask for more. Instead of letting each camera drop
 * whichever frames happen to arrive while the pool is busy (uneven: a camera whose frames land just
 * after a worker frees up wins), every camera is given the same frame rate — max-min fair: a camera
 * configured below the fair level keeps its own rate, the others share the rest equally. While the
 * minimums fit, no camera goes below its configured minimum (one whose equal share would be lower is
 * held at its minimum and the others share what is left). When the minimums alone exceed the
 * capacity, holding them would only bring back the uneven drops: every camera is then lowered evenly
 * below its minimum and `belowMin` says so (the alert metric upstream) — never silently.
 *
 * Pure: no clock, no timers, no I/O. The gateway calls `update` every few seconds with what it
 * measured over that interval and applies the targets.
 *
 * Hysteresis, so the rates do not oscillate: the level goes down at once (an overload makes frames
 * drop and latency grow), but goes up only after the room to do so has lasted `raiseHoldMs`, only
 * when the room is worth it (`raiseMargin`), and by at most `raiseStep` at a time; targets are
 * quantised. Headroom below the measured capacity absorbs the extra contention a raise itself causes
 * (more ffmpeg and main-thread work competing with the detector workers on the same cores).
 */

export interface FpsControllerOptions {
  /** Share of the measured capacity the cameras are planned to use (the rest absorbs jitter). */
  headroom: number;
  /** Room to raise the rates must have lasted this long before they go up. */
  raiseHoldMs: number;
  /** Targets are multiples of this (fps), so tiny capacity wobbles change nothing. */
  quantumFps: number;
  /** A raise must be at least this fraction of the current level (and at least one quantum). */
  raiseMargin: number;
  /**
   * One raise goes at most this fraction above the current level (then the hold starts again): the
   * capacity measured while the pool is not full overstates what a full one sustains, so the rates
   * climb in steps and a wrong estimate costs one small overshoot, not a jump back to full rate.
   */
  raiseStep: number;
  /** A dropped-frame ratio above this over an interval means the pool was saturated: its completed rate is then the capacity. */
  dropTolerance: number;
}

export const DEFAULT_FPS_CONTROLLER_OPTIONS: FpsControllerOptions = {
  headroom: 0.85,
  raiseHoldMs: 10_000,
  quantumFps: 0.25,
  raiseMargin: 0.1,
  raiseStep: 0.25,
  dropTolerance: 0.03,
};

export interface CameraDemand {
  id: string;
  /** The camera's configured fps (the most it is ever given). */
  configuredFps: number;
  /** The lowest fps it may be given (config `min_fps`). */
  minFps: number;
  /**
   * Share of its admitted frames that go to the detector (the rest are skipped by the motion gate
   * and cost almost nothing). 1 when unknown; kept ≥ a floor so a still scene that starts moving
   * cannot overcommit the pool for long.
   */
  detectFraction: number;
}

export interface CapacitySample {
  /** Worker threads in the pool. */
  workers: number;
  /** Mean time a worker spent per frame over the interval (ms, wall clock: includes CPU contention). */
  meanServiceMs: number | undefined;
  /** Frames the pool finished per second over the interval. */
  completedFps: number;
  /** Frames dropped / frames offered to the detector over the interval (0–1). */
  droppedRatio: number;
}

export interface CameraTarget {
  targetFps: number;
  /** Below the configured fps because of load. */
  limited: boolean;
  /** Lowered below its minimum because the minimums do not fit the capacity (the alert). */
  belowMin: boolean;
}

export interface FpsPlan {
  /** Detector frames per second the pool is estimated to sustain (undefined until measured). */
  capacityFps: number | undefined;
  /** The fair level (fps) every limited camera gets; Infinity when nothing is limited. */
  levelFps: number;
  targets: Map<string, CameraTarget>;
}

const MIN_DETECT_FRACTION = 0.25;
/** Weight of the newest interval in the capacity estimate (exponential average). */
const CAPACITY_SMOOTHING = 0.5;

/**
 * Capacity of the pool in detector frames per second from one interval's measurements: workers /
 * service time, but never above what it actually finished when it was saturated (frames dropped),
 * since the service time measured on a quiet interval overstates what a full one sustains.
 */
export function estimateCapacity(sample: CapacitySample, dropTolerance: number): number | undefined {
  if (!sample.meanServiceMs || !Number.isFinite(sample.meanServiceMs) || sample.meanServiceMs <= 0 || sample.workers <= 0) return undefined;
  const fromService = (sample.workers * 1000) / sample.meanServiceMs;
  if (sample.droppedRatio > dropTolerance && sample.completedFps > 0) return Math.min(fromService, sample.completedFps);
  return fromService;
}

const costOf = (c: CameraDemand): number => Math.max(MIN_DETECT_FRACTION, Math.min(1, c.detectFraction));

/** Water-filling: the level L at which Σ min(configured_i, L) × cost_i = budget (Infinity: all fit). */
function waterLevel(cameras: readonly CameraDemand[], budget: number): number {
  const full = cameras.reduce((s, c) => s + c.configuredFps * costOf(c), 0);
  if (full <= budget) return Infinity;
  // Walk the cameras by configured fps; those configured below the level keep their own rate.
  const sorted = [...cameras].sort((a, b) => a.configuredFps - b.configuredFps);
  let remaining = Math.max(0, budget);
  let weight = sorted.reduce((s, c) => s + costOf(c), 0);
  for (const c of sorted) {
    const level = remaining / weight;
    if (level <= c.configuredFps) return level;
    remaining -= c.configuredFps * costOf(c);
    weight -= costOf(c);
  }
  return Infinity;
}

/** Whether every camera can run at least at its minimum within `budget`. */
export function minimumsFit(cameras: readonly CameraDemand[], budget: number): boolean {
  return cameras.reduce((s, c) => s + Math.min(c.minFps, c.configuredFps) * costOf(c), 0) <= budget;
}

/**
 * The max-min fair level L. While the minimums fit the budget, camera i gets
 * min(configured_i, max(L, min_i)) fps: a camera whose minimum is above the level is pinned at its
 * minimum first and the others share what is left. When they do not fit, minimums are ignored and
 * every camera gets min(configured_i, L) (the caller raises the alert). Costs are fps × detector
 * share and add up to `budget`. Infinity: all fit as configured.
 */
export function fairLevel(cameras: readonly CameraDemand[], budget: number): number {
  if (!minimumsFit(cameras, budget)) return waterLevel(cameras, budget);
  const pinned = new Set<CameraDemand>();
  for (;;) {
    const free = cameras.filter((c) => !pinned.has(c));
    const reserved = [...pinned].reduce((s, c) => s + Math.min(c.minFps, c.configuredFps) * costOf(c), 0);
    if (free.length === 0) return reserved <= budget ? Infinity : 0;
    const left = budget - reserved;
    if (left <= 0) return 0;
    const level = waterLevel(free, left);
    const newlyPinned = free.filter((c) => Math.min(c.minFps, c.configuredFps) > level);
    if (newlyPinned.length === 0) return level;
    for (const c of newlyPinned) pinned.add(c);
  }
}

export class FpsController {
  private readonly options: FpsControllerOptions;
  /** The level currently applied (Infinity: unlimited). */
  private level = Infinity;
  private capacity: number | undefined;
  /** Since when the computed level has stayed high enough to raise the applied one. */
  private raiseSinceMs: number | undefined;
  /** Whether the minimums fitted when the level was last set (false: cameras run below them, alerting). */
  private keepMinimums = true;

  constructor(options: Partial<FpsControllerOptions> = {}) {
    this.options = { ...DEFAULT_FPS_CONTROLLER_OPTIONS, ...options };
    for (const [key, value] of Object.entries(this.options)) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`FpsController option ${key} must be a finite number ≥ 0, got ${value}`);
    }
    if (this.options.headroom <= 0 || this.options.headroom > 1) throw new RangeError(`FpsController headroom must be in (0, 1], got ${this.options.headroom}`);
    if (this.options.quantumFps <= 0) throw new RangeError('FpsController quantumFps must be > 0');
  }

  get currentLevel(): number {
    return this.level;
  }

  /**
   * One control step. `sample` is what the pool did since the last call; cameras are the ones
   * running now (a camera added later starts at the current level).
   */
  update(nowMs: number, cameras: readonly CameraDemand[], sample: CapacitySample): FpsPlan {
    const measured = estimateCapacity(sample, this.options.dropTolerance);
    // A quiet interval (no frames at all) says nothing about capacity: keep the last estimate. Each
    // interval's measure is averaged with the previous estimate (half each), so one interval in which
    // another process took the cores does not halve every camera's rate on its own.
    if (measured !== undefined) this.capacity = this.capacity === undefined ? measured : this.capacity + CAPACITY_SMOOTHING * (measured - this.capacity);
    if (this.capacity !== undefined) {
      const budget = this.capacity * this.options.headroom;
      const fit = minimumsFit(cameras, budget);
      const wanted = this.quantise(fairLevel(cameras, budget));
      if (wanted < this.level) {
        this.level = wanted;
        this.keepMinimums = fit;
        this.raiseSinceMs = undefined;
      } else if ((wanted > this.level && this.worthRaising(wanted)) || (fit && !this.keepMinimums)) {
        this.raiseSinceMs ??= nowMs;
        if (nowMs - this.raiseSinceMs >= this.options.raiseHoldMs) {
          // Step from the lowest rate a camera really runs at: a level below every minimum (all cameras
          // held at their minimums) would otherwise creep up by quanta that change nothing.
          const floor = this.keepMinimums && cameras.length ? Math.min(...cameras.map((c) => Math.min(c.minFps, c.configuredFps))) : 0;
          const base = Math.max(this.level, floor);
          this.level = Math.min(wanted, Math.max(this.quantise(base * (1 + this.options.raiseStep)), base + this.options.quantumFps));
          // Every camera back at its configured rate: unlimited again (not a finite level that keeps climbing).
          if (cameras.every((c) => this.level >= c.configuredFps)) this.level = wanted;
          this.keepMinimums = fit;
          this.raiseSinceMs = undefined;
        }
      } else {
        this.raiseSinceMs = undefined;
      }
    }
    return { capacityFps: this.capacity, levelFps: this.level, targets: this.targets(cameras) };
  }

  /** The targets at the current level (also for a camera that has just started). */
  targets(cameras: readonly CameraDemand[]): Map<string, CameraTarget> {
    const out = new Map<string, CameraTarget>();
    for (const c of cameras) {
      const fair = Math.min(c.configuredFps, this.level);
      const minFps = Math.min(c.minFps, c.configuredFps);
      const targetFps = this.keepMinimums ? Math.max(fair, minFps) : fair;
      out.set(c.id, { targetFps, limited: targetFps < c.configuredFps, belowMin: targetFps < minFps });
    }
    return out;
  }

  private worthRaising(wanted: number): boolean {
    if (!Number.isFinite(this.level)) return false;
    if (!Number.isFinite(wanted)) return true;
    return wanted - this.level >= Math.max(this.options.quantumFps, this.options.raiseMargin * this.level);
  }

  /** Rounds down to the quantum (never up: that would plan beyond the capacity). */
  private quantise(level: number): number {
    if (!Number.isFinite(level)) return level;
    const q = this.options.quantumFps;
    return Math.max(0, Math.floor(level / q + 1e-9) * q);
  }
}

/**
 * Keeps `target / configured` of a camera's frames, spread evenly (a 5 fps camera at 2.5 keeps every
 * other frame, at 4 keeps four in five). By frame count rather than timestamps: the source already
 * paces frames at the configured rate, and a count cannot be fooled by bursty pipe delivery.
 */
export class FrameThinner {
  private credit = 0;

  /** Whether to keep this frame. */
  keep(targetFps: number, configuredFps: number): boolean {
    if (!(targetFps < configuredFps) || configuredFps <= 0) {
      this.credit = 0;
      return true;
    }
    this.credit += Math.max(0, targetFps) / configuredFps;
    if (this.credit >= 1 - 1e-9) {
      this.credit -= 1;
      return true;
    }
    return false;
  }
}
