/**
 * Turns ground-truth boxes into the kind of detections a real detector produces: position and
 * size jitter, misses (more when occluded), low scores for partly hidden people, merged boxes for
 * people walking close together, and false positives. Seeded, so every run sees the same noise.
 */
import type { Detection } from '../../src/vision/detection.js';
import { iou } from '../../src/vision/detection.js';
import type { MotBox } from '../../src/vision/eval/motFormat.js';

export { seededRandom } from '../../src/common/seededRandom.js';

export interface NoiseModel {
  jitter: number; // σ of position/size noise as a fraction of box size
  missVisible: number; // miss probability when visibility ≥ 0.5
  missOccluded: number; // … when 0.2 ≤ visibility < 0.5
  missHidden: number; // … when visibility < 0.2
  mergeProbability: number; // two overlapping people reported as one box
  falsePositivesPerFrame: number;
}

export const REALISTIC_NOISE: NoiseModel = {
  jitter: 0.04,
  missVisible: 0.05,
  missOccluded: 0.3,
  missHidden: 0.85,
  mergeProbability: 0.3,
  falsePositivesPerFrame: 0.3,
};

export function noisyDetections(gt: MotBox[], width: number, height: number, random: () => number, noise: NoiseModel = REALISTIC_NOISE): Detection[] {
  const gauss = (): number => {
    const u = Math.max(1e-9, random());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const detections: Detection[] = [];
  for (const b of gt) {
    const v = b.visibility;
    const miss = v >= 0.5 ? noise.missVisible : v >= 0.2 ? noise.missOccluded : noise.missHidden;
    if (random() < miss) continue;
    const w = b.w * (1 + noise.jitter * gauss());
    const h = b.h * (1 + noise.jitter * gauss());
    const cx = b.x + b.w / 2 + noise.jitter * b.w * gauss();
    const cy = b.y + b.h / 2 + noise.jitter * b.h * gauss();
    // Detector confidence rises with how much of the person is visible, with scatter.
    const score = Math.min(0.98, Math.max(0.05, 0.3 + 0.6 * v + 0.1 * gauss()));
    const d = { x1: Math.max(0, cx - w / 2), y1: Math.max(0, cy - h / 2), x2: Math.min(width, cx + w / 2), y2: Math.min(height, cy + h / 2), score };
    if (d.x2 - d.x1 > 2 && d.y2 - d.y1 > 2) detections.push(d);
  }
  // Groups: overlapping people sometimes come out as one box.
  const merged: Detection[] = [];
  const used = new Set<number>();
  detections.forEach((a, i) => {
    if (used.has(i)) return;
    const j = detections.findIndex((b, k) => k > i && !used.has(k) && iou(a, b) > 0.3);
    const b = detections[j];
    if (b && random() < noise.mergeProbability) {
      used.add(j);
      merged.push({ x1: Math.min(a.x1, b.x1), y1: Math.min(a.y1, b.y1), x2: Math.max(a.x2, b.x2), y2: Math.max(a.y2, b.y2), score: Math.max(a.score, b.score) });
    } else merged.push(a);
  });
  for (let n = noise.falsePositivesPerFrame; random() < n; n -= 1) {
    const w = 30 + 80 * random();
    const h = w * (2 + random());
    const x = random() * (width - w);
    const y = random() * (height - h);
    merged.push({ x1: x, y1: y, x2: x + w, y2: y + h, score: 0.3 + 0.35 * random() });
  }
  return merged;
}
