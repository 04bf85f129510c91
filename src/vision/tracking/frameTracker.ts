import type { Detection } from '../detection.js';

/** What analytics needs from a tracker's output: a stable id per track and its box in pixels. */
export interface TrackedBox {
  id: number;
  box: Detection;
}

/** Anything that turns a frame's detections into tracks (storepulse's tracker, or a baseline in a benchmark). */
export interface FrameTracker<T extends TrackedBox = TrackedBox> {
  /** `frame`: the image's size in pixels, when known (lets a tracker tell who is at the image's edge). */
  update(detections: Detection[], timestampMs: number, frame?: FrameSize): T[];
}

export interface FrameSize {
  width: number;
  height: number;
}
