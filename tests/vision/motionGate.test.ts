import { describe, expect, it } from 'vitest';
import type { RgbFrame } from '../../src/vision/detection.js';
import { greyThumbnail, MotionGate } from '../../src/vision/motion/motionGate.js';
import { seededRandom } from '../helpers/syntheticDetections.js';
import { hasVtest, VTEST_PATH } from '../helpers/fixtures.js';
import { readVideoFrames } from '../../src/vision/videoFrames.js';

const W = 320;
const H = 240;

/** A grey scene with sensor noise and an optional dark 'person' block. */
function scene(t: number, noise: () => number, person?: { x: number; y: number }): RgbFrame {
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const x = i % W;
    const y = Math.floor(i / W);
    const inPerson = person && x >= person.x && x < person.x + 12 && y >= person.y && y < person.y + 30;
    const v = (inPerson ? 40 : 150) + Math.round((noise() - 0.5) * 16);
    data.set([v, v, v], i * 3);
  }
  return { index: t, width: W, height: H, data, timestampMs: t * 200 };
}

const options = { enabled: true, pixelThreshold: 18, minChangedFraction: 0.002, forceDetectMs: 2000 };

describe('MotionGate', () => {
  it('averages noise away in the thumbnail', () => {
    const { cells, gridWidth, gridHeight } = greyThumbnail(scene(0, seededRandom(1)), 64);
    expect([gridWidth, gridHeight]).toEqual([64, 48]);
    expect(Math.max(...cells) - Math.min(...cells)).toBeLessThan(12); // ±8 levels of pixel noise
  });

  it('skips a still scene, detects a moving person, and forces a detection every force_detect_s', () => {
    const gate = new MotionGate(options);
    const noise = seededRandom(2);
    const decisions: string[] = [];
    for (let t = 0; t < 30; t++) {
      // Frames 0–14: still (noise only); 15–19: a person walks in; 20–29: the person stands still.
      const person = t < 15 ? undefined : { x: 100 + Math.min(t, 20) * 8, y: 100 };
      const frame = scene(t, noise, person);
      const decision = gate.check(frame);
      decisions.push(decision.reason);
      if (decision.detect) gate.detected(frame);
    }
    expect(decisions[0]).toBe('first');
    // Still frames are skipped except once every 2 s (10 frames at 5 fps).
    expect(decisions.slice(1, 15).filter((r) => r === 'still')).toHaveLength(13);
    expect(decisions[10]).toBe('forced');
    expect(decisions.slice(15, 21).every((r) => r === 'motion')).toBe(true);
    expect(decisions.slice(21, 30)).toContain('still');
  });

  it('compares with the frame the detector last saw, so slow movement adds up', () => {
    const gate = new MotionGate({ ...options, forceDetectMs: 1e9 });
    const flat = (level: number, t: number): RgbFrame => ({ index: t, width: W, height: H, data: new Uint8Array(W * H * 3).fill(level), timestampMs: t * 200 });
    gate.detected(flat(100, 0));
    // +8 grey levels per frame: each step is under the threshold, the sum is not.
    const reasons = [1, 2, 3].map((t) => gate.check(flat(100 + 8 * t, t)).reason);
    expect(reasons).toEqual(['still', 'still', 'motion']);
  });

  it('always detects when disabled', () => {
    const gate = new MotionGate({ ...options, enabled: false });
    const frame = scene(0, seededRandom(3));
    gate.detected(frame);
    expect(gate.check(frame)).toEqual({ detect: true, reason: 'disabled', changedFraction: 1 });
  });

  it('compares with the frame the detector was given, not the one checked last, when they differ', () => {
    const gate = new MotionGate(options);
    const noise = seededRandom(3);
    const empty = scene(0, noise);
    const withPerson = scene(1, noise, { x: 100, y: 100 });
    gate.check(empty);
    gate.detected(withPerson); // a newer frame replaced the checked one while waiting for a worker
    // The reference is the frame with the person: the same frame again is still, the empty one moved.
    expect(gate.check({ ...withPerson, timestampMs: 400 }).reason).toBe('still');
    expect(gate.check({ ...empty, timestampMs: 600 }).reason).toBe('motion');
  });

  it.skipIf(!hasVtest)('sees motion on real footage of people walking, and none on a repeated frame', async () => {
    const gate = new MotionGate(options);
    const reasons: string[] = [];
    for await (const frame of readVideoFrames(VTEST_PATH, { fps: 5, width: 640, maxFrames: 40 })) {
      const d = gate.check(frame);
      reasons.push(d.reason);
      if (d.detect) gate.detected(frame);
    }
    expect(reasons.filter((r) => r === 'motion').length).toBeGreaterThanOrEqual(38);
    const still = new MotionGate(options);
    for await (const first of readVideoFrames(VTEST_PATH, { width: 640, maxFrames: 1 })) {
      still.detected(first);
      expect(still.check({ ...first, timestampMs: 1000 }).reason).toBe('still');
    }
  });
});
