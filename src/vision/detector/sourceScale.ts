/**
 * Frames decoded smaller than their source. Offline analysis can have ffmpeg scale frames to the
 * detector's input, as the gateway does (cheaper than decoding full size and resizing in sharp),
 * while its tracker, analytics and outputs stay in the source video's pixels: such a frame says
 * how big its source is, and the detector reports its boxes in source pixels.
 */
import type { Detection, RgbFrame } from '../detection.js';

export interface FrameSize {
  width: number;
  height: number;
}

export interface ScaledFrame extends RgbFrame {
  /** Size of the video the frame was scaled down from; `width` × `height` stay the pixels' own. */
  source: FrameSize;
}

export function isScaledFrame(frame: RgbFrame): frame is ScaledFrame {
  const source = (frame as Partial<ScaledFrame>).source;
  return source !== undefined && source.width > 0 && source.height > 0;
}

/** The size boxes are reported in: the source's for a scaled frame, else the frame's own. */
export function sourceSizeOf(frame: RgbFrame): FrameSize {
  return isScaledFrame(frame) ? frame.source : { width: frame.width, height: frame.height };
}

/** Source pixels per frame pixel, per axis (1 for a frame that is not scaled). */
export function sourceScaleOf(frame: RgbFrame): { x: number; y: number } {
  const source = sourceSizeOf(frame);
  return { x: source.width / frame.width, y: source.height / frame.height };
}

/** Boxes in source pixels → the same boxes in the frame's pixels (scores and signatures kept). */
export function toFramePixels(frame: RgbFrame, detections: readonly Detection[]): Detection[] {
  const { x, y } = sourceScaleOf(frame);
  if (x === 1 && y === 1) return [...detections];
  return detections.map((d) => ({ ...d, x1: d.x1 / x, y1: d.y1 / y, x2: d.x2 / x, y2: d.y2 / y }));
}
