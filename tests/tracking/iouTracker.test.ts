import { describe, expect, it } from 'vitest';
import { IouTracker } from '../../src/vision/tracking/iouTracker.js';

const person = (x: number, y = 100, score = 0.9) => ({ x1: x, y1: y, x2: x + 40, y2: y + 120, score });

describe('IouTracker', () => {
  it('reports a track from its second frame on and keeps its id while the boxes overlap', () => {
    const tracker = new IouTracker();
    expect(tracker.update([person(100)], 0)).toEqual([]);
    const ids = new Set<number>();
    for (let f = 1; f < 10; f++) {
      const tracks = tracker.update([person(100 + 5 * f)], f * 100);
      expect(tracks).toHaveLength(1);
      expect(tracks[0]?.box).toEqual(person(100 + 5 * f));
      for (const t of tracks) ids.add(t.id);
    }
    expect(ids.size).toBe(1);
  });

  it('ends a track on the first frame without a match and starts a new id after', () => {
    const tracker = new IouTracker();
    tracker.update([person(100)], 0);
    const [first] = tracker.update([person(102)], 100);
    expect(tracker.update([], 200)).toEqual([]);
    expect(tracker.update([person(104)], 300)).toEqual([]); // a new track, not yet reported
    const [second] = tracker.update([person(106)], 400);
    expect(second?.id).toBeDefined();
    expect(second?.id).not.toBe(first?.id);
  });

  it('ignores detections below the score threshold and jumps larger than the IoU threshold', () => {
    const tracker = new IouTracker();
    for (let f = 0; f < 3; f++) expect(tracker.update([person(100, 100, 0.4)], f * 100)).toEqual([]);
    tracker.update([person(100)], 300);
    const [before] = tracker.update([person(100)], 400);
    // 30 px of a 40 px wide box: IoU 10 / 70 ≈ 0.14 < 0.3, so the track ends and another starts.
    expect(tracker.update([person(130)], 500)).toEqual([]);
    const [after] = tracker.update([person(130)], 600);
    expect(after?.id).not.toBe(before?.id);
  });

  it('gives each track the detection it overlaps most, oldest track first', () => {
    const tracker = new IouTracker();
    tracker.update([person(100), person(300)], 0);
    const start = tracker.update([person(100), person(300)], 100);
    const idAt = (tracks: { id: number; box: { x1: number } }[], x: number) => tracks.find((t) => Math.abs(t.box.x1 - x) < 20)?.id;
    const a = idAt(start, 100);
    const b = idAt(start, 300);
    const next = tracker.update([person(308), person(95)], 200);
    expect(idAt(next, 95)).toBe(a);
    expect(idAt(next, 308)).toBe(b);
  });
});
