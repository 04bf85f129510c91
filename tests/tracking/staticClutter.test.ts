import { describe, expect, it } from 'vitest';
import type { Detection } from '../../src/vision/detection.js';
import { ByteTracker } from '../../src/vision/tracking/byteTracker.js';
import { StaticClutterFilter } from '../../src/vision/tracking/staticClutter.js';

/** 10 fps: frame f is at f × 100 ms. */
const FRAME_MS = 100;
const box = (x: number, y: number, w: number, h: number, score: number): Detection => ({ x1: x, y1: y, x2: x + w, y2: y + h, score });
const cone = (score = 0.3): Detection => box(300, 200, 40, 100, score);
const isCone = (d: Detection): boolean => d.x1 === 300 && d.score < 0.5;

/** Runs frames `from`..`to` (inclusive) and returns, per frame, whether a detection matching `pick` was kept. */
function run(filter: StaticClutterFilter, from: number, to: number, frame: (f: number) => Detection[], pick: (d: Detection) => boolean): boolean[] {
  const kept: boolean[] = [];
  for (let f = from; f <= to; f++) kept.push(filter.filter(frame(f), f * FRAME_MS).some(pick));
  return kept;
}

describe('StaticClutterFilter', () => {
  it('keeps a weak box that never moves until learnAfterMs, then drops it', () => {
    const filter = new StaticClutterFilter();
    expect(filter.options.learnAfterMs).toBe(5000);
    expect(run(filter, 0, 49, () => [cone()], isCone)).toEqual(Array(50).fill(true)); // 0–4.9 s
    run(filter, 50, 51, () => [cone()], isCone);
    expect(run(filter, 52, 150, () => [cone()], isCone)).toEqual(Array(99).fill(false)); // 5.2–15 s
  });

  it('learns after a custom learnAfterMs', () => {
    const filter = new StaticClutterFilter({ learnAfterMs: 1000 });
    expect(run(filter, 0, 9, () => [cone()], isCone)).toEqual(Array(10).fill(true));
    run(filter, 10, 11, () => [cone()], isCone);
    expect(run(filter, 12, 30, () => [cone()], isCone)).toEqual(Array(19).fill(false));
  });

  it('always keeps a confident detection on a learned site', () => {
    const filter = new StaticClutterFilter();
    run(filter, 0, 80, () => [cone()], isCone);
    expect(filter.clutterBoxes).toHaveLength(1);
    for (let f = 81; f < 120; f++) {
      const confident = f % 4 === 0;
      const kept = filter.filter([cone(confident ? 0.5 : 0.3)], f * FRAME_MS);
      expect(kept.length, `frame ${f}`).toBe(confident ? 1 : 0);
    }
  });

  it('keeps dropping a learned site while a confident person of the same size walks over it', () => {
    const filter = new StaticClutterFilter();
    const mannequin = box(300, 165, 40, 110, 0.3);
    const person = (f: number) => box(-40 + 10 * f, 160, 40, 120, 0.8);
    run(filter, 0, 99, () => [mannequin], isCone);
    // Detections come sorted by score, as non-maximum suppression leaves them: the person first.
    const frame = (f: number) => (f < 100 ? [mannequin] : [person(f - 100), mannequin]);
    for (let f = 100; f < 200; f++) {
      const kept = filter.filter(frame(f), f * FRAME_MS);
      expect(kept, `frame ${f}`).toEqual([person(f - 100)]);
    }
    expect(filter.clutterBoxes).toHaveLength(1);
  });

  it('never drops a weak box walking back and forth at 8 px per frame', () => {
    const filter = new StaticClutterFilter();
    // 0..600 px and back every 150 frames, for 30 s.
    const walker = (f: number) => {
      const phase = f % 150;
      return box(phase < 75 ? 8 * phase : 8 * (150 - phase), 200, 40, 100, 0.3);
    };
    expect(run(filter, 0, 300, (f) => [walker(f)], () => true)).toEqual(Array(301).fill(true));
    expect(filter.clutterBoxes).toEqual([]);
  });

  it('never learns a person standing still, seen mostly with confident detections', () => {
    const filter = new StaticClutterFilter();
    // Confident in 4 frames out of 5, weak (half-hidden, turning) in the others: weak ones are always kept.
    const kept = run(filter, 0, 300, (f) => [cone(f % 5 === 0 ? 0.3 : 0.8)], () => true);
    expect(kept).toEqual(Array(301).fill(true));
    expect(filter.clutterBoxes).toEqual([]);
  });

  it('forgets a site unseen for forgetAfterMs, and learns it again from scratch', () => {
    const frame = (f: number) => (f >= 200 && f < 225 ? [] : [cone()]); // seen 20 s, hidden 2.5 s, back
    // By default 2.5 s out of sight is not enough to forget: it is still clutter when it comes back.
    const remembering = new StaticClutterFilter();
    expect(run(remembering, 0, 199, frame, isCone).slice(60)).toEqual(Array(140).fill(false));
    expect(run(remembering, 200, 260, frame, isCone)).toEqual(Array(61).fill(false));

    const forgetting = new StaticClutterFilter({ forgetAfterMs: 2000 });
    expect(run(forgetting, 0, 199, frame, isCone).slice(60)).toEqual(Array(140).fill(false));
    run(forgetting, 200, 224, frame, isCone);
    expect(forgetting.clutterBoxes).toEqual([]);
    expect(run(forgetting, 225, 274, frame, isCone)).toEqual(Array(50).fill(true)); // back at 22.5 s: kept for 5 s
    run(forgetting, 275, 276, frame, isCone);
    expect(run(forgetting, 277, 300, frame, isCone)).toEqual(Array(24).fill(false)); // learned again
    expect(forgetting.clutterBoxes).toHaveLength(1);
  });

  it('lists the learned site where the jittering object stands', () => {
    const filter = new StaticClutterFilter();
    const jitter = (f: number) => [(f * 7) % 5, (f * 3) % 5].map((k) => k - 2) as [number, number];
    const frame = (f: number) => {
      const [dx, dy] = jitter(f);
      return [box(300 + dx, 200 + dy, 40, 100, 0.3)];
    };
    run(filter, 0, 40, frame, () => true);
    expect(filter.clutterBoxes).toEqual([]);
    run(filter, 41, 100, frame, () => true);
    const [site, ...others] = filter.clutterBoxes;
    expect(others).toEqual([]);
    for (const [key, want] of [['x1', 300], ['y1', 200], ['x2', 340], ['y2', 300]] as const) {
      expect(Math.abs(site![key] - want), key).toBeLessThanOrEqual(2);
    }
  });

  it('learns several sites at once and keeps people walking among them', () => {
    const filter = new StaticClutterFilter();
    const clutter = [box(50, 50, 30, 60, 0.2), box(300, 200, 40, 100, 0.35), box(500, 300, 25, 25, 0.15)];
    const person = (f: number) => box(10 + 6 * (f % 100), 150, 40, 120, 0.8);
    const frame = (f: number) => {
      const all = [...clutter, person(f)];
      return f % 2 === 0 ? all : all.reverse(); // order does not matter
    };
    for (let f = 0; f <= 60; f++) filter.filter(frame(f), f * FRAME_MS);
    expect(filter.clutterBoxes).toHaveLength(3);
    for (let f = 61; f <= 200; f++) {
      const kept = filter.filter(frame(f), f * FRAME_MS);
      expect(kept, `frame ${f}`).toEqual([person(f)]);
    }
    const learned = filter.clutterBoxes.map((b) => [Math.round(b.x1), Math.round(b.y1)]).sort((a, b) => a[0]! - b[0]!);
    expect(learned).toEqual([[50, 50], [300, 200], [500, 300]]);
  });
});

describe('ByteTracker with the static clutter filter (default options)', () => {
  // A weak, person-sized false detection that never moves (a cone with a sign on it, say), there all day.
  const coneBox = box(300, 165, 40, 110, 0.3);
  const onCone = (t: { box: Detection }): boolean => Math.abs(t.box.x1 - coneBox.x1) < 20;
  /** A person walking left to right at 10 px per frame (1 m/s at 10 fps, 100 px/m), in view from frame 0 to 70. */
  const person = (f: number): Detection => box(-40 + 10 * f, 160, 40, 120, 0.8);
  const START = 200; // the cone has been in view 20 s when the person comes

  function trackerWithLearnedCone(): ByteTracker {
    let next = 1;
    const tracker = new ByteTracker({}, () => next++);
    for (let f = 0; f < START; f++) expect(tracker.update([coneBox], f * FRAME_MS)).toEqual([]);
    return tracker;
  }

  it('keeps one id on a person walking through the cone and on, and reports nothing on the cone after', () => {
    const tracker = trackerWithLearnedCone();
    const ids = new Set<number>();
    for (let f = 0; f <= 70; f++) {
      const p = person(f);
      // Over the cone (x 270–330) the detector loses the person for a few frames: only the cone's weak box is left.
      const detections = p.x1 >= 270 && p.x1 < 330 ? [coneBox] : f % 2 === 0 ? [p, coneBox] : [coneBox, p];
      for (const t of tracker.update(detections, (START + f) * FRAME_MS)) {
        ids.add(t.id);
        expect(Math.abs(t.box.x1 - p.x1), `frame ${f}: the track follows the person, not the cone`).toBeLessThan(15);
      }
    }
    expect([...ids]).toEqual([1]);
    for (let f = 71; f < 200; f++) expect(tracker.update([coneBox], (START + f) * FRAME_MS), `frame ${f}`).toEqual([]);
    expect(tracker.allTracks.filter(onCone)).toEqual([]);
  });

  it('ends the track of a person who disappears at the cone instead of letting it live on the cone', () => {
    const tracker = trackerWithLearnedCone();
    const ids = new Set<number>();
    // The person walks up to the cone and out of sight there (behind a shelf next to it).
    for (let f = 0; f <= 34; f++) {
      for (const t of tracker.update(f % 2 === 0 ? [person(f), coneBox] : [coneBox, person(f)], (START + f) * FRAME_MS)) ids.add(t.id);
    }
    expect([...ids]).toEqual([1]);
    for (let f = 35; f < 200; f++) expect(tracker.update([coneBox], (START + f) * FRAME_MS), `frame ${f}`).toEqual([]);
    expect(tracker.allTracks).toEqual([]);
  });
});
