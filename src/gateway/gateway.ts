/**
 * The composition root of the live daemon. Starts services in a fixed order (data directory,
 * detector pool, cameras, config watcher) and stops them in reverse. An invalid config does not
 * stop the daemon: it runs in safe mode — API up, cameras off, the errors visible — until a valid
 * config is saved. Lines and zones reload without a restart; a changed camera source restarts only
 * that camera.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DetectorPool } from '../vision/detector/detectorPool.js';
import { CameraPipeline, type CameraEvent, type CameraPipelineDeps, type CameraSnapshot } from './cameraPipeline.js';
import { tlsSchema, type CameraConfig, type GatewayConfig } from './config/configSchema.js';
import { defaultConfig, loadConfigFile, parseConfig, type ConfigResult } from './config/loadConfig.js';
import type { GatewayContext } from './context.js';
import { LiveFrames } from '../web/liveFrames.js';
import type { HeatmapGrid } from '../vision/analytics/heatmap.js';
import { SensorService, type SensorServiceStatus } from '../sensors/sensorService.js';
import { DataStore, storeEventOf } from '../store/dataStore.js';
import { apiTokens, TOKEN_FILE } from './http/apiAuth.js';
import { loadTls, type TlsMaterial, type TlsSettings } from '../common/tls.js';
import { setBrokerTransport } from '../sensors/mqtt/embeddedBroker.js';
import { GatewayJourneys } from './gatewayJourneys.js';
import { FpsController } from './fpsController.js';
import { LiveFusion } from '../fusion/liveFusion.js';
import type { JourneyService } from '../analytics/journeys/journeyService.js';

export type GatewayMode = 'running' | 'safe';

export interface GatewayStatus {
  mode: GatewayMode;
  store_id: string;
  gateway_id: string;
  uptime_s: number;
  config: {
    path: string | undefined;
    /** Problems that put the gateway in safe mode. */
    errors: string[];
    last_reload: { at: string; ok: boolean; errors: string[]; changes: string[] } | undefined;
  };
  detector: { state: 'off' | 'starting' | 'ready' | 'error'; workers: number; error: string | undefined };
  cameras: CameraSnapshot[];
  storage: ReturnType<DataStore['status']> | { state: 'off' | 'error'; error: string | undefined };
  sensors: SensorServiceStatus | null;
  /** HTTPS/MQTTS: the certificate's SHA-256 fingerprint, for installers to pin. */
  tls: { mode: TlsSettings['mode']; fingerprint_sha256: string | null; cert_file: string | null };
}

export interface GatewayOptions {
  ctx: GatewayContext;
  /** No path: the built-in default (no cameras). */
  configPath?: string;
  /** A config given as an object instead of a file (benchmarks, tests); not watched. */
  rawConfig?: unknown;
  env?: NodeJS.ProcessEnv;
  /** Overrides the config's http.port (CLI --port; tests use 0). */
  port?: number;
  /** Watch the config file and reload on change (SIGHUP works either way). */
  watchConfig?: boolean;
  onTracks?: CameraPipelineDeps['onTracks'];
  /** How often closed KPI bins are computed (tests shorten it). */
  kpiTickMs?: number;
}

const RECENT_EVENTS = 1000;
/** How often the fair frame-rate controller measures the detector pool and re-plans the cameras' fps. */
const FPS_CONTROL_INTERVAL_MS = 2000;
const RELOAD_DEBOUNCE_MS = 300;

const withoutScene = ({ lines: _lines, zones: _zones, calibration: _calibration, ...rest }: CameraConfig): string => JSON.stringify(rest);
const sceneOf = (c: CameraConfig): string => JSON.stringify({ lines: c.lines, zones: c.zones });

export class Gateway {
  config: GatewayConfig;
  mode: GatewayMode = 'running';
  private configErrors: string[] = [];
  private lastReload: GatewayStatus['config']['last_reload'];
  private pool: DetectorPool | undefined;
  private detectorState: GatewayStatus['detector']['state'] = 'off';
  private detectorError: string | undefined;
  private readonly cameras = new Map<string, CameraPipeline>();
  private readonly recent: (CameraEvent & { seq: number })[] = [];
  private eventSeq = 0;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private readonly startedMs: number;
  private readonly eventListeners = new Set<(event: CameraEvent) => void>();
  private dataStore: DataStore | undefined;
  private storeError: string | undefined;
  private sensorService: SensorService | undefined;
  /** The newest frame and tracks per camera for the web UI's live view (memory only). */
  readonly live: LiveFrames;
  private tlsMaterial: TlsMaterial | undefined;
  private readonly journeyLink: GatewayJourneys;
  /** Store-level counting on the floor plan over all calibrated cameras (src/fusion). */
  readonly fusion: LiveFusion;
  private readonly fpsControl = new FpsController();
  private fpsTimer: NodeJS.Timeout | undefined;
  /** Pool and camera counters at the previous control step. */
  private fpsLast = { atMs: 0, completed: 0, serviceMs: 0, detected: 0, dropped: 0 };

  private constructor(private readonly options: GatewayOptions, initial: ConfigResult) {
    this.startedMs = options.ctx.now();
    this.live = new LiveFrames(options.ctx.now);
    this.journeyLink = new GatewayJourneys(options.ctx, () => this.dataStore, () => this.config);
    // Failures are logged and counted by the store, as for camera events.
    this.fusion = new LiveFusion({
      ctx: options.ctx,
      record: (event) => void this.dataStore?.record(event).catch(() => undefined),
      onSamples: (samples, tMs) => this.journeyLink.onFusedSamples(samples, tMs),
    });
    if (initial.ok) {
      this.config = initial.config;
    } else {
      this.config = defaultConfig();
      this.mode = 'safe';
      this.configErrors = initial.errors;
    }
  }

  static async start(options: GatewayOptions): Promise<Gateway> {
    const env = options.env ?? process.env;
    const initial: ConfigResult = options.configPath
      ? await loadConfigFile(options.configPath, env)
      : options.rawConfig !== undefined
        ? parseConfig(options.rawConfig, env)
        : { ok: true, config: defaultConfig() };
    const gateway = new Gateway(options, initial);
    const { log, metrics } = options.ctx;
    // TLS is read once: the server is built with it, so a change takes effect after a restart. A
    // certificate that cannot be used stops the start (never a silent fall back to plain HTTP).
    const tls = initial.ok ? { settings: initial.config.tls, dataDir: initial.config.data_dir } : await safeModeTls(options, env);
    gateway.tlsMaterial = await loadTls(tls.settings, tls.dataDir);
    if (gateway.tlsMaterial) {
      const m = gateway.tlsMaterial;
      log.info({ mode: m.mode, cert: m.certFile, generated: m.generated, sha256: m.fingerprint256 }, `TLS certificate SHA-256 fingerprint ${m.fingerprint256}`);
    } else {
      log.warn('tls.mode is off: the web UI, the API and the sensor broker are plain HTTP/MQTT (passwords and cookies cross the network in clear)');
    }
    setBrokerTransport(options.ctx, {
      tls: gateway.tlsMaterial,
      plainPort: () => (gateway.config.sensors.broker.mode === 'embedded' ? gateway.config.sensors.broker.plain_port : undefined),
    });
    metrics.configValid.set(gateway.mode === 'safe' ? 0 : 1);
    if (gateway.mode === 'safe') {
      log.error({ config: options.configPath, errors: gateway.configErrors }, 'invalid configuration: starting in safe mode (API up, cameras off)');
    } else {
      await gateway.startServices();
    }
    if (options.configPath && options.watchConfig) gateway.watchConfig(options.configPath);
    return gateway;
  }

  /** The config file the gateway runs from (undefined: built-in default or an object). */
  get configPath(): string | undefined {
    return this.options.configPath;
  }

  /** The environment `${NAME}` references in the config resolve against. */
  get configEnv(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  /** Person-seconds per cell of a camera's image since start. */
  heatmap(id: string): HeatmapGrid | undefined {
    return this.cameras.get(id)?.heatmap();
  }

  get httpHost(): string {
    return this.config.http.host;
  }

  get httpPort(): number {
    return this.options.port ?? this.config.http.port;
  }

  /** The certificate HTTPS and MQTTS use (undefined: tls.mode off). */
  get tls(): TlsMaterial | undefined {
    return this.tlsMaterial;
  }

  /** Subscribes to every analytics event (returns the unsubscribe function). */
  onEvent(listener: (event: CameraEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  recentEvents(afterSeq = 0): (CameraEvent & { seq: number })[] {
    return this.recent.filter((e) => e.seq > afterSeq);
  }

  /** Customer journeys over the plan zones (off unless the config has a journeys section). */
  get journeys(): JourneyService {
    return this.journeyLink.service;
  }

  /** The durable store (undefined in safe mode or when the database cannot be opened). */
  get store(): DataStore | undefined {
    return this.dataStore;
  }

  camera(id: string): CameraSnapshot | undefined {
    return this.cameras.get(id)?.snapshot();
  }

  status(): GatewayStatus {
    return {
      mode: this.mode,
      store_id: this.config.store_id,
      gateway_id: this.config.gateway_id,
      uptime_s: Math.round((this.options.ctx.now() - this.startedMs) / 1000),
      config: { path: this.options.configPath, errors: this.configErrors, last_reload: this.lastReload },
      detector: { state: this.detectorState, workers: this.pool?.size ?? 0, error: this.detectorError },
      cameras: [...this.cameras.values()].map((c) => c.snapshot()),
      storage: this.dataStore?.status() ?? { state: this.storeError ? 'error' : 'off', error: this.storeError },
      sensors: this.sensorService?.status() ?? null,
      tls: { mode: this.tlsMaterial?.mode ?? 'off', fingerprint_sha256: this.tlsMaterial?.fingerprint256 ?? null, cert_file: this.tlsMaterial?.certFile ?? null },
    };
  }

  /** Ready to count: a valid config and, when cameras are configured, a working detector. */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (this.mode === 'safe') reasons.push(`invalid configuration: ${this.configErrors.join('; ')}`);
    if (this.mode === 'running' && !this.dataStore) reasons.push(`storage unavailable${this.storeError ? `: ${this.storeError}` : ''}`);
    if (this.cameras.size > 0 && this.detectorState !== 'ready') reasons.push(`detector ${this.detectorState}${this.detectorError ? `: ${this.detectorError}` : ''}`);
    return { ready: reasons.length === 0, reasons };
  }

  /** Re-reads the config file; serialised, so a burst of saves applies in order. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.doReload()).catch((err: Error) => {
      this.options.ctx.log.error({ err: err.message }, 'config reload failed');
    });
    return this.reloading;
  }

  async stop(): Promise<void> {
    clearTimeout(this.reloadTimer);
    clearInterval(this.fpsTimer);
    this.fpsTimer = undefined;
    this.watcher?.close();
    await this.reloading;
    await Promise.all([...this.cameras.values()].map((c) => c.stop()));
    this.cameras.clear();
    // After the cameras (no more tracks), before the store closes: held-back plan counts are recorded.
    this.fusion.stop();
    // After fusion (its last samples are in), before the store closes: journey counts are saved.
    this.journeyLink.stop();
    await this.pool?.close();
    this.pool = undefined;
    this.detectorState = 'off';
    await this.sensorService?.stop();
    this.sensorService = undefined;
    await this.dataStore?.close();
    this.dataStore = undefined;
  }

  private async startServices(): Promise<void> {
    const { log } = this.options.ctx;
    await mkdir(path.resolve(this.config.data_dir), { recursive: true });
    this.openStore();
    this.fusion.apply(this.config);
    // After fusion: a restarted fuser has released its last samples to the journeys by then.
    this.journeyLink.apply(this.config);
    await this.applySensors();
    await this.ensurePool();
    for (const camera of this.config.cameras) if (camera.enabled) this.startCamera(camera);
    this.fpsTimer ??= setInterval(() => this.controlFps(), FPS_CONTROL_INTERVAL_MS).unref();
    log.info({ cameras: this.cameras.size, detector: this.detectorState }, 'gateway running');
  }

  /** Sensors need the store: without one their readings could not be kept. */
  private async applySensors(): Promise<void> {
    if (!this.dataStore) return;
    this.sensorService ??= new SensorService(this.options.ctx, () => this.config, this.dataStore);
    await this.sensorService.apply();
  }

  /** The sensor side (undefined in safe mode or without storage). */
  get sensors(): SensorService | undefined {
    return this.sensorService;
  }

  private openStore(): void {
    const { log } = this.options.ctx;
    try {
      this.dataStore = DataStore.open({ ctx: this.options.ctx, config: () => this.config, tickMs: this.options.kpiTickMs });
      this.dataStore.start();
      this.storeError = undefined;
      if (this.config.api.tokens.length === 0) {
        apiTokens(this.config);
        log.info({ file: path.resolve(this.config.data_dir, TOKEN_FILE) }, 'no api.tokens configured: the API token is in this file');
      }
    } catch (err) {
      this.storeError = (err as Error).message;
      log.error({ err: this.storeError }, 'storage unavailable: counts are live only and are not kept or sent upstream');
    }
  }

  private async ensurePool(): Promise<void> {
    const wanted = this.config.cameras.some((c) => c.enabled);
    if (!wanted || this.pool) return;
    const { log, metrics } = this.options.ctx;
    this.detectorState = 'starting';
    try {
      this.pool = await DetectorPool.start({
        workers: this.config.detector.workers,
        detector: { model: this.config.detector.model, scoreThreshold: this.config.detector.score_threshold },
        onWorkerError: (error) => {
          metrics.detectorErrors.inc();
          log.error({ err: error }, 'detector worker failed; restarting it');
        },
      });
      this.detectorState = 'ready';
      this.detectorError = undefined;
    } catch (err) {
      this.detectorState = 'error';
      this.detectorError = (err as Error).message;
      log.error({ err: this.detectorError }, 'detector failed to start: cameras stay off');
    }
  }

  private startCamera(camera: CameraConfig): void {
    if (!this.pool) return;
    const pipeline = new CameraPipeline(camera, {
      ctx: this.options.ctx,
      pool: this.pool,
      onEvent: (event) => this.publish(event),
      onTracks: (id, frame, tracks) => {
        this.live.update(id, frame, tracks);
        this.fusion.onTracks(id, frame, tracks);
        this.options.onTracks?.(id, frame, tracks);
      },
    });
    this.cameras.set(camera.id, pipeline);
    // A camera added to a loaded box starts at the current fair level, not at a burst of its full rate.
    if (this.config.detector.adaptive_fps) {
      const target = this.fpsControl.targets([pipeline.demand()]).get(camera.id);
      if (target) pipeline.setTarget(target);
    }
    pipeline.start();
  }

  /**
   * One step of the fair frame-rate control: what the pool finished since the last step (frames, time
   * per frame, drops) gives its capacity; the controller shares it evenly between the cameras.
   */
  private controlFps(): void {
    const pool = this.pool;
    if (!pool || this.cameras.size === 0) return;
    const { metrics, now } = this.options.ctx;
    const pipelines = [...this.cameras.values()];
    if (!this.config.detector.adaptive_fps) {
      for (const p of pipelines) p.setTarget({ targetFps: p.config.fps, limited: false, belowMin: false });
      return;
    }
    const t = now();
    let detected = 0;
    let dropped = 0;
    for (const p of pipelines) {
      detected += p.detectorCounters.detected;
      dropped += p.detectorCounters.dropped;
    }
    const last = this.fpsLast;
    this.fpsLast = { atMs: t, completed: pool.completed, serviceMs: pool.serviceMs, detected, dropped };
    // The first step only takes the counters; a camera removed since (counters gone) gives negative deltas: skip.
    const dt = (t - last.atMs) / 1000;
    const dCompleted = pool.completed - last.completed;
    const dDetected = detected - last.detected;
    const dDropped = dropped - last.dropped;
    if (last.atMs === 0 || dt <= 0 || dCompleted < 0 || dDetected < 0 || dDropped < 0) return;
    const plan = this.fpsControl.update(t, pipelines.map((p) => p.demand()), {
      workers: pool.size,
      meanServiceMs: dCompleted > 0 ? (pool.serviceMs - last.serviceMs) / dCompleted : undefined,
      completedFps: dCompleted / dt,
      droppedRatio: dDetected + dDropped > 0 ? dDropped / (dDetected + dDropped) : 0,
    });
    if (plan.capacityFps !== undefined) metrics.detectorCapacityFps.set(plan.capacityFps);
    for (const p of pipelines) {
      const target = plan.targets.get(p.id);
      if (target) p.setTarget(target);
    }
  }

  private publish(event: CameraEvent): void {
    // Failures are logged and counted by the store; the live counts go on.
    this.dataStore?.record(storeEventOf(event)).catch(() => undefined);
    this.recent.push({ ...event, seq: ++this.eventSeq });
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (err) {
        this.options.ctx.log.error({ err: (err as Error).message }, 'event listener failed');
      }
    }
  }

  private watchConfig(file: string): void {
    const dir = path.dirname(path.resolve(file));
    const name = path.basename(file);
    try {
      // Watch the directory: editors and the UI save by rename, which replaces the watched inode.
      this.watcher = watch(dir, (_event, changed) => {
        if (changed !== null && changed !== name) return;
        clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => void this.reload(), RELOAD_DEBOUNCE_MS);
      });
    } catch (err) {
      this.options.ctx.log.warn({ err: (err as Error).message }, 'cannot watch the config file; reload with SIGHUP');
    }
  }

  private async doReload(): Promise<void> {
    const { log, metrics, now } = this.options.ctx;
    const file = this.options.configPath;
    if (!file) return;
    const result = await loadConfigFile(file, this.configEnv);
    const at = new Date(now()).toISOString();
    if (!result.ok) {
      metrics.configReloads.inc({ result: 'invalid' });
      this.lastReload = { at, ok: false, errors: result.errors, changes: [] };
      log.error({ errors: result.errors }, 'config reload rejected: keeping the running configuration');
      return;
    }
    const next = result.config;
    const changes = this.mode === 'safe' ? ['left safe mode'] : await this.applyCameraChanges(next);
    const restartOnly = (['http', 'tls', 'data_dir', 'detector'] as const).filter((k) => JSON.stringify(this.config[k]) !== JSON.stringify(next[k]));
    if (restartOnly.length) log.warn({ sections: restartOnly }, 'these settings take effect after a restart');
    const wasSafe = this.mode === 'safe';
    // Only an edited level applies: an injected logger (tests, embedding) keeps its own otherwise.
    if (next.log.level !== this.config.log.level) log.level = next.log.level;
    this.config = next;
    if (wasSafe) {
      this.mode = 'running';
      this.configErrors = [];
      await this.startServices();
    }
    this.dataStore?.applyUpstreamConfig();
    if (!wasSafe) this.fusion.apply(next);
    if (!wasSafe) this.journeyLink.apply(next);
    if (!wasSafe) await this.applySensors();
    metrics.configValid.set(1);
    metrics.configReloads.inc({ result: 'applied' });
    this.lastReload = { at, ok: true, errors: [], changes };
    log.info({ changes }, 'config reloaded');
  }

  private async applyCameraChanges(next: GatewayConfig): Promise<string[]> {
    const changes: string[] = [];
    const wanted = new Map(next.cameras.filter((c) => c.enabled).map((c) => [c.id, c]));
    for (const [id, pipeline] of this.cameras) {
      const target = wanted.get(id);
      if (!target || withoutScene(target) !== withoutScene(pipeline.config)) {
        await pipeline.stop();
        this.cameras.delete(id);
        if (!target) changes.push(`camera ${id} removed`);
      }
    }
    this.config = { ...this.config, cameras: next.cameras };
    await this.ensurePool();
    for (const [id, camera] of wanted) {
      const running = this.cameras.get(id);
      if (!running) {
        changes.push(`camera ${id} (re)started`);
        this.startCamera(camera);
      } else if (sceneOf(running.config) !== sceneOf(camera)) {
        running.applyScene(camera);
        changes.push(`camera ${id}: lines and zones updated`);
      }
    }
    return changes;
  }
}

/**
 * The TLS settings of a config that is invalid elsewhere: its own `tls` and `data_dir` when those
 * are valid, so safe mode keeps serving HTTPS with the installer's certificate; the defaults
 * (self-signed in ./data) otherwise.
 */
async function safeModeTls(options: GatewayOptions, env: NodeJS.ProcessEnv): Promise<{ settings: TlsSettings; dataDir: string }> {
  const fallback = { settings: tlsSchema.parse({}), dataDir: defaultConfig().data_dir };
  let raw: unknown = options.rawConfig;
  if (options.configPath) {
    try {
      raw = parseYaml(await readFile(options.configPath, 'utf8'));
    } catch {
      return fallback;
    }
  }
  if (!raw || typeof raw !== 'object') return fallback;
  const { tls, data_dir } = raw as { tls?: unknown; data_dir?: unknown };
  const parsed = parseConfig({ tls, ...(data_dir === undefined ? {} : { data_dir }) }, env);
  return parsed.ok ? { settings: parsed.config.tls, dataDir: parsed.config.data_dir } : fallback;
}
