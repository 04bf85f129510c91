/**
 * The live view's pictures: the newest processed frame of each camera, kept in memory only while
 * someone is watching (a request in the last few seconds), and encoded to JPEG on request with
 * people pixelated. Frames are never written to disk.
 *
 * Privacy modes: `privacy` (default, any role) pixelates the whole frame in small blocks and the
 * tracked people in large ones, so a person the detector missed is not recognisable either;
 * `people` (installers) pixelates only the tracked people, for placing lines precisely.
 */
import sharp from 'sharp';
import type { RgbFrame } from '../vision/detection.js';
import type { Track } from '../vision/tracking/byteTracker.js';

const WATCH_MS = 5_000;
const SCENE_BLOCK = 4;
const PERSON_BLOCK = 16;

export type PixelateMode = 'privacy' | 'people';

export interface LiveTrack {
  id: number;
  /** Normalised 0–1 box. */
  box: [number, number, number, number];
  confirmed: boolean;
}

interface Latest {
  rgb: Buffer | undefined;
  width: number;
  height: number;
  ts: number;
  tracks: LiveTrack[];
}

export class LiveFrames {
  private readonly latest = new Map<string, Latest>();
  private readonly watchedUntil = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /** Called by the pipeline for every processed frame; copies the pixels only while watched. */
  update(camera: string, frame: RgbFrame, tracks: readonly Track[]): void {
    const watched = (this.watchedUntil.get(camera) ?? 0) > this.now();
    const live: LiveTrack[] = tracks.map((t) => ({
      id: t.id,
      box: [t.box.x1 / frame.width, t.box.y1 / frame.height, t.box.x2 / frame.width, t.box.y2 / frame.height].map((v) => Math.round(Math.min(1, Math.max(0, v)) * 1e4) / 1e4) as LiveTrack['box'],
      confirmed: t.state === 'confirmed',
    }));
    this.latest.set(camera, { rgb: watched ? Buffer.from(frame.data) : undefined, width: frame.width, height: frame.height, ts: frame.timestampMs, tracks: live });
  }

  tracks(camera: string): { ts: number; tracks: LiveTrack[] } | undefined {
    const l = this.latest.get(camera);
    return l && { ts: l.ts, tracks: l.tracks };
  }

  /** The newest frame as JPEG, or undefined until one arrives after the first request. */
  async jpeg(camera: string, mode: PixelateMode): Promise<Buffer | undefined> {
    this.watchedUntil.set(camera, this.now() + WATCH_MS);
    const l = this.latest.get(camera);
    if (!l?.rgb) return undefined;
    const pixels = Buffer.from(l.rgb);
    if (mode === 'privacy') pixelate(pixels, l.width, l.height, [0, 0, l.width, l.height], SCENE_BLOCK);
    for (const t of l.tracks) {
      const [x1, y1, x2, y2] = t.box;
      // A margin: boxes are estimates, and hair or a raised arm sticks out.
      const mx = (x2 - x1) * 0.15;
      const my = (y2 - y1) * 0.1;
      pixelate(pixels, l.width, l.height, [(x1 - mx) * l.width, (y1 - my) * l.height, (x2 + mx) * l.width, (y2 + my) * l.height], PERSON_BLOCK);
    }
    return sharp(pixels, { raw: { width: l.width, height: l.height, channels: 3 } }).jpeg({ quality: 70 }).toBuffer();
  }
}

/** Replaces each block inside the rectangle by its mean colour, in place. */
export function pixelate(rgb: Buffer, width: number, height: number, rect: [number, number, number, number], block: number): void {
  const x0 = Math.max(0, Math.floor(rect[0]));
  const y0 = Math.max(0, Math.floor(rect[1]));
  const x1 = Math.min(width, Math.ceil(rect[2]));
  const y1 = Math.min(height, Math.ceil(rect[3]));
  for (let by = y0; by < y1; by += block) {
    for (let bx = x0; bx < x1; bx += block) {
      const ex = Math.min(x1, bx + block);
      const ey = Math.min(y1, by + block);
      let r = 0;
      let g = 0;
      let b = 0;
      const n = (ex - bx) * (ey - by);
      for (let y = by; y < ey; y++) {
        for (let x = bx; x < ex; x++) {
          const i = (y * width + x) * 3;
          r += rgb[i]!;
          g += rgb[i + 1]!;
          b += rgb[i + 2]!;
        }
      }
      r = Math.round(r / n);
      g = Math.round(g / n);
      b = Math.round(b / n);
      for (let y = by; y < ey; y++) {
        for (let x = bx; x < ex; x++) {
          const i = (y * width + x) * 3;
          rgb[i] = r;
          rgb[i + 1] = g;
          rgb[i + 2] = b;
        }
      }
    }
  }
}
