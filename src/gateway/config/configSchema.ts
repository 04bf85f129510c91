/**
 * The gateway's one configuration schema. The TypeScript types are inferred from it, defaults live
 * here and nowhere else, and every problem is reported with its path (cameras.1.source.url: …).
 * Keys are snake_case because installers edit this file by hand.
 */
import { z } from 'zod';
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

const cameraSchema = z
  .object({
    id: cameraId,
    name: z.string().optional(),
    enabled: z.boolean().default(true),
    source: sourceSchema,
    /** Frames per second handed to the detector; the source's own rate is resampled. */
    fps: z.number().positive().max(30).default(5),
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
    lines: z.array(lineSchema).default([]),
    zones: z.array(zoneSchema).default([]),
  })
  .strict()
  .superRefine(checkUniqueNames);

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
  })
  .strict();

export const gatewayConfigSchema = z
  .object({
    store_id: cameraId.default('store'),
    gateway_id: cameraId.default('gateway'),
    data_dir: z.string().min(1).default('./data'),
    http: z
      .object({ host: z.string().default('0.0.0.0'), port: z.number().int().min(0).max(65535).default(8080) })
      .strict()
      .default({ host: '0.0.0.0', port: 8080 }),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    detector: detectorSchema.default(detectorSchema.parse({})),
    cameras: z.array(cameraSchema).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.cameras.forEach((camera, i) => {
      if (seen.has(camera.id)) ctx.addIssue({ code: 'custom', path: ['cameras', i, 'id'], message: `duplicate camera id "${camera.id}"` });
      seen.add(camera.id);
    });
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type CameraConfig = GatewayConfig['cameras'][number];
export type SourceConfig = CameraConfig['source'];
export type MotionConfig = CameraConfig['motion'];
