/**
 * Fusion core on synthetic plan trajectories: the cases that the vtest split cannot isolate
 * (hand-over across a blind gap, a wrong association splitting, a late merge) with known answers.
 */
import { describe, expect, it } from 'vitest';
import { PlanCounter } from '../../src/fusion/planCounting.js';
import { planSchema, type PlanConfig } from '../../src/fusion/planConfigSchema.js';
import type { PlanObservation } from '../../src/fusion/planMapping.js';
import { fusionOptions, StoreFuser, toPlanTrackSamples, type FusedTick } from '../../src/fusion/storeFuser.js';
import { seededRandom } from '../../src/common/seededRandom.js';

const FRAME_MS = 100;

/** Seeded standard normal noise (Box–Muller). */
function gaussian(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A walker: position at time t (ms), and which cameras see it there. */
interface Walker {
  id: number;
  at: (tMs: number) => [number, number] | undefined;
}

interface CameraSpec {
  id: string;
  /** Plan x range this camera sees. */
  seesX: [number, number];
  /** Systematic offset of this camera's foot points (calibration error), metres. */
  bias?: [number, number];
  sigmaM?: number;
  /** Local track id of walker w (a camera's tracker numbers its own tracks). */
  localId?: (walkerId: number) => number;
}

function straight(id: number, from: [number, number], velocity: [number, number], startMs = 0, endMs = Infinity): Walker {
  return {
    id,
    at: (t) => (t < startMs || t > endMs ? undefined : [from[0] + (velocity[0] * (t - startMs)) / 1000, from[1] + (velocity[1] * (t - startMs)) / 1000]),
  };
}

function plan(extra: Partial<{ lines: unknown[]; zones: unknown[]; fusion: Record<string, number> }> = {}): PlanConfig {
  return planSchema.parse({ lines: [], zones: [], ...extra });
}

/** Runs walkers through cameras into a fuser and a plan counter; returns both, and the released ticks. */
function simulate(walkers: Walker[], cameras: CameraSpec[], config: PlanConfig, durationMs: number, noise = 0.05, seed = 7) {
  const noiseOf = gaussian(seed);
  const fuser = new StoreFuser(fusionOptions(config.fusion));
  const counter = new PlanCounter(config);
  const ticks: FusedTick[] = [];
  for (let t = 0; t <= durationMs; t += FRAME_MS) {
    for (const cam of cameras) {
      const observations: PlanObservation[] = [];
      for (const w of walkers) {
        const p = w.at(t);
        if (!p || p[0] < cam.seesX[0] || p[0] > cam.seesX[1]) continue;
        observations.push({
          localTrackId: cam.localId ? cam.localId(w.id) : w.id,
          x: p[0] + (cam.bias?.[0] ?? 0) + noise * noiseOf(),
          y: p[1] + (cam.bias?.[1] ?? 0) + noise * noiseOf(),
          sigmaM: cam.sigmaM ?? 0.1,
        });
      }
      fuser.ingest({ cameraId: cam.id, tMs: t, observations });
    }
    const released = fuser.tick(t);
    ticks.push(...released);
    counter.update(released);
  }
  const rest = fuser.flush();
  ticks.push(...rest);
  counter.update(rest);
  counter.finish();
  return { fuser, counter, ticks, summary: counter.summary() };
}

const storeIds = (ticks: FusedTick[]): Set<number> => new Set(ticks.flatMap((t) => t.positions.map((p) => p.storeTrackId)));

describe('StoreFuser', () => {
  const overlapping: CameraSpec[] = [
    { id: 'a', seesX: [0, 12] },
    { id: 'b', seesX: [8, 20], localId: (w) => 1000 + w },
  ];

  it('fuses one person seen by two overlapping cameras into one store track that crosses a line once', () => {
    const config = plan({ lines: [{ name: 'mid', points: [[10, 0], [10, 10]] }], zones: [{ name: 'overlap', polygon: [[8.5, 0], [11.5, 0], [11.5, 10], [8.5, 10]] }] });
    const { ticks, summary, fuser } = simulate([straight(1, [2, 5], [1.2, 0])], overlapping, config, 14_000);
    expect(storeIds(ticks).size).toBe(1);
    expect(summary.lines.mid).toEqual({ in: 0, out: 1 });
    expect(summary.zones.overlap!.visits).toBe(1);
    expect(fuser.stats.associations).toBe(1);
    // Where both cameras see the person, both contribute to the fused position.
    expect(ticks.some((t) => t.positions.some((p) => p.cameras === 2))).toBe(true);
  });

  it('naive per-camera counting of the same walk double-counts the overlap (what fusion prevents)', () => {
    const config = plan({ lines: [{ name: 'mid', points: [[10, 0], [10, 10]] }] });
    const perCamera = overlapping.map((cam) => simulate([straight(1, [2, 5], [1.2, 0])], [cam], config, 14_000).summary.lines.mid!);
    expect(perCamera.reduce((s, c) => s + c.in + c.out, 0)).toBe(2);
  });

  it('keeps two people walking side by side 1.6 m apart as two tracks, and counts both', () => {
    const config = plan({ lines: [{ name: 'mid', points: [[10, 0], [10, 10]] }] });
    const walkers = [straight(1, [2, 4], [1.2, 0]), straight(2, [2, 5.6], [1.2, 0])];
    const { ticks, summary } = simulate(walkers, overlapping, config, 14_000);
    expect(storeIds(ticks).size).toBe(2);
    expect(summary.lines.mid!.out).toBe(2);
  });

  it('hands a person over between neighbouring cameras that do not overlap, across the blind gap', () => {
    const config = plan({ lines: [{ name: 'gap', points: [[10.7, 0], [10.7, 10]] }] });
    const cameras: CameraSpec[] = [
      { id: 'a', seesX: [0, 10] },
      { id: 'b', seesX: [11.5, 20], localId: (w) => 1000 + w },
    ];
    const { ticks, summary, fuser } = simulate([straight(1, [4, 5], [1.2, 0])], cameras, config, 12_000);
    expect(fuser.stats.handovers).toBe(1);
    expect(storeIds(ticks).size).toBe(1);
    // Nobody saw the person on the line itself: the crossing is found from either side of the gap.
    expect(summary.lines.gap).toEqual({ in: 0, out: 1 });
  });

  it('does not hand over to someone appearing further away than a person can walk in the gap', () => {
    const cameras: CameraSpec[] = [
      { id: 'a', seesX: [0, 10] },
      { id: 'b', seesX: [11.5, 30], localId: (w) => 1000 + w },
    ];
    // Walker 1 leaves camera a at x = 10 (t ≈ 5 s); walker 2 appears in camera b at x = 25 at t = 6 s.
    const walkers = [straight(1, [4, 5], [1.2, 0], 0, 5_100), straight(2, [25, 5], [0.5, 0], 6_000)];
    const { ticks, fuser } = simulate(walkers, cameras, plan(), 10_000);
    expect(fuser.stats.handovers).toBe(0);
    expect(storeIds(ticks).size).toBe(2);
  });

  it('the same camera never takes over its own lost track (re-identification is the tracker’s job)', () => {
    const cameras: CameraSpec[] = [{ id: 'a', seesX: [0, 20] }];
    // The tracker loses walker 1 at 3 s and restarts it as a new local id at 3.5 s, 0.6 m further.
    const walkers = [straight(1, [2, 5], [1.2, 0], 0, 3_000), straight(2, [6.2, 5], [1.2, 0], 3_500)];
    const { ticks, fuser } = simulate(walkers, cameras, plan(), 8_000);
    expect(fuser.stats.handovers).toBe(0);
    expect(storeIds(ticks).size).toBe(2);
  });

  it('keeps an association through a brief disagreement but splits a wrong one that persists', () => {
    // Two people meet in the overlap, walk together, then part: camera b's track of person 2 was
    // linked to person 1 at first (they were within the gate when b first saw them).
    const config = plan({ fusion: { break_after_s: 1 } });
    const cameras: CameraSpec[] = [
      { id: 'a', seesX: [0, 20] },
      { id: 'b', seesX: [0, 20], localId: (w) => 1000 + w },
    ];
    const one = straight(1, [5, 5], [1, 0]);
    const two: Walker = { id: 2, at: (t) => (t < 2_000 ? undefined : [5 + t / 1000, t < 4_000 ? 5.3 : 5.3 + (1.5 * (t - 4_000)) / 1000]) };
    // Camera a sees only person 1; camera b sees only person 2 (person 1 is hidden from it).
    const onlyA: Walker = { id: 1, at: one.at };
    const cams: CameraSpec[] = [cameras[0]!, cameras[1]!];
    const noiseOf = gaussian(1);
    const fuser = new StoreFuser(fusionOptions(config.fusion));
    for (let t = 0; t <= 9_000; t += FRAME_MS) {
      for (const cam of cams) {
        const w = cam.id === 'a' ? onlyA : two;
        const p = w.at(t);
        const observations = p ? [{ localTrackId: cam.id === 'a' ? 1 : 1002, x: p[0] + 0.03 * noiseOf(), y: p[1] + 0.03 * noiseOf(), sigmaM: 0.1 }] : [];
        fuser.ingest({ cameraId: cam.id, tMs: t, observations });
      }
      fuser.tick(t);
      // While they walk together (2–4 s) and just after they start to part, the link holds.
      if (t === 4_500) expect(fuser.visibleCount(t)).toBe(1);
    }
    expect(fuser.stats.associations).toBe(1);
    expect(fuser.stats.breaks).toBe(1);
    expect(fuser.visibleCount(9_000)).toBe(2);
  });

  it('redoes the held-back positions when a wrong association splits, so the one who walked away still crosses the line', () => {
    // Person 1 (only camera a sees them) walks right; person 2 (only camera b) joins them at 2 s,
    // walks along 0.3 m apart, and at 4 s turns back left across the line at x = 8 (at ≈ 4.7 s).
    // The split only comes at ≈ 5.8 s (2 m apart, for 1 s), after the crossing; the ticks from
    // 4.3 s on are still held back (1.5 s decision delay) and are redone from person 2's own
    // sightings as their own track, so the crossing is found. Without the redo it is lost.
    const config = plan({ lines: [{ name: 'back', points: [[8, 0], [8, 10]] }] });
    const fuser = new StoreFuser(fusionOptions(config.fusion));
    const counter = new PlanCounter(config);
    for (let t = 0; t <= 9_000; t += FRAME_MS) {
      const x1 = 5 + t / 1000;
      fuser.ingest({ cameraId: 'a', tMs: t, observations: [{ localTrackId: 1, x: x1, y: 5, sigmaM: 0.1 }] });
      const x2 = t < 4_000 ? x1 : 9 - (1.5 * (t - 4_000)) / 1000;
      fuser.ingest({ cameraId: 'b', tMs: t, observations: t < 2_000 ? [] : [{ localTrackId: 7, x: x2, y: 5.3, sigmaM: 0.1 }] });
      counter.update(fuser.tick(t));
    }
    counter.update(fuser.flush());
    expect(fuser.stats.breaks).toBe(1);
    // Person 1 crossed left to right once (with person 2 beside them), person 2 came back once.
    expect(counter.summary().lines.back).toEqual({ in: 1, out: 1 });
  });

  it('merges two store tracks of one person when the association failed at first, and counts the person once', () => {
    // Camera b's first sightings are 1.4 m off (beyond the 1 m gate); the error fades within 1 s
    // (e.g. the person stepped out of a cut-off edge). The tracks come within gate / 2 at ~0.65 s and
    // merge 0.6 s later, inside the 1.5 s decision delay, which hides the interim split.
    const config = plan({ lines: [{ name: 'mid', points: [[10, 0], [10, 10]] }], zones: [{ name: 'z', polygon: [[8, 0], [12, 0], [12, 10], [8, 10]] }] });
    const fuser = new StoreFuser(fusionOptions(config.fusion));
    const counter = new PlanCounter(config);
    const ticks: FusedTick[] = [];
    for (let t = 0; t <= 10_000; t += FRAME_MS) {
      const x = 7 + t / 1000;
      const biasB = t < 1_000 ? 1.4 * (1 - t / 1_000) : 0;
      fuser.ingest({ cameraId: 'a', tMs: t, observations: [{ localTrackId: 1, x, y: 5, sigmaM: 0.1 }] });
      fuser.ingest({ cameraId: 'b', tMs: t, observations: [{ localTrackId: 9, x: x + biasB, y: 5, sigmaM: 0.1 }] });
      const released = fuser.tick(t);
      ticks.push(...released);
      counter.update(released);
    }
    const rest = fuser.flush();
    ticks.push(...rest);
    counter.update(rest);
    counter.finish();
    expect(fuser.stats.merges).toBe(1);
    expect(storeIds(ticks).size).toBe(1);
    expect(counter.summary().lines.mid).toEqual({ in: 0, out: 1 });
    expect(counter.summary().zones.z!.visits).toBe(1);
  });

  it('weights each camera by its uncertainty', () => {
    const fuser = new StoreFuser(fusionOptions(plan().fusion));
    // 5 s: each camera's learnt offset settles (1 s time constant), then the mean is the weighted one.
    for (let t = 0; t <= 5_000; t += FRAME_MS) {
      fuser.ingest({ cameraId: 'near', tMs: t, observations: [{ localTrackId: 1, x: 5, y: 5, sigmaM: 0.1 }] });
      // A far (or cut-off) view of the same person, 0.6 m off and 5× less certain.
      fuser.ingest({ cameraId: 'far', tMs: t, observations: [{ localTrackId: 1, x: 5.6, y: 5, sigmaM: 0.5 }] });
      fuser.tick(t);
    }
    const [tick] = fuser.flush().slice(-1);
    const p = tick!.positions[0]!;
    // Inverse-variance weights 100 : 4 → 5 + 0.6 · 4/104.
    expect(p.x).toBeCloseTo(5 + (0.6 * 4) / 104, 2);
    expect(p.cameras).toBe(2);
  });

  it('drops a camera that stopped reporting from the fused position', () => {
    const fuser = new StoreFuser(fusionOptions(plan().fusion));
    for (let t = 0; t <= 5_000; t += FRAME_MS) {
      fuser.ingest({ cameraId: 'a', tMs: t, observations: [{ localTrackId: 1, x: 5, y: 5, sigmaM: 0.2 }] });
      // Camera b freezes after 500 ms with the person 0.5 m to the right.
      if (t <= 500) fuser.ingest({ cameraId: 'b', tMs: t, observations: [{ localTrackId: 1, x: 5.5, y: 5, sigmaM: 0.2 }] });
      fuser.tick(t);
    }
    const last = fuser.flush().slice(-1)[0]!.positions[0]!;
    expect(last.cameras).toBe(1);
    expect(last.x).toBeCloseTo(5, 1);
  });

  it('glides rather than jumps when a camera that sees the person 0.6 m off stops seeing them', () => {
    const fuser = new StoreFuser(fusionOptions(plan().fusion));
    const xs: number[] = [];
    for (let t = 0; t <= 8_000; t += FRAME_MS) {
      fuser.ingest({ cameraId: 'a', tMs: t, observations: [{ localTrackId: 1, x: 5, y: 5, sigmaM: 0.2 }] });
      if (t <= 3_000) fuser.ingest({ cameraId: 'b', tMs: t, observations: [{ localTrackId: 1, x: 5.6, y: 5, sigmaM: 0.2 }] });
      for (const tick of fuser.tick(t)) xs.push(tick.positions[0]!.x);
    }
    xs.push(...fuser.flush().map((tick) => tick.positions[0]!.x));
    // Both cameras: the mean, 5.3. Camera a alone: its own 5.0 — reached without a 0.3 m step.
    expect(xs[25]).toBeCloseTo(5.3, 1);
    expect(xs.at(-1)).toBeCloseTo(5, 1);
    const steps = xs.slice(1).map((x, i) => Math.abs(x - xs[i]!));
    expect(Math.max(...steps)).toBeLessThan(0.05);
  });

  it('releases ticks only after the decision delay, and all of them on flush', () => {
    const config = plan({ fusion: { decision_delay_s: 1 } });
    const fuser = new StoreFuser(fusionOptions(config.fusion));
    const released: number[] = [];
    for (let t = 0; t <= 2_000; t += FRAME_MS) {
      fuser.ingest({ cameraId: 'a', tMs: t, observations: [{ localTrackId: 1, x: 1, y: 1, sigmaM: 0.1 }] });
      for (const tick of fuser.tick(t)) {
        expect(tick.tMs).toBeLessThanOrEqual(t - 1_000);
        released.push(tick.tMs);
      }
    }
    expect(released.at(-1)).toBe(1_000);
    expect(fuser.flush().map((t) => t.tMs)).toEqual(Array.from({ length: 10 }, (_, i) => 1_100 + i * FRAME_MS));
  });

  it('refuses a camera frame older than its previous one and sightings that are not numbers, and counts them', () => {
    const fuser = new StoreFuser(fusionOptions(plan().fusion));
    fuser.ingest({ cameraId: 'a', tMs: 1_000, observations: [{ localTrackId: 1, x: 5, y: 5, sigmaM: 0.1 }] });
    fuser.ingest({ cameraId: 'a', tMs: 900, observations: [{ localTrackId: 1, x: 50, y: 50, sigmaM: 0.1 }] });
    fuser.ingest({ cameraId: 'a', tMs: 1_100, observations: [{ localTrackId: 2, x: Number.NaN, y: 5, sigmaM: 0.1 }, { localTrackId: 3, x: 6, y: 5, sigmaM: 0 }] });
    expect(fuser.stats.refused).toEqual({ outOfOrder: 1, notFinite: 2 });
    expect(fuser.stats.storeTracks).toBe(1);
    const [tick] = fuser.tick(1_100).concat(fuser.flush());
    expect(tick!.positions).toEqual([expect.objectContaining({ x: 5, y: 5 })]);
    // Ticks only move forward.
    expect(fuser.tick(1_000)).toEqual([]);
    expect(fuser.flush()).toEqual([]);
  });

  it('converts released ticks to journey samples', () => {
    const samples = toPlanTrackSamples([{ tMs: 100, positions: [{ storeTrackId: 3, x: 1.5, y: 2.5, cameras: 2 }] }]);
    expect(samples).toEqual([{ trackId: 'store-3', tMs: 100, x: 1.5, y: 2.5 }]);
  });
});

describe('PlanCounter', () => {
  it('emits store-level events without camera or track ids', () => {
    const config = plan({ lines: [{ name: 'door', points: [[5, 0], [5, 10]] }], zones: [{ name: 'promo', polygon: [[6, 0], [9, 0], [9, 10], [6, 10]], min_dwell_s: 1 }] });
    const counter = new PlanCounter(config);
    const events = [];
    for (let t = 0; t <= 8_000; t += FRAME_MS) events.push(...counter.update([{ tMs: t, positions: [{ storeTrackId: 1, x: 3 + t / 1000, y: 5, cameras: 1 }] }]));
    events.push(...counter.finish());
    expect(events.map((e) => e.type)).toEqual(['plan_line_crossing', 'plan_zone_visit']);
    for (const e of events) {
      expect(Object.keys(e)).not.toContain('trackId');
      expect(Object.keys(e)).not.toContain('camera');
    }
    // The side changes once the foot point is 0.3 m (the default hysteresis) past the line.
    expect(events[0]).toMatchObject({ line: 'door', direction: 'out', ts: 2_400 });
    expect(events[1]).toMatchObject({ zone: 'promo', counted: true });
    expect(counter.summary().max_people).toBe(1);
  });
});

describe('a camera track id handed on to someone else after a gap', () => {
  // Two cameras see the same floor. Camera A's tracker loses person 1 for 3 frames, then gives its
  // id to person 2, who starts 4 m away (trackers carry a lost id over to a track that starts where
  // it was last seen); camera B follows both people throughout.
  const run = (returnAt: (tMs: number) => [number, number]) => {
    const fuser = new StoreFuser(fusionOptions(plan().fusion));
    const p1 = (t: number): [number, number] => [2 + t / 1000, 5];
    const p2 = (t: number): [number, number] => [2 + t / 1000, 9];
    const obs = (localTrackId: number, [x, y]: [number, number]): PlanObservation => ({ localTrackId, x, y, sigmaM: 0.1 });
    const positions: { t: number; a: number[] }[] = [];
    for (let t = 0; t <= 4000; t += FRAME_MS) {
      // Camera A: person 1 as track 7 until 1.5 s, nothing for 3 frames, then track 7 again at returnAt.
      const a = t < 1500 ? [obs(7, p1(t))] : t < 1800 ? [] : [obs(7, returnAt(t))];
      fuser.ingest({ cameraId: 'a', tMs: t, observations: a });
      fuser.ingest({ cameraId: 'b', tMs: t, observations: [obs(1, p1(t)), obs(2, p2(t))] });
      for (const tick of fuser.tick(t)) positions.push({ t: tick.tMs, a: tick.positions.map((p) => p.y).sort((x, y) => x - y) });
    }
    return { fuser, positions };
  };

  it('is associated afresh with the person it now follows, and never drags the first person’s track', () => {
    const { fuser, positions } = run((t) => [2 + t / 1000, 9]);
    expect(fuser.stats.reassigned).toBe(1);
    expect(fuser.stats.storeTracks).toBe(2);
    // Every fused position stays on one of the two walkers' rows (y 5 and 9), never in between.
    for (const { a } of positions) for (const y of a) expect(Math.min(Math.abs(y - 5), Math.abs(y - 9))).toBeLessThan(0.2);
  });

  it('stays with its store track when it comes back where its person is', () => {
    const { fuser } = run((t) => [2 + t / 1000, 5.1]);
    expect(fuser.stats.reassigned).toBe(0);
    expect(fuser.stats.storeTracks).toBe(2);
  });
});
