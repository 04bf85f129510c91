/**
 * One camera, live: source → motion gate → shared detector pool → tracker → lines, zones, heatmap.
 * At most one of its frames is with the detector at a time and at most one waits (the newest), so
 * a slow pool makes this camera drop stale frames, and a dead camera holds nothing up. Lines and
 * zones can be replaced while running (config reload) without losing the tracker or the totals.
 */
import type { HeatmapGrid } from '../vision/analytics/heatmap.js';
import type { Logger } from 'pino';
import { FootPointEstimator } from '../vision/analytics/footPoints.js';
import { SceneAnalytics } from '../vision/analytics/sceneAnalytics.js';
import type { AnalyticsEvent } from '../vision/analytics/trackPoint.js';
import type { Detection, RgbFrame } from '../vision/detection.js';
import type { DetectorPool } from '../vision/detector/detectorPool.js';
import { withAppearance } from '../vision/tracking/appearance.js';
import { MotionGate } from '../vision/motion/motionGate.js';
import type { Scene } from '../vision/scene.js';
import { createCameraSource, decodeSize } from '../vision/sources/cameraSource.js';
import type { SourceStatus, SupervisedSource } from '../vision/sources/supervisedSource.js';
import { ByteTracker, type Track } from '../vision/tracking/byteTracker.js';
import { minFpsOf, type CameraConfig } from './config/configSchema.js';
import type { GatewayContext } from './context.js';
import { FrameThinner, type CameraDemand, type CameraTarget } from './fpsController.js';
import { RateMeter } from './rateMeter.js';

export type CameraEvent = AnalyticsEvent & { camera: string };

export interface CameraSnapshot {
  id: string;
  name: string | undefined;
  source: SourceStatus & { kind: string };
  frame: { width: number; height: number } | undefined;
  /** target: the rate it is held at now (configured, or lower while the box is over capacity). */
  fps: { input: number; processed: number; target: number; configured: number; min: number };
  /** throttled: left out on purpose to hold the target fps; dropped: replaced while the detector was busy. */
  frames: { input: number; processed: number; dropped: number; motionSkipped: number; throttled: number };
  /** limited: below its configured fps because of load; below_min: its fair share is under min_fps (alert). */
  load: { limited: boolean; below_min: boolean };
  activeTracks: number;
  lines: Record<string, { in: number; out: number }>;
  zones: Record<string, { occupancy: number; visits: number; passThroughs: number }>;
}

export interface CameraPipelineDeps {
  ctx: GatewayContext;
  pool: DetectorPool;
  onEvent: (event: CameraEvent) => void;
  /** Latest frame and its tracks, for the live view; the frame must not be kept beyond the call. */
  onTracks?: (camera: string, frame: RgbFrame, tracks: Track[]) => void;
}

export class CameraPipeline {
  private readonly source: SupervisedSource;
  private readonly gate: MotionGate;
  private readonly tracker: ByteTracker;
  /** The tracker's foot points, steadied before lines and zones see them (footSmoother.ts). */
  private readonly feet = new FootPointEstimator();
  private readonly log: Logger;
  private scene: Scene;
  private analytics: SceneAnalytics | undefined;
  private frameSize: { width: number; height: number } | undefined;
  private waiting: RgbFrame | undefined;
  private inFlight = false;
  private stopped = false;
  private activeTracks = 0;
  private readonly inputRate = new RateMeter();
  private readonly processedRate = new RateMeter();
  private readonly frames = { input: 0, processed: 0, dropped: 0, motionSkipped: 0, throttled: 0 };
  /** Frames handed to the detector (for the share the motion gate leaves to it). */
  private detected = 0;
  private readonly thinner = new FrameThinner();
  private target: CameraTarget;
  /** Counters at the last demand() call. */
  private lastDemand = { skipped: 0, detected: 0 };
  /** Totals kept outside SceneAnalytics so that a scene reload does not reset them. */
  private readonly lineTotals = new Map<string, { in: number; out: number }>();
  private readonly zoneTotals = new Map<string, { visits: number; passThroughs: number }>();

  constructor(
    private currentConfig: CameraConfig,
    private readonly deps: CameraPipelineDeps,
  ) {
    const config = currentConfig;
    this.log = deps.ctx.log.child({ camera: config.id });
    this.target = { targetFps: config.fps, limited: false, belowMin: false };
    deps.ctx.metrics.targetFps.set({ camera: config.id }, config.fps);
    deps.ctx.metrics.fpsBelowMin.set({ camera: config.id }, 0);
    this.scene = { lines: config.lines, zones: config.zones };
    const staticAfterS = config.tracking.ignore_static_after_s;
    this.tracker = new ByteTracker({ staticClutter: staticAfterS > 0 ? { learnAfterMs: staticAfterS * 1000 } : false });
    this.gate = new MotionGate({
      enabled: config.motion.enabled,
      pixelThreshold: config.motion.pixel_threshold,
      minChangedFraction: config.motion.min_changed_fraction,
      forceDetectMs: config.motion.force_detect_s * 1000,
    });
    this.source = createCameraSource({ ...config, ...decodeSize(config, deps.pool.modelInput) }, {
      onFrame: (frame) => this.onFrame(frame),
      onStatus: (status, previous) => this.onSourceStatus(status, previous),
    }, { now: deps.ctx.now });
  }

  get config(): CameraConfig {
    return this.currentConfig;
  }

  get id(): string {
    return this.config.id;
  }

  start(): void {
    this.log.info({ source: this.config.source.kind, fps: this.config.fps, ...decodeSize(this.config, this.deps.pool.modelInput) }, 'camera starting');
    this.source.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.source.stop();
    this.deps.ctx.metrics.cameraUp.set({ camera: this.id }, 0);
  }

  /** Takes a config that differs only in lines and zones; the tracker and the totals carry on. */
  applyScene(config: CameraConfig): void {
    for (const event of this.analytics?.finish() ?? []) this.emit(event);
    this.currentConfig = config;
    const scene = { lines: config.lines, zones: config.zones };
    this.scene = scene;
    this.analytics = this.frameSize ? new SceneAnalytics(scene, this.frameSize.width, this.frameSize.height) : undefined;
    this.log.info({ lines: scene.lines.length, zones: scene.zones.length }, 'lines and zones reloaded');
  }

  /** Frames handed to the detector and frames dropped waiting for it, since start (the pool's saturation). */
  get detectorCounters(): { detected: number; dropped: number } {
    return { detected: this.detected, dropped: this.frames.dropped };
  }

  /**
   * What the frame-rate controller needs from this camera. The detector share is, of the frames the
   * motion gate decided on since the last call, those it sent to the detector (not of all frames:
   * frames dropped while waiting for a worker would make an overloaded camera look cheap).
   */
  demand(): CameraDemand {
    const dDetected = this.detected - this.lastDemand.detected;
    const dSkipped = this.frames.motionSkipped - this.lastDemand.skipped;
    this.lastDemand = { skipped: this.frames.motionSkipped, detected: this.detected };
    const decided = dDetected + dSkipped;
    return { id: this.id, configuredFps: this.config.fps, minFps: minFpsOf(this.config), detectFraction: decided > 0 ? dDetected / decided : 1 };
  }

  /** Applies the controller's target; raises the alert (metric, log) when it is below min_fps. */
  setTarget(target: CameraTarget): void {
    const m = this.deps.ctx.metrics;
    const previous = this.target;
    this.target = target;
    m.targetFps.set({ camera: this.id }, target.targetFps);
    m.fpsBelowMin.set({ camera: this.id }, target.belowMin ? 1 : 0);
    if (target.belowMin && !previous.belowMin) {
      m.fpsBelowMinEvents.inc({ camera: this.id });
      this.log.warn({ target_fps: target.targetFps, min_fps: minFpsOf(this.config), fps: this.config.fps }, 'detector over capacity even at every camera\'s min_fps: frame rate lowered below min_fps (add cores, fewer cameras, or lower min_fps)');
    } else if (!target.belowMin && previous.belowMin) {
      this.log.info({ target_fps: target.targetFps }, 'detector capacity back above min_fps');
    } else if (target.targetFps !== previous.targetFps) {
      this.log.info({ target_fps: target.targetFps, configured_fps: this.config.fps }, target.limited ? 'frame rate lowered for load' : 'frame rate back to configured');
    }
  }

  heatmap(): HeatmapGrid | undefined {
    return this.analytics?.heatmap.toGrid();
  }

  snapshot(): CameraSnapshot {
    const now = this.deps.ctx.now();
    const zones: CameraSnapshot['zones'] = {};
    for (const zone of this.scene.zones) {
      const totals = this.zoneTotals.get(zone.name) ?? { visits: 0, passThroughs: 0 };
      const live = this.analytics?.zones.find((z) => z.name === zone.name);
      zones[zone.name] = { occupancy: live?.occupancy ?? 0, ...totals };
    }
    const lines: CameraSnapshot['lines'] = {};
    for (const line of this.scene.lines) lines[line.name] = { ...(this.lineTotals.get(line.name) ?? { in: 0, out: 0 }) };
    return {
      id: this.id,
      name: this.config.name,
      source: { ...this.source.status, kind: this.config.source.kind },
      frame: this.frameSize,
      fps: { input: round2(this.inputRate.rate(now)), processed: round2(this.processedRate.rate(now)), target: round2(this.target.targetFps), configured: this.config.fps, min: minFpsOf(this.config) },
      frames: { ...this.frames },
      load: { limited: this.target.limited, below_min: this.target.belowMin },
      activeTracks: this.activeTracks,
      lines,
      zones,
    };
  }

  private onSourceStatus(status: SourceStatus, previous: string): void {
    const m = this.deps.ctx.metrics;
    m.cameraUp.set({ camera: this.id }, status.state === 'live' ? 1 : 0);
    if (status.state === 'connecting' && previous !== 'stopped') m.cameraRestarts.inc({ camera: this.id });
    const fields = { state: status.state, previous, error: status.lastError };
    if (status.state === 'error' || status.state === 'stalled') this.log.warn(fields, 'camera source down');
    else this.log.info(fields, `camera ${status.state}`);
  }

  private onFrame(frame: RgbFrame): void {
    if (this.stopped) return;
    const m = this.deps.ctx.metrics;
    this.frames.input += 1;
    this.inputRate.mark(frame.timestampMs);
    m.inputFrames.inc({ camera: this.id });
    m.inputFps.set({ camera: this.id }, this.inputRate.rate(frame.timestampMs));
    // Over capacity, frames are left out evenly here (before any work is done on them) rather than
    // dropped unevenly below while waiting for a worker.
    if (!this.thinner.keep(this.target.targetFps, this.config.fps)) {
      this.frames.throttled += 1;
      m.throttledFrames.inc({ camera: this.id });
      return;
    }
    if (this.waiting) this.drop();
    this.waiting = frame;
    this.pump();
  }

  private drop(): void {
    this.frames.dropped += 1;
    this.deps.ctx.metrics.droppedFrames.inc({ camera: this.id });
  }

  private pump(): void {
    while (!this.inFlight && this.waiting && !this.stopped) {
      const frame = this.waiting;
      this.waiting = undefined;
      const gateStart = performance.now();
      const decision = this.gate.check(frame);
      this.stage('motion_gate', gateStart);
      if (!decision.detect) {
        this.frames.motionSkipped += 1;
        this.deps.ctx.metrics.motionSkippedFrames.inc({ camera: this.id });
        this.afterTracking(frame, this.tracker.coast(frame.timestampMs));
        continue;
      }
      this.inFlight = true;
      this.deps.pool
        .submit(() => {
          // A newer frame that arrived while this camera waited for a worker replaces the older one.
          const newest = this.waiting ?? frame;
          if (this.waiting) {
            this.waiting = undefined;
            this.drop();
          }
          const t0 = performance.now();
          this.gate.detected(newest);
          this.stage('motion_gate', t0);
          this.detected += 1;
          return newest;
        })
        .then(
          (result) => {
            const { preprocessMs, inferenceMs, decodeMs } = result.timings;
            const m = this.deps.ctx.metrics;
            m.detectorLatency.observe({ camera: this.id }, (preprocessMs + inferenceMs + decodeMs) / 1000);
            m.stageSeconds.inc({ camera: this.id, stage: 'detector_preprocess' }, preprocessMs / 1000);
            m.stageSeconds.inc({ camera: this.id, stage: 'detector_inference' }, inferenceMs / 1000);
            m.stageSeconds.inc({ camera: this.id, stage: 'detector_decode' }, decodeMs / 1000);
            this.onDetections(result.frame, result.detections);
          },
          (err: Error) => {
            if (this.stopped) return;
            this.deps.ctx.metrics.detectorErrors.inc();
            this.log.error({ err: err.message }, 'detector failed on a frame');
          },
        )
        .finally(() => {
          this.inFlight = false;
          this.pump();
        });
    }
  }

  private onDetections(frame: RgbFrame, detections: Detection[]): void {
    if (this.stopped) return;
    // The pool hands the frame's pixels back with the boxes: the colour signatures are taken here,
    // go to the tracker only, and are gone with its tracks.
    const t0 = performance.now();
    const tracks = this.tracker.update(withAppearance(frame, detections, this.tracker.options.highScore), frame.timestampMs, frame);
    this.stage('tracking', t0);
    this.afterTracking(frame, tracks);
  }

  /** Adds the time since `startMs` to a stage's total (the per-camera CPU profile in /metrics). */
  private stage(stage: string, startMs: number): void {
    this.deps.ctx.metrics.stageSeconds.inc({ camera: this.id, stage }, (performance.now() - startMs) / 1000);
  }

  private afterTracking(frame: RgbFrame, tracks: Track[]): void {
    const m = this.deps.ctx.metrics;
    if (!this.analytics || this.frameSize?.width !== frame.width || this.frameSize.height !== frame.height) {
      this.frameSize = { width: frame.width, height: frame.height };
      this.analytics = new SceneAnalytics(this.scene, frame.width, frame.height);
    }
    const t0 = performance.now();
    const points = this.feet.estimate(tracks, frame.width, frame.height, frame.timestampMs);
    for (const event of this.analytics.update(points, frame.timestampMs)) this.emit(event);
    this.stage('analytics', t0);
    this.activeTracks = tracks.length;
    m.activeTracks.set({ camera: this.id }, tracks.length);
    for (const zone of this.analytics.zones) m.zoneOccupancy.set({ camera: this.id, zone: zone.name }, zone.occupancy);
    this.frames.processed += 1;
    const now = this.deps.ctx.now();
    this.processedRate.mark(now);
    m.processedFrames.inc({ camera: this.id });
    m.processedFps.set({ camera: this.id }, this.processedRate.rate(now));
    m.captureToResult.observe({ camera: this.id }, Math.max(0, now - frame.timestampMs) / 1000);
    this.deps.onTracks?.(this.id, frame, tracks);
  }

  private emit(event: AnalyticsEvent): void {
    const m = this.deps.ctx.metrics;
    if (event.type === 'line_crossing') {
      const totals = this.lineTotals.get(event.line) ?? { in: 0, out: 0 };
      totals[event.direction] += 1;
      this.lineTotals.set(event.line, totals);
      m.lineCrossings.inc({ camera: this.id, line: event.line, direction: event.direction });
    } else {
      const totals = this.zoneTotals.get(event.zone) ?? { visits: 0, passThroughs: 0 };
      if (event.counted) totals.visits += 1;
      else totals.passThroughs += 1;
      this.zoneTotals.set(event.zone, totals);
      m.zoneVisits.inc({ camera: this.id, zone: event.zone, counted: String(event.counted) });
    }
    this.deps.onEvent({ ...event, camera: this.id });
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
