import { describe, expect, it } from 'vitest';
import type { Detection } from '../../src/vision/detection.js';
import { SIGNATURE_LENGTH } from '../../src/vision/tracking/appearance.js';
import { ByteTracker } from '../../src/vision/tracking/byteTracker.js';

const person = (x: number, y = 100, score = 0.9) => ({ x1: x, y1: y, x2: x + 40, y2: y + 120, score });

describe('ByteTracker', () => {
  it('confirms a track on its second sighting and keeps its id while the person walks', () => {
    const tracker = new ByteTracker();
    expect(tracker.update([person(100)], 0)).toEqual([]); // tentative
    const ids = new Set<number>();
    for (let f = 1; f < 20; f++) for (const t of tracker.update([person(100 + 6 * f)], f * 100)) ids.add(t.id);
    expect(ids.size).toBe(1);
  });

  it('keeps the id through an occlusion shorter than the lost buffer, and drops it after', () => {
    const tracker = new ByteTracker({ lostBufferMs: 1000 });
    let id = 0;
    for (let f = 0; f < 10; f++) id = tracker.update([person(100 + 5 * f)], f * 100)[0]?.id ?? id;
    for (let f = 10; f < 17; f++) expect(tracker.update([], f * 100)).toEqual([]); // 0.7 s unseen
    expect(tracker.update([person(185)], 1700)[0]?.id).toBe(id);
    for (let f = 18; f < 35; f++) tracker.update([], f * 100); // 1.7 s unseen
    tracker.update([person(300)], 3500);
    const later = tracker.update([person(303)], 3600);
    expect(later[0]?.id).not.toBe(id);
  });

  it('holds a half-hidden person with low-score detections, but never starts a track from them', () => {
    const tracker = new ByteTracker();
    tracker.update([person(100)], 0);
    const [confirmed] = tracker.update([person(104)], 100);
    for (let f = 2; f < 10; f++) expect(tracker.update([person(100 + 4 * f, 100, 0.25)], f * 100)[0]?.id).toBe(confirmed!.id);
    const fresh = new ByteTracker();
    for (let f = 0; f < 5; f++) expect(fresh.update([person(100, 100, 0.25)], f * 100)).toEqual([]);
  });

  it('keeps two people apart when they walk past each other', () => {
    const tracker = new ByteTracker();
    const seen = new Map<number, number[]>();
    for (let f = 0; f < 30; f++) {
      const a = person(100 + 10 * f, 100);
      const b = person(400 - 10 * f, 130);
      for (const t of tracker.update([a, b], f * 100)) {
        const cx = (t.box.x1 + t.box.x2) / 2;
        seen.set(t.id, [...(seen.get(t.id) ?? []), cx]);
      }
    }
    expect(seen.size).toBe(2);
    for (const xs of seen.values()) {
      const direction = Math.sign(xs[xs.length - 1]! - xs[0]!);
      // Each id moves monotonically one way: no swap at the crossing.
      for (let i = 1; i < xs.length; i++) expect(Math.sign(xs[i]! - xs[i - 1]!) === direction || Math.abs(xs[i]! - xs[i - 1]!) < 3).toBe(true);
    }
  });

  it('ignores one-frame false positives', () => {
    const tracker = new ByteTracker();
    for (let f = 0; f < 10; f++) expect(tracker.update(f % 3 === 0 ? [person(50 + 37 * f)] : [], f * 100)).toEqual([]);
  });

  it('uses random ids, never reused within a session', () => {
    const sequence = [5, 5, 5, 9, 9, 12];
    const tracker = new ByteTracker({ confirmHits: 1 }, () => sequence.shift() ?? 99);
    const ids = [0, 1, 2].map((k) => tracker.update([person(100 + 200 * k)], k * 5000)[0]?.id);
    expect(ids).toEqual([5, 9, 12]);
    const a = new ByteTracker({ confirmHits: 1 }).update([person(0)], 0)[0]!.id;
    const b = new ByteTracker({ confirmHits: 1 }).update([person(0)], 0)[0]!.id;
    expect(a).not.toBe(b); // default ids are random, not a counter
  });

  it('tracks a crowd of 30 people at once', () => {
    const tracker = new ByteTracker();
    const crowd = (f: number) => Array.from({ length: 30 }, (_, k) => person(20 + (k % 10) * 60 + 3 * f, 50 + Math.floor(k / 10) * 150));
    for (let f = 0; f < 5; f++) tracker.update(crowd(f), f * 100);
    expect(tracker.update(crowd(5), 500)).toHaveLength(30);
  });
});

/** A colour signature with all of both parts in one colour bin (signatures of different `colour` are 1 apart). */
const colours = (colour: number): Float32Array => {
  const signature = new Float32Array(SIGNATURE_LENGTH);
  signature[colour] = 1;
  signature[SIGNATURE_LENGTH / 2 + colour] = 1;
  return signature;
};
const dressed = (d: Detection, colour: number): Detection => ({ ...d, appearance: colours(colour) });
const RED = 3;
const BLUE = 40;
const IOU_ONLY = { appearanceGate: 1, appearanceWeight: 0, reassociateAppearanceGate: 1 };

/** A red-clothed person walks right 10 px per frame for 1 s; returns the track's id. */
function followRedWalker(tracker: ByteTracker): number {
  let id = 0;
  for (let f = 0; f < 10; f++) id = tracker.update([dressed(person(100 + 10 * f), RED)], f * 100)[0]?.id ?? id;
  return id;
}

describe('ByteTracker with colour signatures', () => {
  it('keeps a track on its own colours when a stranger overlaps its prediction better', () => {
    // Next frame: a blue stranger right on the prediction (IoU ~1), the red walker a little ahead (IoU ~0.45).
    const next = [dressed(person(200), BLUE), dressed(person(215), RED)];
    const withColours = new ByteTracker();
    const red = followRedWalker(withColours);
    const kept = withColours.update(next, 1000).find((t) => t.id === red);
    expect(kept && (kept.box.x1 + kept.box.x2) / 2).toBeGreaterThan(225); // on the red box (centre 235), not the blue (220)

    const iouOnly = new ByteTracker(IOU_ONLY);
    const swapped = followRedWalker(iouOnly);
    const taken = iouOnly.update(next, 1000).find((t) => t.id === swapped);
    expect(taken && (taken.box.x1 + taken.box.x2) / 2).toBeLessThan(225); // geometry alone takes the stranger
  });

  it('never writes into a detection\'s signature (a recording is replayed through several trackers)', () => {
    const walk = Array.from({ length: 10 }, (_, f) => dressed(person(100 + 10 * f), f < 5 ? RED : BLUE));
    const before = walk.map((d) => d.appearance!.slice());
    const tracker = new ByteTracker();
    walk.forEach((d, f) => tracker.update([d], f * 100));
    walk.forEach((d, f) => expect(d.appearance).toEqual(before[f]));
  });

  it('still follows a lone detection whose colours changed (no rival: geometry decides)', () => {
    const tracker = new ByteTracker();
    const red = followRedWalker(tracker);
    // Half hidden behind a blue pillar, the walker's box takes the pillar's colours.
    for (let f = 10; f < 14; f++) expect(tracker.update([dressed(person(100 + 10 * f), BLUE)], f * 100).map((t) => t.id)).toEqual([red]);
  });

  it('re-associates a lost track with its own colours, not with a stranger nearer its prediction', () => {
    const tracker = new ByteTracker();
    const red = followRedWalker(tracker);
    for (let f = 10; f < 14; f++) tracker.update([], f * 100); // hidden for 0.4 s; predicted at x ≈ 240 by f = 14
    // Both out of IoU reach of the prediction; the stranger's centre is nearer it.
    const out = tracker.update([dressed(person(270, 110), BLUE), dressed(person(300, 100), RED)], 1400);
    const back = out.find((t) => t.id === red);
    expect(back?.box.x1).toBeGreaterThan(285);

    const iouOnly = new ByteTracker(IOU_ONLY);
    const lost = followRedWalker(iouOnly);
    for (let f = 10; f < 14; f++) iouOnly.update([], f * 100);
    const wrong = iouOnly.update([dressed(person(270, 110), BLUE), dressed(person(300, 100), RED)], 1400).find((t) => t.id === lost);
    expect(wrong?.box.x1).toBeLessThan(285); // by distance alone the stranger wins
  });
});

describe('ByteTracker.coast (frames the motion gate skipped)', () => {
  it('keeps people who stand still through a long skipped stretch and re-associates them', () => {
    const tracker = new ByteTracker();
    const standing = person(100);
    tracker.update([standing], 0);
    const confirmed = tracker.update([standing], 200);
    expect(confirmed).toHaveLength(1);
    // 3 s without detections (longer than the 1.5 s lost buffer): coasting keeps the track reported.
    for (let t = 400; t <= 3400; t += 200) expect(tracker.coast(t).map((tr) => tr.id)).toEqual([confirmed[0]?.id]);
    expect(tracker.update([standing], 3600).map((tr) => tr.id)).toEqual([confirmed[0]?.id]);
  });

  it('moves coasted tracks by their predicted velocity', () => {
    const tracker = new ByteTracker();
    for (let k = 0; k < 6; k++) tracker.update([{ x1: 100 + 10 * k, y1: 100, x2: 140 + 10 * k, y2: 200, score: 0.9 }], k * 100);
    const before = tracker.allTracks[0]?.box.x1 ?? 0;
    const after = tracker.coast(600)[0]?.box.x1 ?? 0;
    expect(after - before).toBeGreaterThan(5);
  });
});

describe('ByteTracker identity inheritance (a new track where a lost one was just seen)', () => {
  /**
   * The red walker (last seen at x = 190, f = 9) is hidden for 0.6 s, then a confident detection in
   * other colours (a light change; beyond the colour gate of re-association) appears at x = `x`,
   * `afterMs` after the walker was last seen; returns [the walker's id, the new box's id two frames on].
   */
  function reappear(tracker: ByteTracker, x: number, afterMs = 700): [number, number | undefined] {
    const red = followRedWalker(tracker);
    const start = 900 + afterMs;
    for (let t = 1000; t < start; t += 100) tracker.update([], t);
    tracker.update([dressed(person(x), BLUE)], start); // tentative
    const out = tracker.update([dressed(person(x), BLUE)], start + 100); // confirmed
    return [red, out[0]?.id];
  }

  it('carries on the lost track\'s id when the new track starts where it was last seen', () => {
    // x = 150: behind the walker's last box (walked back while hidden), far from the prediction (x ≈ 260).
    const [red, id] = reappear(new ByteTracker(), 150);
    expect(id).toBe(red);
  });

  it('gives a new id to a new track far from any lost one, one after the lost track was dropped, or when turned off', () => {
    const far = reappear(new ByteTracker(), 190 + 400); // 3.3 box heights away
    expect(far[1]).toBeDefined();
    expect(far[1]).not.toBe(far[0]);
    const late = reappear(new ByteTracker(), 150, 1700); // after the lost buffer (1.5 s)
    expect(late[1]).toBeDefined();
    expect(late[1]).not.toBe(late[0]);
    const off = reappear(new ByteTracker({ inheritIdentityMs: 0 }), 150);
    expect(off[1]).toBeDefined();
    expect(off[1]).not.toBe(off[0]);
  });

  it('reaches further the longer the track was lost (people keep walking while hidden)', () => {
    // 1.3 box heights (156 px) behind the last sighting, confirmed 0.8 s after it: within 1 + 0.5 × 0.8 heights.
    const [red, id] = reappear(new ByteTracker(), 190 - 156);
    expect(id).toBe(red);
    const [fixed, other] = reappear(new ByteTracker({ inheritIdentityHeightsPerSecond: 0 }), 190 - 156);
    expect(other).toBeDefined();
    expect(other).not.toBe(fixed);
  });

  it('gives a new id to someone appearing where a person just walked out of the image', () => {
    // The same walk and reappearance as above, in an image that ends at x = 231: the walker's last
    // box (x 190–230) touches its right edge, so they most likely left the view.
    const run = (frame?: { width: number; height: number }): [number, number | undefined] => {
      const tracker = new ByteTracker();
      let red = 0;
      for (let f = 0; f < 10; f++) red = tracker.update([dressed(person(100 + 10 * f), RED)], f * 100, frame)[0]?.id ?? red;
      for (let t = 1000; t < 1600; t += 100) tracker.update([], t, frame);
      tracker.update([dressed(person(150), BLUE)], 1600, frame);
      return [red, tracker.update([dressed(person(150), BLUE)], 1700, frame)[0]?.id];
    };
    const [red, id] = run({ width: 231, height: 600 });
    expect(id).toBeDefined();
    expect(id).not.toBe(red);
    const [inside, carried] = run({ width: 640, height: 600 }); // well inside the image: carried on
    expect(carried).toBe(inside);
  });

  it('lets one lost track be inherited once, by the nearest new track', () => {
    const tracker = new ByteTracker();
    const red = followRedWalker(tracker);
    for (let t = 1000; t < 1600; t += 100) tracker.update([], t);
    // Two people appear, both within reach of where the walker was last seen (x = 190): the nearer takes its id.
    const pair = [dressed(person(100, 100), BLUE), dressed(person(165, 100), BLUE)];
    tracker.update(pair, 1600);
    const out = tracker.update(pair, 1700);
    expect(out).toHaveLength(2);
    expect(out.filter((t) => t.id === red).map((t) => t.box.x1 > 140)).toEqual([true]);
  });
});
