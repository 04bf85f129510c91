/**
 * The gateway's one configuration schema. The TypeScript types are inferred from it, defaults live
 * here and nowhere else, and every problem is reported with its path (cameras.1.source.url: …).
 * Keys are snake_case because installers edit this file by hand.
 */
import { z } from 'zod';
import { isValidTimeZone } from '../../kpi/timeBins.js';
import { sensorsSchema } from '../../sensors/sensorConfigSchema.js';
import { checkPlanAgainstStore, planSchema } from '../../fusion/planConfigSchema.js';
import { checkJourneysAgainstPlan, journeysSchema } from '../../analytics/journeys/journeyConfig.js';
import { checkUniqueNames, lineSchema, zoneSchema } from '../../vision/scene.js';

const cameraId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lower-case letters, digits, - and _ (it becomes a metric label and a URL part)');

const rtspSource = z
  .object({
    kind: z.literal('rtsp'),
    url: z.string().regex(/^rtsps?:\/\//, 'must start with rtsp:// or rtsps://'),
    /** TCP survives NAT and lossy Wi-Fi; UDP has less latency on a clean LAN. */
    transport: z.enum(['tcp', 'udp']).default('tcp'),
  })
  .strict();

const mjpegSource = z
  .object({ kind: z.literal('mjpeg'), url: z.string().regex(/^https?:\/\//, 'must start with http:// or https://') })
  .strict();

const snapshotSource = z
  .object({
    kind: z.literal('snapshot'),
    url: z.string().regex(/^https?:\/\//, 'must start with http:// or https://'),
    /** Seconds between two snapshot requests (defaults to 1 / the camera's fps). */
    interval_s: z.number().positive().optional(),
    timeout_s: z.number().positive().default(5),
  })
  .strict();

const v4l2Source = z
  .object({ kind: z.literal('v4l2'), device: z.string().regex(/^\/dev\//, 'must be a device path such as /dev/video0') })
  .strict();

const fileSource = z
  .object({
    kind: z.literal('file'),
    path: z.string().min(1),
    /** Play from the start again at the end, like a camera that never stops (demos, soak tests). */
    loop: z.boolean().default(false),
    /** Decode at the file's own pace (as a camera would deliver it) rather than as fast as possible. */
    realtime: z.boolean().default(true),
  })
  .strict();

export const sourceSchema = z.discriminatedUnion('kind', [rtspSource, mjpegSource, snapshotSource, v4l2Source, fileSource]);

const motionSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Grey-level change (0–255) for a cell of the downscaled frame to count as changed. */
    pixel_threshold: z.number().min(1).max(255).default(18),
    /** Fraction of the frame that must change before the detector runs. */
    min_changed_fraction: z.number().min(0).max(1).default(0.002),
    /** The detector runs at least this often even on a still scene (people standing still in a zone). */
    force_detect_s: z.number().positive().default(2),
  })
  .strict();

const trackingSchema = z
  .object({
    /**
     * Weak detections that have not moved for this long are taken for an object (a cone, a sign post,
     * a mannequin) and ignored: no track lives on them, no zone fills with their dwell. A person
     * standing still is still counted while the detector is confident about them. 0 turns it off
     * (e.g. a queue where people stand half-hidden for minutes).
     */
    ignore_static_after_s: z.number().min(0).max(3600).default(5),
  })
  .strict();

const normalisedPoint = z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]);
const planPoint = z.tuple([z.number().min(0), z.number().min(0)]);

const calibrationSchema = z
  .object({
    /** Four points on the floor in the image (0–1) … */
    image_points: z.array(normalisedPoint).length(4),
    /** … and where they are on the plan (metres from its top-left corner). */
    plan_points: z.array(planPoint).length(4),
    /** RMS reprojection error in metres when it was saved (shown to the installer). */
    error_m: z.number().min(0).optional(),
  })
  .strict();

const cameraSchema = z
  .object({
    id: cameraId,
    name: z.string().optional(),
    enabled: z.boolean().default(true),
    source: sourceSchema,
    /** Frames per second handed to the detector; the source's own rate is resampled. */
    fps: z.number().positive().max(30).default(5),
    /**
     * The lowest fps the adaptive load control (detector.adaptive_fps) lowers this camera to when the
     * box is over capacity. Only when the minimums of all cameras together do not fit does it go
     * lower (every camera evenly), and then storepulse_camera_fps_below_min raises the alert.
     * Default: 2, or fps when that is lower (minFpsOf below): at 2 fps a walker moves ~0.7 m between
     * frames, about what the tracker bridges.
     */
    min_fps: z.number().positive().max(30).optional(),
    /**
     * Decoded size in pixels. By default frames are decoded at the detector's input size (416 × 416
     * for the shipped model, which is trained on stretched frames; letterbox models keep the aspect
     * ratio), so ffmpeg does the resize once: 8 cameras drop 0 % of frames that way against 15 % when
     * decoded at 640 wide and resized again for the model (docs/benchmarks.md). Lines and zones are
     * in 0–1 coordinates, so the size never changes them.
     */
    width: z.number().int().min(64).max(3840).optional(),
    /** Without a height the aspect ratio is kept. */
    height: z.number().int().min(64).max(2160).optional(),
    /** No frame for this long → the source is restarted. */
    stall_timeout_s: z.number().positive().default(5),
    reconnect: z
      .object({ initial_s: z.number().positive().default(0.5), max_s: z.number().positive().default(5) })
      .strict()
      .default({ initial_s: 0.5, max_s: 5 }),
    motion: motionSchema.default(motionSchema.parse({})),
    tracking: trackingSchema.default(trackingSchema.parse({})),
    lines: z.array(lineSchema).default([]),
    zones: z.array(zoneSchema).default([]),
    /** Image → floor-plan mapping set in the web UI (docs/web-ui.md). */
    calibration: calibrationSchema.optional(),
  })
  .strict()
  .superRefine(checkUniqueNames)
  .superRefine((camera, ctx) => {
    if (camera.min_fps !== undefined && camera.min_fps > camera.fps) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_fps'],
        message: `min_fps (${camera.min_fps}) is above fps (${camera.fps}): the rate a camera may be lowered to under load cannot exceed its configured rate`,
      });
    }
  });

/** Default for cameras.*.min_fps: see its comment in the camera schema. */
export const DEFAULT_MIN_FPS = 2;

/** The minimum fps the load control may lower a camera to (its own setting, else the default capped at its fps). */
export function minFpsOf(camera: { fps: number; min_fps?: number | undefined }): number {
  return camera.min_fps ?? Math.min(camera.fps, DEFAULT_MIN_FPS);
}

const detectorSchema = z
  .object({
    /** Shipped model name, manifest path or .onnx path. */
    model: z.string().optional(),
    /**
     * Worker threads, each with a single-threaded onnxruntime session. Two one-thread workers
     * beat one two-thread session by ~10 % on 2 cores (docs/benchmarks.md) and keep inference
     * off the main thread, where the frame pipes and the HTTP API live.
     */
    workers: z.number().int().min(1).max(16).default(2),
    /** Detections kept for the tracker; its low-score stage needs the weak ones too. */
    score_threshold: z.number().min(0).max(1).default(0.1),
    /**
     * Over capacity, lower every camera's fps evenly (max-min fair, never below its min_fps) rather
     * than let each drop whichever frames arrive while the workers are busy (src/gateway/fpsController.ts).
     */
    adaptive_fps: z.boolean().default(true),
  })
  .strict();

const cameraLineRef = z.object({ camera: cameraId, line: z.string().min(1) }).strict();
const cameraZoneRef = z.object({ camera: cameraId, zone: z.string().min(1) }).strict();

const kpiSchema = z
  .object({
    /** Local opening time: occupancy restarts from 0 there each day. */
    opening_time: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM (24 h)')
      .default('08:00'),
    /**
     * Lines (camera + line), door counters (sensor id) and floor-plan lines (plan_line: a plan.lines
     * name, counted once over all cameras) whose crossings are the store's traffic.
     */
    entrances: z.array(z.union([cameraLineRef, z.object({ sensor: z.string().min(1) }).strict(), z.object({ plan_line: z.string().min(1) }).strict()])).default([]),
    /** A line on the pavement outside the entrance: passers-by for the capture rate. */
    outside_line: cameraLineRef.optional(),
    engaged_dwell_s: z.number().positive().default(30),
    bounce_s: z.number().positive().default(10),
    queue_zones: z.array(cameraZoneRef).default([]),
  })
  .strict();

const storageSchema = z
  .object({
    retention_days: z
      .object({ events: z.number().positive().default(90), aggregates: z.number().positive().default(1095) })
      .strict()
      .default({ events: 90, aggregates: 1095 }),
    /** Most space the database may use; over it the oldest raw events go first, undelivered data last. */
    quota_mb: z.number().min(16).default(2048),
  })
  .strict();

const mqttUpstreamSchema = z
  .object({
    url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'must start with mqtt://, mqtts://, ws:// or wss://'),
    client_id: z.string().min(1).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    /** PEM file of the CA that signed the broker's certificate (self-hosted brokers). */
    ca: z.string().optional(),
    /** Client certificate authentication: PEM certificate and key files. */
    cert: z.string().optional(),
    key: z.string().optional(),
    protocol: z.enum(['auto', '5', '3.1.1']).default('auto'),
    topic_root: z
      .string()
      .regex(/^[^#+]+$/, 'no MQTT wildcards')
      .default('storepulse'),
    keepalive_s: z.number().int().min(5).default(30),
    connect_timeout_s: z.number().positive().default(10),
    reconnect: z
      .object({ initial_s: z.number().positive().default(1), max_s: z.number().positive().default(30) })
      .strict()
      .default({ initial_s: 1, max_s: 30 }),
    /** Messages in flight before an acknowledgement is awaited. */
    window: z.number().int().min(1).max(65535).default(256),
  })
  .strict()
  .refine((m) => (m.cert === undefined) === (m.key === undefined), { message: 'cert and key go together', path: ['cert'] });

const apiSchema = z
  .object({
    /** Bearer tokens for the REST API (use ${ENV} for the values). Without any, a token is generated in data_dir/api-token. */
    tokens: z.array(z.object({ name: z.string().min(1), token: z.string().min(16, 'at least 16 characters') }).strict()).default([]),
  })
  .strict();

/**
 * TLS for the web UI, the REST API (HTTPS on http.port) and the embedded sensor broker (MQTTS).
 * self-signed: a key and certificate made on first start in data_dir/tls/ and kept; files: the
 * installer's PEM files; off: plain HTTP and MQTT (only when written explicitly). Takes effect after
 * a restart.
 */
export const tlsSchema = z
  .object({
    mode: z.enum(['self-signed', 'files', 'off']).default('self-signed'),
    /** PEM certificate (a chain: server certificate first) and its unencrypted PEM key, for mode files. */
    cert_file: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((tls, ctx) => {
    for (const key of ['cert_file', 'key_file'] as const) {
      if (tls.mode === 'files' && tls[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'required with mode: files' });
      if (tls.mode !== 'files' && tls[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only used with mode: files' });
    }
  });

export const gatewayConfigSchema = z
  .object({
    store_id: cameraId.default('store'),
    gateway_id: cameraId.default('gateway'),
    data_dir: z.string().min(1).default('./data'),
    http: z
      .object({ host: z.string().default('0.0.0.0'), port: z.number().int().min(0).max(65535).default(8080) })
      .strict()
      .default({ host: '0.0.0.0', port: 8080 }),
    tls: tlsSchema.default({ mode: 'self-signed' }),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    detector: detectorSchema.default(detectorSchema.parse({})),
    cameras: z.array(cameraSchema).default([]),
    /** The store's IANA time zone: days, hours and opening time are local to the store. */
    timezone: z
      .string()
      .refine(isValidTimeZone, 'not an IANA time zone such as Europe/Paris')
      .default(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
    kpi: kpiSchema.default(kpiSchema.parse({})),
    storage: storageSchema.default(storageSchema.parse({})),
    upstream: z.object({ mqtt: mqttUpstreamSchema.optional() }).strict().default({}),
    api: apiSchema.default({ tokens: [] }),
    sensors: sensorsSchema.default(sensorsSchema.parse({})),
    /** The store's floor plan for calibrated heatmaps: its size, and an image uploaded in the web UI. */
    floor_plan: z
      .object({ width_m: z.number().positive().max(1000), height_m: z.number().positive().max(1000), image: z.string().regex(/^[\w.-]+\.(png|jpg|jpeg)$/).optional() })
      .strict()
      .optional(),
    /** Store-level lines and zones in plan metres, counted once over all calibrated cameras (src/fusion). */
    plan: planSchema.optional(),
    /** Customer journeys over the plan zones: transition matrix, top paths, funnel, buying units (docs/journeys.md). */
    journeys: journeysSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.cameras.forEach((camera, i) => {
      if (seen.has(camera.id)) ctx.addIssue({ code: 'custom', path: ['cameras', i, 'id'], message: `duplicate camera id "${camera.id}"` });
      seen.add(camera.id);
    });
    checkSceneRefs(config, ctx);
    checkPlanAgainstStore(config, ctx);
    checkJourneysAgainstPlan(config, ctx);
  });

/** KPI settings must name lines and zones that exist, or the store's traffic would silently be 0. */
function checkSceneRefs(
  config: { cameras: { id: string; lines: { name: string }[]; zones: { name: string }[] }[]; kpi: z.infer<typeof kpiSchema>; sensors: z.infer<typeof sensorsSchema>; plan?: { lines: { name: string }[] } },
  ctx: z.RefinementCtx,
): void {
  const cameras = new Map(config.cameras.map((c) => [c.id, c]));
  const check = (ref: { camera: string; line?: string; zone?: string }, path: (string | number)[]): void => {
    const camera = cameras.get(ref.camera);
    if (!camera) return ctx.addIssue({ code: 'custom', path: [...path, 'camera'], message: `no camera "${ref.camera}"` });
    if (ref.line !== undefined && !camera.lines.some((l) => l.name === ref.line)) ctx.addIssue({ code: 'custom', path: [...path, 'line'], message: `camera "${ref.camera}" has no line "${ref.line}"` });
    if (ref.zone !== undefined && !camera.zones.some((z) => z.name === ref.zone)) ctx.addIssue({ code: 'custom', path: [...path, 'zone'], message: `camera "${ref.camera}" has no zone "${ref.zone}"` });
  };
  const doorCounters = new Set(config.sensors.mqtt.filter((s) => s.profile === 'door_counter').map((s) => s.id));
  const planLines = new Set(config.plan?.lines.map((l) => l.name) ?? []);
  config.kpi.entrances.forEach((e, i) => {
    if ('camera' in e) check(e, ['kpi', 'entrances', i]);
    else if ('plan_line' in e) {
      if (!planLines.has(e.plan_line)) ctx.addIssue({ code: 'custom', path: ['kpi', 'entrances', i, 'plan_line'], message: `no line "${e.plan_line}" in plan.lines` });
    } else if (!doorCounters.has(e.sensor)) ctx.addIssue({ code: 'custom', path: ['kpi', 'entrances', i, 'sensor'], message: `no door_counter sensor "${e.sensor}" in sensors.mqtt` });
  });
  if (config.kpi.outside_line) check(config.kpi.outside_line, ['kpi', 'outside_line']);
  config.kpi.queue_zones.forEach((q, i) => check(q, ['kpi', 'queue_zones', i]));
}

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type CameraConfig = GatewayConfig['cameras'][number];
export type SourceConfig = CameraConfig['source'];
export type MotionConfig = CameraConfig['motion'];
export type TlsConfig = GatewayConfig['tls'];
export type KpiConfig = GatewayConfig['kpi'];
export type MqttUpstreamConfig = NonNullable<GatewayConfig['upstream']['mqtt']>;
