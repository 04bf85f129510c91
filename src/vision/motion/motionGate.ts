/**
 * Decides whether a frame is worth the detector's time. The frame is reduced to a small grey
 * thumbnail (block means, so sensor noise and compression artefacts average out) and compared with
 * the thumbnail of the frame the detector last saw — not the previous frame — so slow movement
 * accumulates until it is noticed. A detection is forced at least every `forceDetectMs` so people
 * standing still keep being confirmed. Pure: no I/O, timestamps from the frames.
 */
import type { RgbFrame } from '../detection.js';

export interface MotionGateOptions {
  enabled: boolean;
  /** Grey-level change (0–255) for a thumbnail cell to count as changed. */
  pixelThreshold: number;
  /** Fraction of cells that must change before the detector runs. */
  minChangedFraction: number;
  forceDetectMs: number;
  /** Thumbnail width in cells (height follows the aspect ratio). */
  gridWidth?: number;
}

export type GateReason = 'first' | 'motion' | 'forced' | 'still' | 'disabled';

export interface GateDecision {
  detect: boolean;
  reason: GateReason;
  changedFraction: number;
}

const DEFAULT_GRID_WIDTH = 64;
/** Pixels sampled per block side: every 2nd pixel is plenty for a block mean and halves the reads. */
const SAMPLE_STEP = 2;

/** Grey block means of the frame on a gridWidth-wide grid (Rec. 601 luma weights, integer maths). */
export function greyThumbnail(frame: Pick<RgbFrame, 'width' | 'height' | 'data'>, gridWidth: number): { cells: Uint8Array; gridWidth: number; gridHeight: number } {
  const gw = Math.min(gridWidth, frame.width);
  const gh = Math.max(1, Math.min(frame.height, Math.round((gw * frame.height) / frame.width)));
  const cells = new Uint8Array(gw * gh);
  const { width, data } = frame;
  for (let gy = 0; gy < gh; gy++) {
    const y0 = Math.floor((gy * frame.height) / gh);
    const y1 = Math.floor(((gy + 1) * frame.height) / gh);
    for (let gx = 0; gx < gw; gx++) {
      const x0 = Math.floor((gx * width) / gw);
      const x1 = Math.floor(((gx + 1) * width) / gw);
      let sum = 0;
      let n = 0;
      for (let y = y0; y < y1; y += SAMPLE_STEP) {
        for (let x = x0, p = (y * width + x0) * 3; x < x1; x += SAMPLE_STEP, p += 3 * SAMPLE_STEP) {
          sum += 77 * (data[p] as number) + 150 * (data[p + 1] as number) + 29 * (data[p + 2] as number);
          n += 1;
        }
      }
      cells[gy * gw + gx] = n ? sum / n / 256 : 0;
    }
  }
  return { cells, gridWidth: gw, gridHeight: gh };
}

export class MotionGate {
  private reference: Uint8Array | undefined;
  private lastDetectMs = -Infinity;
  private readonly gridWidth: number;
  /**
   * The thumbnail `check` made last, and of which frame: `detected` is usually called with that same
   * frame, and reusing it halves the gate's cost on a busy scene (every frame is both checked and detected).
   */
  private lastThumbnail: { frame: RgbFrame; cells: Uint8Array } | undefined;

  constructor(private readonly options: MotionGateOptions) {
    this.gridWidth = options.gridWidth ?? DEFAULT_GRID_WIDTH;
  }

  /** Whether to run the detector on this frame. Does not change the reference (see `detected`). */
  check(frame: RgbFrame): GateDecision {
    if (!this.options.enabled) return { detect: true, reason: 'disabled', changedFraction: 1 };
    const { cells } = greyThumbnail(frame, this.gridWidth);
    this.lastThumbnail = { frame, cells };
    const reference = this.reference;
    if (!reference || reference.length !== cells.length) return { detect: true, reason: 'first', changedFraction: 1 };
    let changed = 0;
    for (let i = 0; i < cells.length; i++) {
      if (Math.abs((cells[i] as number) - (reference[i] as number)) > this.options.pixelThreshold) changed += 1;
    }
    const changedFraction = changed / cells.length;
    if (changedFraction >= this.options.minChangedFraction) return { detect: true, reason: 'motion', changedFraction };
    if (frame.timestampMs - this.lastDetectMs >= this.options.forceDetectMs) return { detect: true, reason: 'forced', changedFraction };
    return { detect: false, reason: 'still', changedFraction };
  }

  /** The detector ran on this frame: later frames are compared with it. */
  detected(frame: RgbFrame): void {
    this.lastDetectMs = frame.timestampMs;
    if (!this.options.enabled) return;
    const cached = this.lastThumbnail;
    this.lastThumbnail = undefined;
    // Same frame object and same pixels buffer: a frame whose buffer went to a worker is not this one.
    this.reference = cached && cached.frame === frame && cached.frame.data === frame.data ? cached.cells : greyThumbnail(frame, this.gridWidth).cells;
  }
}
