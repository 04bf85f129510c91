/**
 * decode → detect → track → analytics over a whole video or stream, for `storepulse analyze`
 * and the pipeline benchmark. The detector, tracker and scene are passed in.
 */
import type { AnalyticsEvent } from '../analytics/trackPoint.js';
import { FootPointEstimator } from '../analytics/footPoints.js';
import { SceneAnalytics, type SceneSummary } from '../analytics/sceneAnalytics.js';
import type { Detection, RgbFrame } from '../detection.js';
import { sourceSizeOf, toFramePixels } from '../detector/sourceScale.js';
import { withAppearance } from '../tracking/appearance.js';
import { readAhead } from '../readAhead.js';
import type { Scene } from '../scene.js';
import type { FrameTracker, TrackedBox } from '../tracking/frameTracker.js';

export interface FrameDetector {
  /** Boxes in source pixels: the frame's own, or its source's for a scaled frame (detector/sourceScale.ts). */
  detect(frame: RgbFrame): Promise<Detection[]>;
}

/**
 * Adds colour signatures from the frame's pixels to detections given in source pixels. For a frame
 * decoded smaller than its source the boxes are sampled where they fall in the frame's pixels; the
 * detections keep their source coordinates.
 */
export function withSourceAppearance(frame: RgbFrame, detections: readonly Detection[]): Detection[] {
  const source = sourceSizeOf(frame);
  if (source.width === frame.width && source.height === frame.height) return withAppearance(frame, detections);
  const sampled = withAppearance(frame, toFramePixels(frame, detections));
  return detections.map((d, i) => {
    const appearance = sampled[i]?.appearance;
    return appearance && !d.appearance ? { ...d, appearance } : d;
  });
}

export interface AnalysisResult {
  frames: number;
  durationS: number;
  fps: number;
  summary: SceneSummary;
  analytics: SceneAnalytics;
  frameWidth: number;
  frameHeight: number;
}

export interface AnalysisHooks {
  onEvent?: (event: AnalyticsEvent) => void;
  onTracks?: (frame: RgbFrame, tracks: TrackedBox[]) => void;
  /** Time spent in tracking + analytics per frame, for the benchmark. */
  onAnalyticsTime?: (ms: number) => void;
}

export async function analyzeFrames(
  frames: AsyncIterable<RgbFrame>,
  scene: Scene,
  detector: FrameDetector,
  tracker: FrameTracker,
  hooks: AnalysisHooks = {},
): Promise<AnalysisResult> {
  let analytics: SceneAnalytics | undefined;
  const feet = new FootPointEstimator();
  let count = 0;
  let firstMs = 0;
  let lastMs = 0;
  let size = { width: 0, height: 0 };
  // Three decoded frames of read-ahead (~1.3 MB each at 768x576, 0.5 MB at 416x416) keep ffmpeg
  // decoding during inference.
  for await (const frame of readAhead(frames, 3)) {
    // Tracking and analytics work in source pixels whatever size the frames were decoded at.
    const source = sourceSizeOf(frame);
    if (!analytics) {
      analytics = new SceneAnalytics(scene, source.width, source.height);
      firstMs = frame.timestampMs;
      size = { width: source.width, height: source.height };
    }
    const found = await detector.detect(frame);
    const t0 = performance.now();
    const tracks = tracker.update(withSourceAppearance(frame, found), frame.timestampMs, source);
    const points = feet.estimate(tracks, source.width, source.height, frame.timestampMs);
    const events = analytics.update(points, frame.timestampMs);
    hooks.onAnalyticsTime?.(performance.now() - t0);
    hooks.onTracks?.(frame, tracks);
    for (const e of events) hooks.onEvent?.(e);
    lastMs = frame.timestampMs;
    count += 1;
  }
  if (!analytics) throw new Error('no frames decoded');
  for (const e of analytics.finish()) hooks.onEvent?.(e);
  // The last frame stands for one frame interval of video.
  const interval = count > 1 ? (lastMs - firstMs) / (count - 1) : 0;
  const durationS = (lastMs - firstMs + interval) / 1000;
  return {
    frames: count,
    durationS,
    fps: durationS > 0 ? count / durationS : 0,
    summary: analytics.summary(),
    analytics,
    frameWidth: size.width,
    frameHeight: size.height,
  };
}
