/**
 * Scores the pipeline on an annotated sequence: detector AP50, tracking (CLEAR-MOT, IDF1) and the
 * scene's counts against the counts of the annotated trajectories.
 *
 * The detector runs once per frame and its output is recorded; every segment (whole, tuning half,
 * held-out half) then replays those detections through the same `analyzeFrames` loop that
 * `storepulse analyze` runs, with a fresh tracker, as if the video started at the segment's first
 * frame. Tracking is deterministic given the detections, so this is the real pipeline, minus
 * running the network again for each segment.
 */
import { readFile } from 'node:fs/promises';
import type { Point } from '../geometry.js';
import { iou, type Detection, type RgbFrame } from '../detection.js';
import { FootPointEstimator } from '../analytics/footPoints.js';
import { footPoint, SceneAnalytics, type SceneSummary } from '../analytics/sceneAnalytics.js';
import { sourceSizeOf } from '../detector/sourceScale.js';
import { analyzeFrames, withSourceAppearance, type FrameDetector } from '../pipeline/offlineAnalysis.js';
import type { Scene } from '../scene.js';
import { decodeSignature, encodeSignature } from '../tracking/appearance.js';
import type { FrameTracker, TrackedBox } from '../tracking/frameTracker.js';
import { averagePrecision, type ApResult } from './averagePrecision.js';
import { compareCounts, type CountComparison } from './countComparison.js';
import type { GroundTruth } from './groundTruth.js';
import { evaluateTracking, type IdBox, type TrackingMetrics } from './motMetrics.js';

export interface RecordedFrame {
  /** 0-based frame index in the source video (differs from the decoded index when resampled). */
  videoFrame: number;
  timestampMs: number;
  detections: Detection[];
}

export interface DetectionRecording {
  /** The source video's size: boxes are in these pixels, whatever size the frames were decoded at. */
  width: number;
  height: number;
  /**
   * The size the frames were decoded at, as the detector received them: the source's size for a
   * full decode, the detector's input for the gateway's decode. Absent in older recordings.
   */
  decoded?: { width: number; height: number };
  frames: RecordedFrame[];
  /** Wall time of decoding + detection per frame. */
  detectMsPerFrame: number;
}

/**
 * Runs the detector over every frame once. `videoFrameOf` maps a decoded frame to its source frame.
 * Frames decoded smaller than their source (ScaledFrame) are detected as they are, boxes in source
 * pixels; the recording keeps both sizes.
 */
export async function recordDetections(
  frames: AsyncIterable<RgbFrame>,
  detector: FrameDetector,
  videoFrameOf: (frame: RgbFrame) => number = (f) => f.index,
): Promise<DetectionRecording> {
  const recorded: RecordedFrame[] = [];
  let source = { width: 0, height: 0 };
  let decoded = { width: 0, height: 0 };
  const t0 = performance.now();
  for await (const frame of frames) {
    source = sourceSizeOf(frame);
    decoded = { width: frame.width, height: frame.height };
    // Colour signatures are taken now, while the pixels are here: the replays have none.
    const detections = withSourceAppearance(frame, await detector.detect(frame));
    recorded.push({ videoFrame: videoFrameOf(frame), timestampMs: frame.timestampMs, detections });
  }
  if (recorded.length === 0) throw new Error('no frames decoded');
  return { ...source, decoded, frames: recorded, detectMsPerFrame: (performance.now() - t0) / recorded.length };
}

export class RecordingError extends Error {}

/** Reads a recording written by `storepulse eval --save-detections`. */
export async function readDetectionRecording(file: string): Promise<DetectionRecording> {
  let parsed: DetectionRecording;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as DetectionRecording;
  } catch (err) {
    throw new RecordingError(`cannot read detections ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!Array.isArray(parsed.frames) || !(parsed.width > 0) || !(parsed.height > 0)) {
    throw new RecordingError(`${file} is not a detections file written by storepulse eval --save-detections`);
  }
  if (parsed.decoded !== undefined && !(parsed.decoded.width > 0 && parsed.decoded.height > 0)) {
    throw new RecordingError(`${file}: "decoded" must give the decoded frame size as {"width", "height"}`);
  }
  for (const frame of parsed.frames) {
    if (!Array.isArray(frame.detections)) throw new RecordingError(`${file}: frame ${frame.videoFrame} has no detections list`);
    frame.detections = frame.detections.map((d) => {
      const { appearance, ...box } = d as Detection & { appearance?: unknown };
      const signature = decodeSignature(appearance);
      return signature ? { ...box, appearance: signature } : box;
    });
  }
  return parsed;
}

/** The recording as JSON for `--save-detections`, colour signatures as base64 bytes. */
export function serializeRecording(recording: DetectionRecording): string {
  return JSON.stringify(recording, (key, value: unknown) => (key === 'appearance' && value instanceof Float32Array ? encodeSignature(value) : value));
}

export interface FrameBoxes {
  timestampMs: number;
  boxes: readonly TrackedBox[];
}

/**
 * Lines and zones over id'd boxes (annotations or any tracker's output), with storepulse's counters.
 * `smoothFeet` applies the pipeline's foot-point estimate (hidden feet, smoothing), as analyze and the gateway do to a
 * tracker's boxes; annotations are smooth already and are counted as they are.
 */
export function countScene(scene: Scene, frames: readonly FrameBoxes[], width: number, height: number, smoothFeet = false): SceneSummary {
  const analytics = new SceneAnalytics(scene, width, height);
  const feet = smoothFeet ? new FootPointEstimator() : undefined;
  for (const f of frames) {
    const points = feet ? feet.estimate(f.boxes, width, height, f.timestampMs) : f.boxes.map((b) => footPoint(b, width, height));
    analytics.update(points, f.timestampMs);
  }
  analytics.finish();
  return analytics.summary();
}

export interface SegmentRange {
  name: string;
  /** Inclusive video frame indices. */
  from: number;
  to: number;
}

export interface TrackedSegment {
  range: SegmentRange;
  frames: RecordedFrame[];
  tracks: TrackedBox[][];
  summary: SceneSummary;
  /** Tracking + analytics time per frame (the detector is not included). */
  trackingMsPerFrame: number;
}

/** Replays a segment's recorded detections through analyzeFrames with a fresh tracker. */
export async function trackSegment(
  recording: DetectionRecording,
  range: SegmentRange,
  scene: Scene,
  tracker: FrameTracker,
): Promise<TrackedSegment> {
  const frames = recording.frames.filter((f) => f.videoFrame >= range.from && f.videoFrame <= range.to);
  if (frames.length === 0) throw new Error(`segment ${range.name} (${range.from}–${range.to}) has no frames`);
  const empty = new Uint8Array(0);
  async function* replayFrames(): AsyncGenerator<RgbFrame> {
    for (const [index, f] of frames.entries()) yield { index, width: recording.width, height: recording.height, data: empty, timestampMs: f.timestampMs };
  }
  const replayDetector: FrameDetector = { detect: (frame) => Promise.resolve((frames[frame.index] as RecordedFrame).detections) };
  const tracks: TrackedBox[][] = [];
  let trackingMs = 0;
  const result = await analyzeFrames(replayFrames(), scene, replayDetector, tracker, {
    onTracks: (_frame, t) => tracks.push(t.map((x) => ({ id: x.id, box: { ...x.box } }))),
    onAnalyticsTime: (ms) => (trackingMs += ms),
  });
  return { range, frames, tracks, summary: result.summary, trackingMsPerFrame: trackingMs / frames.length };
}

export interface SegmentReport {
  name: string;
  from: number;
  to: number;
  frames: number;
  detection: ApResult;
  tracking: TrackingMetrics;
  counts: CountComparison;
  /** Counts over the random lines and zones, when a random scene was given. */
  randomCounts?: CountComparison;
  trackingMsPerFrame: number;
}

/** Every annotated person (ignored ones included: they are there), for the truth of lines and zones. */
export function groundTruthFrames(gt: GroundTruth, frames: readonly RecordedFrame[]): FrameBoxes[] {
  return frames.map((f) => ({
    timestampMs: f.timestampMs,
    boxes: [...(gt.byVideoFrame.get(f.videoFrame) ?? []), ...(gt.ignoredByVideoFrame.get(f.videoFrame) ?? [])],
  }));
}

/**
 * Removes boxes that cover a person marked "not to be considered" (IoU ≥ threshold) unless they
 * cover a scored person better — the MOT Challenge's preprocessing before CLEAR-MOT.
 */
export function withoutIgnored<T extends { box: Detection }>(boxes: readonly T[], scored: readonly IdBox[], ignored: readonly IdBox[], threshold = 0.5): T[] {
  if (ignored.length === 0) return [...boxes];
  return boxes.filter((b) => {
    const bestIgnored = Math.max(...ignored.map((g) => iou(b.box, g.box)));
    const bestScored = scored.length ? Math.max(...scored.map((g) => iou(b.box, g.box))) : 0;
    return bestIgnored < threshold || bestScored >= bestIgnored;
  });
}

export function scoreSegment(
  recording: DetectionRecording,
  gt: GroundTruth,
  segment: TrackedSegment,
  scene: Scene,
  randomScene?: Scene,
): SegmentReport {
  const { width, height } = recording;
  const truthFrames = groundTruthFrames(gt, segment.frames);
  const trackFrames = segment.frames.map((f, i) => ({ timestampMs: f.timestampMs, boxes: segment.tracks[i] ?? [] }));
  const scored = segment.frames.map((f) => gt.byVideoFrame.get(f.videoFrame) ?? []);
  const ignored = segment.frames.map((f) => gt.ignoredByVideoFrame.get(f.videoFrame) ?? []);
  const detection = averagePrecision(
    segment.frames.map((f, i) => ({
      groundTruth: (scored[i] as IdBox[]).map((b) => b.box),
      detections: withoutIgnored(f.detections.map((box) => ({ box })), scored[i] as IdBox[], ignored[i] as IdBox[]).map((d) => d.box),
    })),
    0.5,
  );
  const tracking = evaluateTracking(
    segment.frames.map((_, i) => ({ gt: scored[i] as IdBox[], hyp: withoutIgnored(segment.tracks[i] ?? [], scored[i] as IdBox[], ignored[i] as IdBox[]) })),
  );
  const counts = compareCounts(countScene(scene, truthFrames, width, height), segment.summary);
  const randomCounts = randomScene
    ? compareCounts(countScene(randomScene, truthFrames, width, height), countScene(randomScene, trackFrames, width, height, true))
    : undefined;
  return {
    name: segment.range.name,
    from: segment.range.from,
    to: segment.range.to,
    frames: segment.frames.length,
    detection,
    tracking,
    counts,
    ...(randomCounts ? { randomCounts } : {}),
    trackingMsPerFrame: segment.trackingMsPerFrame,
  };
}

/** Normalised foot points of the annotated people (every `step`-th frame): where people walk. */
export function walkableFootPoints(gt: GroundTruth, width: number, height: number, step = 5): Point[] {
  const points: Point[] = [];
  for (const [frame, boxes] of gt.byVideoFrame) {
    if (frame % step !== 0) continue;
    for (const b of boxes) points.push(footPoint(b, width, height));
  }
  return points;
}

/** Whole sequence, tuning half and held-out half (split at the middle frame). */
export function standardSegments(lastVideoFrame: number): SegmentRange[] {
  const middle = Math.ceil((lastVideoFrame + 1) / 2);
  return [
    { name: 'whole', from: 0, to: lastVideoFrame },
    { name: 'tuning', from: 0, to: middle - 1 },
    { name: 'held-out', from: middle, to: lastVideoFrame },
  ];
}
