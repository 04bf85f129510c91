import type { Detection } from '../detection.js';

/**
 * MOT Challenge text format: `frame,id,x,y,w,h,conf,class,visibility` (MOT16/17) or
 * `frame,id,x,y,w,h,conf,wx,wy,wz` (MOT15); frames 1-based, pixels.
 */
export interface MotBox {
  /** 1-based frame number, as in the file. */
  frame: number;
  id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  conf: number;
  classId: number;
  visibility: number;
}

/** A ground-truth box as a detection in pixels (score 1), for accuracy comparisons. */
export function motBoxToDetection(b: MotBox): Detection {
  return { x1: b.x, y1: b.y, x2: b.x + b.w, y2: b.y + b.h, score: 1 };
}

export function parseMot(text: string): MotBox[] {
  const boxes: MotBox[] = [];
  text.split('\n').forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const v = trimmed.split(',').map(Number);
    if (v.length < 6 || v.slice(0, 6).some((n) => !Number.isFinite(n))) throw new Error(`MOT line ${i + 1}: "${trimmed}" is not frame,id,x,y,w,h,…`);
    boxes.push({
      frame: v[0] as number, id: v[1] as number, x: v[2] as number, y: v[3] as number, w: v[4] as number, h: v[5] as number,
      // MOT15 rows have 10 columns whose last three are world coordinates, not class and visibility.
      conf: v[6] ?? 1, classId: v.length >= 10 ? -1 : v[7] ?? 1, visibility: v.length >= 10 ? 1 : v[8] ?? 1,
    });
  });
  return boxes;
}

export function formatMotLine(frame: number, id: number, x: number, y: number, w: number, h: number, score: number): string {
  const r = (n: number): string => (Math.round(n * 100) / 100).toString();
  return `${frame},${id},${r(x)},${r(y)},${r(w)},${r(h)},${r(score)},-1,-1,-1`;
}
