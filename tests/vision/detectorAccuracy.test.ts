/** AP50 of the default model on hand-checked person boxes of vtest.avi (tests/data/vtest-persons-gt.txt). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { PersonDetector } from '../../src/vision/detector/personDetector.js';
import { averagePrecision } from '../../src/vision/eval/averagePrecision.js';
import { motBoxToDetection, parseMot } from '../../src/vision/eval/motFormat.js';
import { hasVtest, vtestFrames } from '../helpers/fixtures.js';

describe('average precision', () => {
  const box = (x: number, score = 1) => ({ x1: x, y1: 0, x2: x + 10, y2: 10, score });
  it('is 1 for perfect detections and counts misses and false positives', () => {
    expect(averagePrecision([{ groundTruth: [box(0), box(20)], detections: [box(0, 0.9), box(20, 0.8)] }]).ap).toBeCloseTo(1);
    const r = averagePrecision([{ groundTruth: [box(0), box(20)], detections: [box(50, 0.9), box(0, 0.8)] }]);
    expect(r.ap).toBeCloseTo(0.25); // recall 0.5 reached at precision 0.5
    expect(r.recall).toBeCloseTo(0.5);
  });
});

describe.skipIf(!hasVtest)('default detector accuracy on real footage', () => {
  it('reaches AP50 ≥ 0.85 for persons', async () => {
    const gt = parseMot(readFileSync(path.join(PROJECT_ROOT, 'tests/data/vtest-persons-gt.txt'), 'utf8'));
    const indices = [...new Set(gt.map((b) => b.frame - 1))];
    const detector = await PersonDetector.create({ scoreThreshold: 0.05 });
    const evaluations = [];
    for (const frame of await vtestFrames(indices)) {
      const groundTruth = gt.filter((b) => b.frame - 1 === frame.index).map(motBoxToDetection);
      evaluations.push({ groundTruth, detections: await detector.detect(frame) });
    }
    await detector.close();
    const result = averagePrecision(evaluations, 0.5, 0.4);
    expect(result.groundTruthCount).toBe(31);
    expect(result.ap).toBeGreaterThanOrEqual(0.85);
  });
});
