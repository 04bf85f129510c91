/**
 * The live gateway's side of multi-camera fusion: maps each calibrated camera's tracks to the plan,
 * feeds the store fuser, and on a steady timer releases fused ticks to the plan counters, whose
 * events are recorded (store, KPIs, upstream) and whose samples can feed journeys. The pure parts
 * (planMapping, storeFuser, planCounting) do the work; this file owns the timer, the logs and the
 * metrics. Off unless the config has a `plan` section with lines or zones and a calibrated camera.
 */
import type { GatewayConfig } from '../gateway/config/configSchema.js';
import type { GatewayContext } from '../gateway/context.js';
import { RateLimitedLog } from '../common/rateLimitedLog.js';
import { CalibrationError } from '../vision/homography.js';
import type { TrackedBox } from '../vision/tracking/frameTracker.js';
import { PlanCounter, type PlanEvent, type PlanSummary } from './planCounting.js';
import type { PlanConfig } from './planConfigSchema.js';
import { CameraPlanMapper } from './planMapping.js';
import { fusionOptions, StoreFuser, toPlanTrackSamples, type FusionStats, type PlanTrackSample } from './storeFuser.js';

/** Fused positions are sampled this often: 5 per second, as fast as the default camera rate. */
const DEFAULT_TICK_MS = 200;

export interface LiveFusionDeps {
  ctx: GatewayContext;
  /** Store-level events, ready for the event store (no track id, no camera). */
  record: (event: PlanEvent) => void;
  /** Fused samples as they become final (for journeys); their ids never leave the gateway. */
  onSamples?: (samples: PlanTrackSample[], tMs: number) => void;
  tickMs?: number;
}

export interface LiveFusionStatus {
  enabled: boolean;
  cameras: string[];
  people: number;
  fusion: FusionStats | null;
  counts: PlanSummary | null;
  /** People in each plan zone at the last tick (the decision delay behind the cameras). */
  occupancy: Record<string, number>;
}

export class LiveFusion {
  private mappers = new Map<string, CameraPlanMapper>();
  private fuser: StoreFuser | undefined;
  private counter: PlanCounter | undefined;
  private planKey: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Newest frame time ingested: ticks follow the cameras' own clock, so detector latency never empties them. */
  private latestFrameMs = -Infinity;
  private lastTickMs = -Infinity;
  private readonly warn: RateLimitedLog;

  constructor(private readonly deps: LiveFusionDeps) {
    this.warn = new RateLimitedLog(deps.ctx.log, deps.ctx.now, 60_000);
  }

  get enabled(): boolean {
    return this.fuser !== undefined;
  }

  /** (Re)reads the config: calibrations any time; a changed plan restarts fusion (open visits are closed first). */
  apply(config: GatewayConfig): void {
    this.mappers = new Map();
    for (const camera of config.cameras) {
      if (!camera.enabled || !camera.calibration) continue;
      try {
        this.mappers.set(camera.id, new CameraPlanMapper(camera.id, camera.calibration));
      } catch (err) {
        if (!(err instanceof CalibrationError)) throw err;
        this.deps.ctx.metrics.planInputRejected.inc({ camera: camera.id, reason: 'bad_calibration' });
        this.deps.ctx.log.error({ camera: camera.id, err: err.message }, 'plan fusion: calibration unusable, camera left out (recalibrate it in the web UI)');
      }
    }
    const plan = config.plan;
    const wanted = plan !== undefined && plan.lines.length + plan.zones.length > 0 && this.mappers.size > 0;
    const key = wanted ? JSON.stringify(plan) : undefined;
    if (key === this.planKey) return;
    this.finish();
    this.planKey = key;
    if (!wanted) return;
    this.start(plan);
  }

  onTracks(cameraId: string, frame: { timestampMs: number; width: number; height: number }, tracks: readonly TrackedBox[]): void {
    const fuser = this.fuser;
    const mapper = this.mappers.get(cameraId);
    if (!fuser || !mapper) return;
    const { observations, rejected } = mapper.mapTracks(tracks, frame.width, frame.height);
    for (const r of rejected) {
      this.deps.ctx.metrics.planInputRejected.inc({ camera: cameraId, reason: r.reason });
      this.warn.warn(`${cameraId}:${r.reason}`, { camera: cameraId, reason: r.reason }, 'plan fusion: a foot point does not map onto the floor (check the camera calibration)');
    }
    const before = { ...fuser.stats.refused };
    fuser.ingest({ cameraId, tMs: frame.timestampMs, observations });
    this.latestFrameMs = Math.max(this.latestFrameMs, frame.timestampMs);
    const refused = { out_of_order: fuser.stats.refused.outOfOrder - before.outOfOrder, not_finite: fuser.stats.refused.notFinite - before.notFinite };
    for (const [reason, n] of Object.entries(refused)) {
      if (n === 0) continue;
      this.deps.ctx.metrics.planInputRejected.inc({ camera: cameraId, reason }, n);
      this.warn.warn(`${cameraId}:${reason}`, { camera: cameraId, reason }, 'plan fusion: camera input refused');
    }
  }

  /** Samples the fused tracks at the newest frame time and counts what became final. Called by the timer. */
  tick(): void {
    if (!this.fuser || !(this.latestFrameMs > this.lastTickMs)) return;
    this.lastTickMs = this.latestFrameMs;
    this.release(this.fuser.tick(this.latestFrameMs), this.latestFrameMs);
  }

  status(): LiveFusionStatus {
    return {
      enabled: this.enabled,
      cameras: [...this.mappers.keys()],
      people: this.counter?.currentPeople ?? 0,
      fusion: this.fuser ? { ...this.fuser.stats } : null,
      counts: this.counter?.summary() ?? null,
      occupancy: Object.fromEntries((this.counter?.zones ?? []).map((z) => [z.name, z.occupancy])),
    };
  }

  /** Releases everything held back and closes open visits (shutdown, plan change). */
  stop(): void {
    this.finish();
    this.planKey = undefined;
  }

  private start(plan: PlanConfig): void {
    this.fuser = new StoreFuser(fusionOptions(plan.fusion));
    this.counter = new PlanCounter(plan);
    this.latestFrameMs = -Infinity;
    this.lastTickMs = -Infinity;
    this.timer = setInterval(() => this.tick(), this.deps.tickMs ?? DEFAULT_TICK_MS);
    this.timer.unref();
    this.deps.ctx.log.info({ cameras: [...this.mappers.keys()], lines: plan.lines.length, zones: plan.zones.length }, 'plan fusion on');
  }

  private finish(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.fuser && this.counter) {
      this.release(this.fuser.flush(), this.lastTickMs);
      for (const e of this.counter.finish()) this.emit(e);
    }
    this.fuser = undefined;
    this.counter = undefined;
  }

  private release(ticks: ReturnType<StoreFuser['tick']>, tMs: number): void {
    const counter = this.counter;
    if (!counter || ticks.length === 0) return;
    for (const e of counter.update(ticks)) this.emit(e);
    const m = this.deps.ctx.metrics;
    m.planPeople.set(counter.currentPeople);
    for (const zone of counter.zones) m.planZoneOccupancy.set({ zone: zone.name }, zone.occupancy);
    this.deps.onSamples?.(toPlanTrackSamples(ticks), tMs);
  }

  private emit(event: PlanEvent): void {
    try {
      this.deps.record(event);
    } catch (err) {
      this.deps.ctx.log.error({ err: (err as Error).message, type: event.type }, 'plan fusion: event not recorded');
    }
  }
}
