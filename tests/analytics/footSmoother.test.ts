import { describe, expect, it } from 'vitest';
import { CountingLine } from '../../src/vision/analytics/countingLine.js';
import { FootPointSmoother } from '../../src/vision/analytics/footSmoother.js';
import { seededRandom } from '../../src/common/seededRandom.js';

/** A vertical line at x = 0.5 from y = 0.2 to 0.8, hysteresis 0.02 (the default). */
const line = () => new CountingLine({ name: 'door', points: [[0.5, 0.2], [0.5, 0.8]], hysteresis: 0.02 });

/** Counts a foot path (one point per frame at 10 fps) with or without smoothing. */
function count(xs: readonly number[], smoother?: FootPointSmoother): number {
  const l = line();
  xs.forEach((x, f) => {
    const raw = [{ trackId: 1, x, y: 0.5 }];
    l.update(smoother ? smoother.smooth(raw, f * 100) : raw, f * 100);
  });
  return l.counts.in + l.counts.out;
}

describe('FootPointSmoother', () => {
  it('stops a person standing beside a line from being counted by box jitter, and still counts a real crossing', () => {
    for (const seed of [1, 2, 3]) {
      const random = seededRandom(seed);
      // Standing 0.005 from the line for 20 s, the box's bottom edge jittering by up to ±0.03 frame to frame.
      const standing = Array.from({ length: 200 }, () => 0.505 + (random() - 0.5) * 0.06);
      expect(count(standing)).toBeGreaterThan(2); // unsmoothed: counted in and out, again and again
      expect(count(standing, new FootPointSmoother())).toBe(0);
    }
    const random = seededRandom(4);
    // Walking across at 0.02 per frame with the same jitter: exactly one crossing either way.
    const walking = Array.from({ length: 40 }, (_, f) => 0.1 + 0.02 * f + (random() - 0.5) * 0.03);
    expect(count(walking, new FootPointSmoother())).toBe(1);
  });

  it('smooths by time, not by frame: 5 and 25 fps give the same point after the same time', () => {
    const at = (fps: number): number => {
      const s = new FootPointSmoother(150);
      s.smooth([{ trackId: 1, x: 0, y: 0 }], 0);
      let x = 0;
      for (let frame = 1; frame <= (400 * fps) / 1000; frame++) x = s.smooth([{ trackId: 1, x: 1, y: 0 }], (frame * 1000) / fps)[0]!.x;
      return x;
    };
    // A step from 0 to 1, 400 ms later: 1 − e^(−400/150) at either rate.
    expect(at(5)).toBeCloseTo(1 - Math.exp(-400 / 150), 9);
    expect(at(25)).toBeCloseTo(1 - Math.exp(-400 / 150), 9);
  });

  it('keeps tracks apart, starts a new track where it is, forgets tracks gone 10 s, and 0 turns it off', () => {
    const s = new FootPointSmoother(150);
    s.smooth([{ trackId: 1, x: 0.2, y: 0.2 }], 0);
    const [a, b] = s.smooth([{ trackId: 1, x: 0.4, y: 0.2 }, { trackId: 2, x: 0.9, y: 0.9 }], 100);
    expect(a!.x).toBeGreaterThan(0.2);
    expect(a!.x).toBeLessThan(0.4);
    expect(b).toEqual({ trackId: 2, x: 0.9, y: 0.9 });
    s.smooth([{ trackId: 2, x: 0.9, y: 0.9 }], 10_200); // track 1 unseen for over 10 s: forgotten
    expect(s.smooth([{ trackId: 1, x: 0.7, y: 0.7 }], 10_300)[0]).toEqual({ trackId: 1, x: 0.7, y: 0.7 });
    const off = new FootPointSmoother(0);
    off.smooth([{ trackId: 1, x: 0.2, y: 0.2 }], 0);
    expect(off.smooth([{ trackId: 1, x: 0.4, y: 0.3 }], 100)[0]).toEqual({ trackId: 1, x: 0.4, y: 0.3 });
  });
});
