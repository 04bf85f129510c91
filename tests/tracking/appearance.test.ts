import { describe, expect, it } from 'vitest';
import type { Detection, RgbFrame } from '../../src/vision/detection.js';
import {
  appearanceDistance,
  appearanceSignature,
  blendSignatureInPlace,
  decodeSignature,
  encodeSignature,
  SIGNATURE_LENGTH,
  withAppearance,
} from '../../src/vision/tracking/appearance.js';

type Rgb = readonly [number, number, number];

/** A grey frame with people painted as boxes: `top` colour over the upper half, `legs` below. */
function frameWith(people: { box: Detection; top: Rgb; legs: Rgb }[], width = 320, height = 240): RgbFrame {
  const data = new Uint8Array(width * height * 3).fill(128);
  for (const { box, top, legs } of people) {
    for (let y = Math.max(0, Math.floor(box.y1)); y < Math.min(height, box.y2); y++) {
      const colour = y < (box.y1 + box.y2) / 2 ? top : legs;
      for (let x = Math.max(0, Math.floor(box.x1)); x < Math.min(width, box.x2); x++) data.set(colour, (y * width + x) * 3);
    }
  }
  return { index: 0, width, height, data, timestampMs: 0 };
}

const box = (x: number, y = 40, w = 40, h = 120): Detection => ({ x1: x, y1: y, x2: x + w, y2: y + h, score: 0.9 });
const RED: Rgb = [200, 40, 40];
const SHADED_RED: Rgb = [165, 33, 33]; // the same red, 20 % darker
const BLUE: Rgb = [40, 60, 200];
const DENIM: Rgb = [50, 70, 120];
const BLACK: Rgb = [20, 20, 20];

describe('colour signatures', () => {
  it('are near 0 apart for the same clothes elsewhere in the frame, and far apart for other clothes', () => {
    const a = box(20);
    const b = box(150);
    const c = box(250);
    const frame = frameWith([
      { box: a, top: RED, legs: DENIM },
      { box: b, top: RED, legs: DENIM },
      { box: c, top: BLUE, legs: BLACK },
    ]);
    const [sa, sb, sc] = [a, b, c].map((d) => appearanceSignature(frame, d)!);
    expect(sa).toHaveLength(SIGNATURE_LENGTH);
    expect(appearanceDistance(sa!, sb!)).toBeLessThan(0.01);
    expect(appearanceDistance(sa!, sc!)).toBeGreaterThan(0.9);
  });

  it('keep a jacket the same a little darker (chromaticity bins, where RGB bins would split it)', () => {
    const sun = box(20);
    const shade = box(150);
    const other = box(250);
    const frame = frameWith([
      { box: sun, top: RED, legs: DENIM },
      { box: shade, top: SHADED_RED, legs: DENIM },
      { box: other, top: BLUE, legs: DENIM },
    ]);
    const [s1, s2, s3] = [sun, shade, other].map((d) => appearanceSignature(frame, d)!);
    expect(appearanceDistance(s1!, s2!)).toBeLessThan(0.01);
    expect(appearanceDistance(s1!, s3!)).toBeGreaterThan(0.4);
  });

  it('are undefined for boxes too small or mostly outside the frame', () => {
    const frame = frameWith([]);
    expect(appearanceSignature(frame, box(10, 10, 3, 6))).toBeUndefined();
    expect(appearanceSignature(frame, box(300, 40, 80, 120))).toBeUndefined(); // 3/4 of it past the right edge
    expect(appearanceSignature({ ...frame, data: new Uint8Array(0) }, box(20))).toBeUndefined(); // a replayed frame has no pixels
  });

  it('survive a save and load exactly, and a blend stays a unit vector per part', () => {
    const frame = frameWith([{ box: box(20), top: RED, legs: DENIM }, { box: box(150), top: BLUE, legs: BLACK }]);
    const s = appearanceSignature(frame, box(20))!;
    expect(decodeSignature(encodeSignature(s))).toEqual(s);
    expect(decodeSignature('not a signature')).toBeUndefined();
    expect(decodeSignature(42)).toBeUndefined();
    const observed = appearanceSignature(frame, box(150))!;
    const observedBefore = observed.slice();
    const current = s.slice();
    const mixed = blendSignatureInPlace(current, observed, 0.1);
    expect(mixed).toBe(current); // written into the track's own signature…
    expect(observed).toEqual(observedBefore); // …never into the detection's
    expect(appearanceDistance(mixed, mixed)).toBeCloseTo(0, 5);
    expect(appearanceDistance(s, mixed)).toBeLessThan(appearanceDistance(appearanceSignature(frame, box(150))!, mixed));
  });

  it('are added to detections without changing them, and kept when a replay already has them', () => {
    const frame = frameWith([{ box: box(20), top: RED, legs: DENIM }]);
    const detections = [box(20), box(10, 10, 3, 6)];
    const out = withAppearance(frame, detections);
    expect(detections[0]!.appearance).toBeUndefined();
    expect(out[0]!.appearance).toHaveLength(SIGNATURE_LENGTH);
    expect(out[1]!.appearance).toBeUndefined();
    const replayed = withAppearance({ ...frame, data: new Uint8Array(0) }, out);
    expect(replayed[0]!.appearance).toBe(out[0]!.appearance);
  });
});
