/**
 * Time-weighted occupancy of foot points on a grid: each cell accumulates the person-seconds spent
 * in it. Exported as raw numbers (JSON) and as a transparent PNG overlay — no camera pixels, so the
 * overlay can be stored and shared without showing anyone.
 */
import sharp from 'sharp';
import type { TrackPoint } from './trackPoint.js';

/** A frame gap longer than this (decoder stall, camera outage) is not credited to whoever was last seen. */
const MAX_STEP_MS = 1000;

export interface HeatmapGrid {
  cols: number;
  rows: number;
  /** Person-seconds per cell, row-major from the top-left. */
  personSeconds: number[];
  totalPersonSeconds: number;
}

export class Heatmap {
  private readonly cells: Float64Array;
  private lastTimestampMs: number | undefined;

  constructor(
    readonly cols: number,
    readonly rows: number,
  ) {
    if (cols < 1 || rows < 1) throw new Error('heatmap grid needs at least one cell');
    this.cells = new Float64Array(cols * rows);
  }

  /** A grid of about `cols` columns with square cells for the given frame aspect. */
  static forFrame(width: number, height: number, cols = 64): Heatmap {
    return new Heatmap(cols, Math.max(1, Math.round((cols * height) / width)));
  }

  update(points: readonly TrackPoint[], timestampMs: number): void {
    const stepMs = this.lastTimestampMs === undefined ? 0 : Math.min(MAX_STEP_MS, Math.max(0, timestampMs - this.lastTimestampMs));
    this.lastTimestampMs = timestampMs;
    if (stepMs === 0) return;
    for (const p of points) {
      const c = Math.min(this.cols - 1, Math.max(0, Math.floor(p.x * this.cols)));
      const r = Math.min(this.rows - 1, Math.max(0, Math.floor(p.y * this.rows)));
      this.cells[r * this.cols + c] = (this.cells[r * this.cols + c] as number) + stepMs / 1000;
    }
  }

  toGrid(): HeatmapGrid {
    const personSeconds = Array.from(this.cells, (v) => Math.round(v * 1000) / 1000);
    return { cols: this.cols, rows: this.rows, personSeconds, totalPersonSeconds: Math.round(personSeconds.reduce((a, b) => a + b, 0) * 1000) / 1000 };
  }

  /** RGBA overlay of `width`×`height`: transparent where nobody stood, blue → red with rising time. */
  async toPng(width: number, height: number): Promise<Buffer> {
    const max = Math.max(...this.cells, 0);
    const rgba = new Uint8Array(this.cols * this.rows * 4);
    this.cells.forEach((v, i) => {
      if (v <= 0 || max <= 0) return;
      // Square root so that cells with little traffic stay visible next to a hot spot.
      const t = Math.sqrt(v / max);
      const [r, g, b] = heatColour(t);
      rgba.set([r, g, b, Math.round(80 + 150 * t)], i * 4);
    });
    return sharp(rgba, { raw: { width: this.cols, height: this.rows, channels: 4 } })
      .resize(width, height, { kernel: 'cubic', fit: 'fill' })
      .png()
      .toBuffer();
  }
}

/** 0 → blue, 0.5 → yellow, 1 → red. */
function heatColour(t: number): [number, number, number] {
  if (t < 0.5) {
    const k = t / 0.5;
    return [Math.round(255 * k), Math.round(255 * k), Math.round(255 * (1 - k))];
  }
  const k = (t - 0.5) / 0.5;
  return [255, Math.round(255 * (1 - k)), 0];
}
