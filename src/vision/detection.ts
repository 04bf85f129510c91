/** A person box in source-image pixels. */
export interface Detection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  /** Colour signature of the box (tracking/appearance.ts), when the frame was at hand; never stored or sent. */
  appearance?: Float32Array;
}

/** Decoded RGB24 frame (interleaved, row-major) with its capture time. */
export interface RgbFrame {
  index: number;
  width: number;
  height: number;
  data: Uint8Array;
  /** Capture/presentation time in milliseconds (video timestamps, not frame counts). */
  timestampMs: number;
}

export function iou(a: Detection, b: Detection): number {
  const ix = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const iy = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = ix * iy;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}
