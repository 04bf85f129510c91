import type { Detection } from '../detection.js';
import { iou } from '../detection.js';

/** Greedy non-maximum suppression: keeps the best box of every cluster overlapping above `iouThreshold`. */
export function nonMaxSuppression(candidates: Detection[], iouThreshold: number, maxDetections: number): Detection[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const c of sorted) {
    if (kept.length >= maxDetections) break;
    if (kept.every((k) => iou(k, c) <= iouThreshold)) kept.push(c);
  }
  return kept;
}
