/** Detection accuracy against ground truth: AP at an IoU threshold (all-point interpolation, as in VOC 2010+ / COCO per-threshold). */
import { iou, type Detection } from '../detection.js';

export interface FrameEvaluation {
  groundTruth: Detection[];
  detections: Detection[];
}

export interface ApResult {
  ap: number;
  groundTruthCount: number;
  detectionCount: number;
  /** Precision and recall of the detections at or above `atScore`. */
  precision: number;
  recall: number;
}

export function averagePrecision(frames: FrameEvaluation[], iouThreshold = 0.5, atScore = 0.5): ApResult {
  const scored: { score: number; correct: boolean }[] = [];
  let groundTruthCount = 0;
  for (const frame of frames) {
    groundTruthCount += frame.groundTruth.length;
    const taken = new Array<boolean>(frame.groundTruth.length).fill(false);
    for (const det of [...frame.detections].sort((a, b) => b.score - a.score)) {
      let best = -1;
      let bestIou = iouThreshold;
      frame.groundTruth.forEach((gt, k) => {
        const overlap = iou(det, gt);
        if (!taken[k] && overlap >= bestIou) {
          best = k;
          bestIou = overlap;
        }
      });
      if (best >= 0) taken[best] = true;
      scored.push({ score: det.score, correct: best >= 0 });
    }
  }
  scored.sort((a, b) => b.score - a.score);
  const precisions: number[] = [];
  const recalls: number[] = [];
  let tp = 0;
  scored.forEach((s, i) => {
    if (s.correct) tp += 1;
    precisions.push(tp / (i + 1));
    recalls.push(groundTruthCount ? tp / groundTruthCount : 0);
  });
  // Precision envelope (monotonically non-increasing from the right), integrated over recall steps.
  for (let i = precisions.length - 2; i >= 0; i--) precisions[i] = Math.max(precisions[i] as number, precisions[i + 1] as number);
  let ap = 0;
  let previousRecall = 0;
  recalls.forEach((r, i) => {
    ap += (r - previousRecall) * (precisions[i] as number);
    previousRecall = r;
  });
  const atThreshold = scored.filter((s) => s.score >= atScore);
  const tpAt = atThreshold.filter((s) => s.correct).length;
  return {
    ap,
    groundTruthCount,
    detectionCount: scored.length,
    precision: atThreshold.length ? tpAt / atThreshold.length : 0,
    recall: groundTruthCount ? tpAt / groundTruthCount : 0,
  };
}
