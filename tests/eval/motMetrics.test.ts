import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/common/seededRandom.js';
import type { Detection } from '../../src/vision/detection.js';
import { evaluateTracking, type TrackingFrame, type TrackingMetrics } from '../../src/vision/eval/motMetrics.js';

/** A 10×10 box at (x, y). People far apart (≥ 10 px) never overlap. */
const box = (x: number, y = 0): Detection => ({ x1: x, y1: y, x2: x + 10, y2: y + 10, score: 1 });
/** A box spanning [x1, x2] horizontally and 0..10 vertically: IoU of two such boxes is 1-D interval overlap. */
const span = (x1: number, x2: number): Detection => ({ x1, y1: 0, x2, y2: 10, score: 1 });
const _ = undefined;

/** Trajectories by id, one entry per frame (undefined: not in that frame). */
type Lanes = Record<number, readonly (Detection | undefined)[]>;

function scene(gt: Lanes, hyp: Lanes): TrackingFrame[] {
  const length = Math.max(0, ...[...Object.values(gt), ...Object.values(hyp)].map((lane) => lane.length));
  const at = (lanes: Lanes, f: number) =>
    Object.entries(lanes).flatMap(([id, lane]) => {
      const b = lane[f];
      return b ? [{ id: Number(id), box: b }] : [];
    });
  return Array.from({ length }, (_unused, f) => ({ gt: at(gt, f), hyp: at(hyp, f) }));
}

function expectNoNaN(m: TrackingMetrics): void {
  for (const [key, value] of Object.entries(m)) expect(Number.isNaN(value), key).toBe(false);
}

describe('evaluateTracking: CLEAR-MOT and identity metrics', () => {
  it('scores perfect tracking as MOTA 1, MOTP 1, IDF1 1', () => {
    // Two people, 3 frames, tracked exactly (hyp ids need not equal gt ids).
    const m = evaluateTracking(
      scene(
        { 1: [box(0), box(5), box(10)], 2: [box(100), box(95), box(90)] },
        { 7: [box(0), box(5), box(10)], 8: [box(100), box(95), box(90)] },
      ),
    );
    expect(m).toEqual({
      frames: 3,
      gtCount: 6,
      hypCount: 6,
      matches: 6,
      misses: 0,
      falsePositives: 0,
      idSwitches: 0,
      fragmentations: 0,
      mota: 1,
      motp: 1,
      idtp: 6,
      idfp: 0,
      idfn: 0,
      idp: 1,
      idr: 1,
      idf1: 1,
      gtTrajectories: 2,
      mostlyTracked: 2,
      mostlyLost: 0,
    });
  });

  it('counts one ID switch when the track id changes mid-trajectory', () => {
    // gt 1 for 5 frames; hyp 10 covers frames 0-2, hyp 11 frames 3-4.
    // CLEAR: 5 matches, IDSW 1 at frame 3 → MOTA = 1 − 1/5 = 0.8.
    // Identity: overlap(1,10) = 3, overlap(1,11) = 2 → match 1↔10, IDTP 3,
    // IDFP = 5 − 3 = 2 (hyp 11's boxes), IDFN = 5 − 3 = 2 → IDF1 = 6 / (6 + 2 + 2) = 0.6.
    const m = evaluateTracking(scene({ 1: [box(0), box(2), box(4), box(6), box(8)] }, { 10: [box(0), box(2), box(4)], 11: [_, _, _, box(6), box(8)] }));
    expect(m).toMatchObject({ matches: 5, misses: 0, falsePositives: 0, idSwitches: 1, fragmentations: 0, idtp: 3, idfp: 2, idfn: 2 });
    expect(m.mota).toBeCloseTo(0.8, 12);
    expect(m.idp).toBeCloseTo(0.6, 12);
    expect(m.idr).toBeCloseTo(0.6, 12);
    expect(m.idf1).toBeCloseTo(0.6, 12);
  });

  it('counts a gap in tracking as one fragmentation and one miss, not a switch', () => {
    // gt 1 in 5 frames, hyp 10 missing at frame 2 (T T F T T).
    // FN 1, IDSW 0 (same id resumes), FRAG 1, MOTA = 1 − 1/5 = 0.8.
    // IDTP 4, IDFN 1, IDFP 0 → IDF1 = 8/9.
    const m = evaluateTracking(scene({ 1: [box(0), box(0), box(0), box(0), box(0)] }, { 10: [box(0), box(0), _, box(0), box(0)] }));
    expect(m).toMatchObject({ matches: 4, misses: 1, falsePositives: 0, idSwitches: 0, fragmentations: 1, idtp: 4, idfn: 1, idfp: 0 });
    expect(m.mota).toBeCloseTo(0.8, 12);
    expect(m.idf1).toBeCloseTo(8 / 9, 12);
  });

  it('counts each interruption once, and ignores misses before the first and after the last match', () => {
    // Tracked pattern over 9 frames: F T F F T F T F F → interruptions at frames 2-3 and 5 = 2.
    const tracked = [false, true, false, false, true, false, true, false, false];
    const m = evaluateTracking(scene({ 1: tracked.map(() => box(0)) }, { 10: tracked.map((t) => (t ? box(0) : undefined)) }));
    expect(m.fragmentations).toBe(2);
    expect(m.misses).toBe(6);
  });

  it('does not count frames where the gt itself is absent as a fragmentation', () => {
    // gt 1 is not annotated in frame 2 (e.g. left the view); the tracker has nothing there either.
    const m = evaluateTracking(scene({ 1: [box(0), box(0), _, box(0)] }, { 10: [box(0), box(0), _, box(0)] }));
    expect(m).toMatchObject({ frames: 4, gtCount: 3, matches: 3, fragmentations: 0, idSwitches: 0, mota: 1, idf1: 1 });
  });

  it('charges every box of a false-positive track', () => {
    // gt 1 tracked perfectly for 4 frames by hyp 10; hyp 99 is a ghost for 3 frames.
    // FP 3 → MOTA = 1 − 3/4 = 0.25. IDTP 4, IDFP 3, IDFN 0 → IDP 4/7, IDR 1, IDF1 = 8/11.
    const m = evaluateTracking(scene({ 1: [box(0), box(0), box(0), box(0)] }, { 10: [box(0), box(0), box(0), box(0)], 99: [_, box(200), box(200), box(200)] }));
    expect(m).toMatchObject({ gtCount: 4, hypCount: 7, matches: 4, falsePositives: 3, misses: 0, idSwitches: 0, idtp: 4, idfp: 3, idfn: 0, idr: 1 });
    expect(m.mota).toBeCloseTo(0.25, 12);
    expect(m.idp).toBeCloseTo(4 / 7, 12);
    expect(m.idf1).toBeCloseTo(8 / 11, 12);
  });

  it('charges every box of a missed person and counts them mostly lost', () => {
    // gt 1 tracked 4/4, gt 2 never: FN 4 → MOTA = 1 − 4/8 = 0.5.
    // IDTP 4, IDFN 4, IDFP 0 → IDP 1, IDR 0.5, IDF1 = 8/12.
    const m = evaluateTracking(scene({ 1: [box(0), box(0), box(0), box(0)], 2: [box(50), box(50), box(50), box(50)] }, { 10: [box(0), box(0), box(0), box(0)] }));
    expect(m).toMatchObject({ matches: 4, misses: 4, falsePositives: 0, idtp: 4, idfn: 4, idfp: 0, idp: 1, idr: 0.5, gtTrajectories: 2, mostlyTracked: 1, mostlyLost: 1 });
    expect(m.mota).toBeCloseTo(0.5, 12);
    expect(m.idf1).toBeCloseTo(2 / 3, 12);
  });

  it('counts two switches when two crossing people swap track ids', () => {
    // A walks right, B walks left; they coincide at frame 2 and the tracks swap after it.
    //   frame:   0    1    2    3    4
    //   A x:     0   20   45   70   90     hyp 10 on A in 0-2, on B in 3-4
    //   B x:    90   70   45   20    0     hyp 11 on B in 0-2, on A in 3-4
    // Frame 2: both previous pairs persist (IoU 1). Frame 3: A's old partner 10 is now at B (IoU 0),
    // so both are re-matched → IDSW 2. MOTA = 1 − 2/10 = 0.8.
    // Identity: at frame 2 both hyps cover both gts, so every pair overlaps 3 frames:
    // best matching = 3 + 3 = 6 → IDTP 6, IDFP 4, IDFN 4, IDF1 = 12/20 = 0.6.
    const ax = [0, 20, 45, 70, 90];
    const bx = [90, 70, 45, 20, 0];
    const m = evaluateTracking(
      scene(
        { 1: ax.map((x) => box(x)), 2: bx.map((x) => box(x)) },
        { 10: [0, 1, 2, 3, 4].map((f) => box(f <= 2 ? ax[f]! : bx[f]!)), 11: [0, 1, 2, 3, 4].map((f) => box(f <= 2 ? bx[f]! : ax[f]!)) },
      ),
    );
    expect(m).toMatchObject({ matches: 10, misses: 0, falsePositives: 0, idSwitches: 2, fragmentations: 0, idtp: 6, idfp: 4, idfn: 4 });
    expect(m.mota).toBeCloseTo(0.8, 12);
    expect(m.idf1).toBeCloseTo(0.6, 12);
  });

  it('keeps the previous frame correspondence while it stays above threshold, even against a better fit', () => {
    // Frame 0: gt 1 = hyp 1 exactly.
    // Frame 1: hyp 1 is 10×15 over the 10×10 gt (IoU 100/150 = 2/3); hyp 2 fits exactly (IoU 1).
    //   Persistence keeps 1↔1 → no switch, hyp 2 is an FP.
    // Frame 2: hyp 1 is 10×25 (IoU 100/250 = 0.4 < 0.5), so the pair breaks and hyp 2 takes over → IDSW 1.
    // MOTP = (1 + 2/3 + 1) / 3 = 8/9.
    const tall = (h: number): Detection => ({ x1: 0, y1: 0, x2: 10, y2: h, score: 1 });
    const m = evaluateTracking(scene({ 1: [box(0), box(0), box(0)] }, { 1: [box(0), tall(15), tall(25)], 2: [_, box(0), box(0)] }));
    expect(m).toMatchObject({ matches: 3, misses: 0, falsePositives: 2, idSwitches: 1 });
    expect(m.motp).toBeCloseTo(8 / 9, 12);

    // Stop after frame 1 to see the persistence rule alone: no switch at all.
    const first = evaluateTracking(scene({ 1: [box(0), box(0)] }, { 1: [box(0), tall(15)], 2: [_, box(0)] }));
    expect(first).toMatchObject({ matches: 2, falsePositives: 1, idSwitches: 0 });
    expect(first.motp).toBeCloseTo(5 / 6, 12);
  });

  it('keeps correspondences only from the previous frame, but judges switches against the last match ever', () => {
    // Frame 0: gt 1 ↔ hyp 1. Frame 1: no hypotheses (miss). Frame 2: hyp 1 at IoU 2/3, hyp 2 at IoU 1.
    // The frame-0 pair is not carried over the gap, so the assignment picks the better hyp 2;
    // gt 1 was last matched to hyp 1 → IDSW 1, and the gap is FRAG 1.
    const m = evaluateTracking(scene({ 1: [box(0), box(0), box(0)] }, { 1: [box(0), _, { x1: 0, y1: 0, x2: 10, y2: 15, score: 1 }], 2: [_, _, box(0)] }));
    expect(m).toMatchObject({ matches: 2, misses: 1, falsePositives: 1, idSwitches: 1, fragmentations: 1 });
  });

  it('uses the optimal per-frame assignment, not greedy best-IoU-first', () => {
    // gt A = [0,10], gt B = [4,14]; hyp P = [1.5,11.5], hyp Q = [-3,7].
    // IoU(A,P) = 8.5/11.5 ≈ 0.739, IoU(B,P) = 7.5/12.5 = 0.6, IoU(A,Q) = 7/13 ≈ 0.538, IoU(B,Q) = 3/17 < 0.5.
    // Greedy takes A↔P first and strands B and Q; the assignment finds A↔Q + B↔P (2 matches).
    const m = evaluateTracking([
      {
        gt: [
          { id: 1, box: span(0, 10) },
          { id: 2, box: span(4, 14) },
        ],
        hyp: [
          { id: 1, box: span(1.5, 11.5) },
          { id: 2, box: span(-3, 7) },
        ],
      },
    ]);
    expect(m).toMatchObject({ matches: 2, misses: 0, falsePositives: 0 });
    expect(m.motp).toBeCloseTo((7 / 13 + 0.6) / 2, 12);
  });

  it('matches whole trajectories globally for IDF1, not greedily', () => {
    // Frames 0-3: hyp 1 on gt A. Frames 4-6: hyp 1 on gt B, hyp 2 on gt A (B appears at frame 4).
    // overlap(A,1) = 4, overlap(A,2) = 3, overlap(B,1) = 3, overlap(B,2) = 0.
    // Greedy (largest first) would take A↔1 then B↔2: IDTP 4. Optimal is A↔2 + B↔1: IDTP 6.
    // gt boxes 7 + 3 = 10, hyp boxes 7 + 3 = 10 → IDFP 4, IDFN 4, IDF1 = 12/20 = 0.6.
    // CLEAR: A switches 1 → 2 at frame 4 (IDSW 1), MOTA = 1 − 1/10 = 0.9.
    const a = box(0);
    const b = box(100);
    const m = evaluateTracking(scene({ 1: [a, a, a, a, a, a, a], 2: [_, _, _, _, b, b, b] }, { 1: [a, a, a, a, b, b, b], 2: [_, _, _, _, a, a, a] }));
    expect(m).toMatchObject({ gtCount: 10, hypCount: 10, idtp: 6, idfp: 4, idfn: 4, idSwitches: 1 });
    expect(m.idf1).toBeCloseTo(0.6, 12);
    expect(m.mota).toBeCloseTo(0.9, 12);
  });

  it('prefers one long identity match over two short ones for IDF1', () => {
    // Frames 0-4: hyp 1 on gt A. Frame 5: hyp 1 jumps to gt B (which appears), hyp 2 starts on A.
    // overlap(A,1) = 5, overlap(A,2) = 1, overlap(B,1) = 1, overlap(B,2) = 0.
    // Matching more pairs (A↔2 + B↔1) gives IDTP 2; the optimum is A↔1 alone: IDTP 5.
    // gt boxes 6 + 1 = 7, hyp boxes 6 + 1 = 7 → IDFP 2, IDFN 2, IDF1 = 10/14 = 5/7.
    // CLEAR: at frame 5 hyp 1 left A (IoU 0), so A is re-matched to hyp 2 → IDSW 1, MOTA = 1 − 1/7.
    const a = box(0);
    const b = box(100);
    const m = evaluateTracking(scene({ 1: [a, a, a, a, a, a], 2: [_, _, _, _, _, b] }, { 1: [a, a, a, a, a, b], 2: [_, _, _, _, _, a] }));
    expect(m).toMatchObject({ gtCount: 7, hypCount: 7, idtp: 5, idfp: 2, idfn: 2, idSwitches: 1, matches: 7 });
    expect(m.idf1).toBeCloseTo(5 / 7, 12);
    expect(m.mota).toBeCloseTo(6 / 7, 12);
  });

  it('treats the IoU threshold as inclusive', () => {
    // 10×10 gt vs 10×20 hyp at the same corner: IoU = 100 / 200 = 0.5 exactly.
    const exact = [{ gt: [{ id: 1, box: box(0) }], hyp: [{ id: 1, box: { x1: 0, y1: 0, x2: 10, y2: 20, score: 1 } }] }];
    expect(evaluateTracking(exact)).toMatchObject({ matches: 1, misses: 0, falsePositives: 0, motp: 0.5, idtp: 1 });
    // Just below: IoU = 100 / 201.
    const below = [{ gt: [{ id: 1, box: box(0) }], hyp: [{ id: 1, box: { x1: 0, y1: 0, x2: 10, y2: 20.1, score: 1 } }] }];
    expect(evaluateTracking(below)).toMatchObject({ matches: 0, misses: 1, falsePositives: 1, mota: -1, idtp: 0, idf1: 0 });
    // A stricter threshold rejects the exact-0.5 pair; a looser one accepts the 100/201 pair.
    expect(evaluateTracking(exact, { iouThreshold: 0.6 }).matches).toBe(0);
    expect(evaluateTracking(below, { iouThreshold: 0.4 }).matches).toBe(1);
  });

  it('classifies mostly tracked (≥ 80%) and mostly lost (< 20%) at the boundaries', () => {
    // Five frames each: gt 1 matched 4/5 (80% → MT), gt 2 matched 1/5 (20% → partially tracked),
    // gt 3 matched 0/5 (ML), gt 4 matched 3/5 (neither).
    const g = (x: number) => [box(x), box(x), box(x), box(x), box(x)];
    const m = evaluateTracking(
      scene({ 1: g(0), 2: g(100), 3: g(200), 4: g(300) }, { 1: [box(0), box(0), box(0), box(0), _], 2: [box(100), _, _, _, _], 4: [box(300), box(300), box(300), _, _] }),
    );
    expect(m).toMatchObject({ gtTrajectories: 4, mostlyTracked: 1, mostlyLost: 1 });
  });

  it('returns documented values instead of NaN for empty inputs', () => {
    const none = evaluateTracking([]);
    expectNoNaN(none);
    expect(none).toMatchObject({ frames: 0, gtCount: 0, hypCount: 0, mota: 1, motp: 0, idp: 1, idr: 1, idf1: 1, gtTrajectories: 0 });

    const emptyFrames = evaluateTracking([
      { gt: [], hyp: [] },
      { gt: [], hyp: [] },
    ]);
    expectNoNaN(emptyFrames);
    expect(emptyFrames).toMatchObject({ frames: 2, mota: 1, idf1: 1 });

    // Only hypotheses: every box is an FP; no gt so MOTA is reported as 0, IDP 0, IDR 1, IDF1 0.
    const ghosts = evaluateTracking(scene({}, { 5: [box(0), box(0), box(0)] }));
    expectNoNaN(ghosts);
    expect(ghosts).toMatchObject({ falsePositives: 3, mota: 0, motp: 0, idp: 0, idr: 1, idf1: 0, idfp: 3 });

    // Only ground truth: every box is a miss; MOTA = 1 − 2/2 = 0, IDP 1, IDR 0, IDF1 0.
    const blind = evaluateTracking(scene({ 1: [box(0), box(0)] }, {}));
    expectNoNaN(blind);
    expect(blind).toMatchObject({ misses: 2, mota: 0, motp: 0, idp: 1, idr: 0, idf1: 0, mostlyLost: 1, mostlyTracked: 0 });
  });

  it('rejects duplicate ids within a frame and out-of-range thresholds', () => {
    const dup = [{ gt: [{ id: 1, box: box(0) }, { id: 1, box: box(50) }], hyp: [] }];
    expect(() => evaluateTracking(dup)).toThrow(/gt id 1 appears twice/);
    const dupHyp = [{ gt: [], hyp: [{ id: 3, box: box(0) }, { id: 3, box: box(50) }] }];
    expect(() => evaluateTracking(dupHyp)).toThrow(/hyp id 3/);
    for (const iouThreshold of [0, -0.1, 1.5, NaN]) expect(() => evaluateTracking([], { iouThreshold })).toThrow(RangeError);
  });

  it('keeps its identities on random noisy scenes', () => {
    const random = seededRandom(99);
    for (let trial = 0; trial < 30; trial++) {
      const people = 1 + Math.floor(random() * 5);
      const frames: TrackingFrame[] = [];
      for (let f = 0; f < 20; f++) {
        const gt = Array.from({ length: people }, (_u, p) => ({ id: p, box: box(p * 40 + f, 0) })).filter(() => random() > 0.1);
        const hyp = gt
          .filter(() => random() > 0.2)
          .map((g) => ({ id: random() < 0.1 ? 100 + g.id : g.id, box: box(g.box.x1 + (random() - 0.5) * 6, (random() - 0.5) * 6) }));
        if (random() < 0.3) hyp.push({ id: 500 + f, box: box(1000 + 50 * random()) });
        frames.push({ gt, hyp });
      }
      const m = evaluateTracking(frames);
      expectNoNaN(m);
      expect(m.matches + m.misses).toBe(m.gtCount);
      expect(m.matches + m.falsePositives).toBe(m.hypCount);
      expect(m.idtp + m.idfn).toBe(m.gtCount);
      expect(m.idtp + m.idfp).toBe(m.hypCount);
      expect(m.idtp).toBeLessThanOrEqual(Math.min(m.gtCount, m.hypCount));
      expect(m.mota).toBeLessThanOrEqual(1);
      expect(m.idf1).toBeGreaterThanOrEqual(0);
      expect(m.idf1).toBeLessThanOrEqual(1);
      expect(m.motp).toBeGreaterThanOrEqual(0.5);
      expect(m.mostlyTracked + m.mostlyLost).toBeLessThanOrEqual(m.gtTrajectories);
    }
  });
});
