import { describe, expect, it } from 'vitest';
import { CountingLine } from '../../src/vision/analytics/countingLine.js';
import { FootPointEstimator } from '../../src/vision/analytics/footPoints.js';
import type { TrackedBox } from '../../src/vision/tracking/frameTracker.js';

const W = 1000;
const H = 1000;
/** Without smoothing, so each frame's estimate can be read directly. */
const unsmoothed = () => new FootPointEstimator({ smoothingMs: 0 });
const person = (id: number, top: number, bottom: number, x = 500): TrackedBox => ({ id, box: { x1: x - 20, y1: top, x2: x + 20, y2: bottom, score: 0.9 } });
/** Foot y in pixels of one track fed frame by frame at 10 fps. */
function footYs(estimator: FootPointEstimator, boxes: readonly TrackedBox[]): number[] {
  return boxes.map((b, f) => (estimator.estimate([b], W, H, f * 100)[0]?.y ?? NaN) * H);
}

describe('FootPointEstimator', () => {
  it('puts the feet of a person walking behind an occluder one body height below their head', () => {
    // Standing still, 200 px tall (top 300, feet 500); then the lower third is hidden for 5 frames.
    const boxes = [...Array.from({ length: 10 }, () => person(1, 300, 500)), ...Array.from({ length: 5 }, () => person(1, 302, 430)), person(1, 300, 500)];
    const ys = footYs(unsmoothed(), boxes);
    for (const y of ys.slice(10, 15)) expect(y).toBeCloseTo(502, 0);
    expect(ys[15]).toBeCloseTo(500, 0);
  });

  it('keeps the feet of a person crouching at a low shelf where they are', () => {
    // Same height loss as above, but from the top: the feet stay at 500.
    const boxes = [...Array.from({ length: 10 }, () => person(1, 300, 500)), ...Array.from({ length: 5 }, () => person(1, 370, 500))];
    for (const y of footYs(unsmoothed(), boxes)) expect(y).toBeCloseTo(500, 0);
  });

  it('never reads perspective as occlusion: a person walking away shrinks and keeps their own feet', () => {
    // 6 s walking up the image at 10 fps, the box shrinking from 240 to 120 px.
    const boxes = Array.from({ length: 60 }, (_, f) => {
      const height = 240 - 2 * f;
      const bottom = 900 - 6 * f;
      return person(1, bottom - height, bottom);
    });
    footYs(unsmoothed(), boxes).forEach((y, f) => expect(y).toBeCloseTo(900 - 6 * f, 6));
  });

  it('keeps each track to itself and passes whole boxes through unchanged', () => {
    const estimator = unsmoothed();
    estimator.estimate([person(1, 300, 500), person(2, 100, 200)], W, H, 0);
    const [a, b] = estimator.estimate([person(1, 300, 430), person(2, 100, 200, 700)], W, H, 100);
    expect(a).toEqual({ trackId: 1, x: 0.5, y: 0.5 });
    expect(b).toEqual({ trackId: 2, x: 0.7, y: 0.2 });
  });

  it('turns off with a ratio of 0', () => {
    const boxes = [...Array.from({ length: 10 }, () => person(1, 300, 500)), person(1, 300, 430)];
    expect(footYs(new FootPointEstimator({ smoothingMs: 0, occludedHeightRatio: 0 }), boxes).at(-1)).toBeCloseTo(430, 6);
  });

  it('counts a person stepping across a line and back while their feet are hidden, where the bare box bottom sees nothing', () => {
    // A horizontal line at y = 0.55. A person 300 px tall stands with their feet at 0.50; someone
    // stops in front of them and hides everything below 0.40 while they step down to 0.58 and back.
    const line = () => new CountingLine({ name: 'aisle', points: [[0.3, 0.55], [0.7, 0.55]], hysteresis: 0.02 });
    const withEstimate = line();
    const bare = line();
    const estimator = new FootPointEstimator();
    const feetPath = [...Array.from({ length: 10 }, () => 500), 510, 520, 530, 540, 550, 560, 570, 580, 580, 570, 560, 550, 540, 530, 520, 510];
    feetPath.forEach((feet, f) => {
      const hidden = f >= 10;
      const box = person(1, feet - 300, hidden ? 400 : feet);
      withEstimate.update(estimator.estimate([box], W, H, f * 100), f * 100);
      bare.update([{ trackId: 1, x: 0.5, y: box.box.y2 / H }], f * 100);
    });
    expect(withEstimate.counts).toEqual({ in: 1, out: 1 });
    expect(bare.counts).toEqual({ in: 0, out: 0 });
  });
});
