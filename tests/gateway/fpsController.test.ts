import { describe, expect, it } from 'vitest';
import { estimateCapacity, fairLevel, FpsController, FrameThinner, type CameraDemand, type CapacitySample } from '../../src/gateway/fpsController.js';

const cams = (n: number, extra: Partial<CameraDemand> = {}): CameraDemand[] =>
  Array.from({ length: n }, (_, i) => ({ id: `cam${i + 1}`, configuredFps: 5, minFps: 2, detectFraction: 1, ...extra }));
/** A pool of 2 workers that finishes `capacity` frames/s. */
const pool = (capacity: number, extra: Partial<CapacitySample> = {}): CapacitySample => ({ workers: 2, meanServiceMs: 2000 / capacity, completedFps: capacity, droppedRatio: 0, ...extra });
const targetsOf = (plan: ReturnType<FpsController['update']>) => [...plan.targets.values()].map((t) => t.targetFps);

describe('fair fps level (max-min)', () => {
  it('leaves cameras alone when they all fit', () => {
    expect(fairLevel(cams(8), 40)).toBe(Infinity);
  });

  it('gives every camera the same rate when they ask the same', () => {
    expect(fairLevel(cams(16), 40)).toBeCloseTo(2.5);
  });

  it('lets a camera configured below the fair level keep its rate and shares the rest among the others', () => {
    const demands = [...cams(3), { id: 'slow', configuredFps: 1, minFps: 1, detectFraction: 1 }];
    // 1 fps for the slow one, (10 − 1) / 3 = 3 for the others.
    expect(fairLevel(demands, 10)).toBeCloseTo(3);
  });

  it('keeps a camera at its minimum when the fair share is below it, and lowers the others to make room', () => {
    const demands = [...cams(3, { minFps: 1 }), { id: 'entrance', configuredFps: 5, minFps: 4, detectFraction: 1 }];
    // Equal shares would be 2.5 < 4: the entrance is pinned at 4, the others share the 6 left.
    expect(fairLevel(demands, 10)).toBeCloseTo(2);
  });

  it('ignores the minimums (everyone evenly lower) when they alone exceed the budget', () => {
    expect(fairLevel(cams(20), 30)).toBeCloseTo(1.5);
  });

  it('counts a camera whose frames the motion gate mostly skips as cheaper', () => {
    const demands = [...cams(2), { id: 'still', configuredFps: 5, minFps: 2, detectFraction: 0.5 }];
    // L + L + 0.5 L = 10 → L = 4.
    expect(fairLevel(demands, 10)).toBeCloseTo(4);
  });
});

describe('capacity estimate', () => {
  it('is workers / time per frame', () => {
    expect(estimateCapacity(pool(40), 0.03)).toBeCloseTo(40);
  });

  it('is what the pool actually finished when it was dropping frames (saturated)', () => {
    expect(estimateCapacity(pool(40, { completedFps: 30, droppedRatio: 0.2 }), 0.03)).toBeCloseTo(30);
  });

  it('is unknown without a finished frame', () => {
    expect(estimateCapacity(pool(40, { meanServiceMs: undefined }), 0.03)).toBeUndefined();
  });
});

describe('FpsController', () => {
  it('lowers every camera evenly under overload, within the capacity', () => {
    const c = new FpsController({ headroom: 0.85 });
    const plan = c.update(0, cams(16), pool(45));
    const targets = targetsOf(plan);
    expect(new Set(targets).size).toBe(1); // all the same
    expect(targets[0]).toBeLessThan(5);
    expect(targets.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(45 * 0.85);
    expect([...plan.targets.values()].every((t) => t.limited && !t.belowMin)).toBe(true);
  });

  it('lowers every camera evenly below its minimum only with the alert, when the minimums do not fit', () => {
    const c = new FpsController();
    const demands = [...cams(19), { id: 'entrance', configuredFps: 5, minFps: 4, detectFraction: 1 }];
    const plan = c.update(0, demands, pool(45)); // minimums need 42 > 0.85 × 45; even share 1.9 → 1.75
    for (const d of demands) {
      const t = plan.targets.get(d.id)!;
      expect(t.targetFps).toBe(1.75);
      expect(t.belowMin).toBe(true);
    }
    // Never below a minimum without the alert, whatever the capacity.
    for (const capacity of [5, 20, 40, 45, 50, 60, 100]) {
      for (const t of new FpsController().update(0, demands, pool(capacity)).targets.values()) {
        if (t.targetFps < 2) expect(t.belowMin).toBe(true);
      }
    }
  });

  it('holds a camera at its minimum (no alert) while the minimums fit, lowering the others to make room', () => {
    const demands = [...cams(3, { minFps: 1 }), { id: 'entrance', configuredFps: 5, minFps: 4, detectFraction: 1 }];
    const plan = new FpsController({ headroom: 1 }).update(0, demands, pool(10));
    expect(plan.targets.get('entrance')).toEqual({ targetFps: 4, limited: true, belowMin: false });
    for (const id of ['cam1', 'cam2', 'cam3']) expect(plan.targets.get(id)).toEqual({ targetFps: 2, limited: true, belowMin: false });
  });

  it('does not raise the alert when the fair share is above the minimum', () => {
    const plan = new FpsController().update(0, cams(12), pool(45));
    expect([...plan.targets.values()].some((t) => t.belowMin)).toBe(false);
  });

  it('keeps the configured fps when there is room', () => {
    const plan = new FpsController().update(0, cams(8), pool(60));
    expect(targetsOf(plan)).toEqual(Array(8).fill(5));
    expect([...plan.targets.values()].some((t) => t.limited)).toBe(false);
  });

  it('raises the rates again only after the room has lasted the hold time', () => {
    const c = new FpsController({ raiseHoldMs: 10_000 });
    const low = targetsOf(c.update(0, cams(16), pool(30)))[0]!;
    expect(targetsOf(c.update(2_000, cams(16), pool(60)))[0]).toBe(low);
    expect(targetsOf(c.update(8_000, cams(16), pool(60)))[0]).toBe(low);
    const raised = targetsOf(c.update(12_000, cams(16), pool(60)))[0]!;
    expect(raised).toBeGreaterThan(low);
  });

  it('climbs back in steps, one per hold time, not straight to the full rate', () => {
    const c = new FpsController({ raiseHoldMs: 10_000 });
    expect(targetsOf(c.update(0, cams(16), pool(30)))[0]).toBe(1.5); // minimums (32) do not fit 25.5: even, below
    const seen: number[] = [];
    for (let t = 2_000; t <= 120_000; t += 2_000) seen.push(targetsOf(c.update(t, cams(16), pool(1000)))[0]!);
    const distinct = [...new Set(seen)];
    expect(distinct).toEqual([...distinct].sort((a, b) => a - b)); // only up
    expect(distinct.length).toBeGreaterThanOrEqual(4); // several steps: 1.5 → 2 → 2.5 → 3 → 3.75 → 4.5 → 5
    expect(seen.at(-1)).toBe(5);
    expect(c.currentLevel).toBe(Infinity);
  });

  it('restarts the hold when the room goes away in between', () => {
    const c = new FpsController({ raiseHoldMs: 10_000 });
    c.update(0, cams(16), pool(30));
    c.update(2_000, cams(16), pool(60)); // room: the hold starts
    const dipped = targetsOf(c.update(6_000, cams(16), pool(10)))[0]!; // the room is gone (lowered, hold reset)
    expect(targetsOf(c.update(12_000, cams(16), pool(60)))[0]).toBe(dipped); // room again: a new hold starts here
    expect(targetsOf(c.update(16_000, cams(16), pool(60)))[0]).toBe(dipped); // 12 s after the first room, 4 s into this one
    expect(targetsOf(c.update(22_000, cams(16), pool(60)))[0]).toBeGreaterThan(dipped);
  });

  it('does not oscillate on a noisy capacity measure', () => {
    const c = new FpsController();
    let seed = 7;
    const noise = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31 - 0.5; // ±0.5
    };
    const levels: number[] = [];
    for (let t = 0; t < 600_000; t += 2_000) levels.push(targetsOf(c.update(t, cams(16), pool(45 * (1 + 0.1 * noise()))))[0]!);
    // After the first drop to the fair level, ±5 % noise never moves the rates up (the raise margin
    // is 10 %) and only the occasional low reading moves them down by a quantum.
    const changes = levels.slice(1).filter((l, i) => l !== levels[i]).length;
    expect(changes).toBeLessThanOrEqual(3);
    expect(Math.min(...levels)).toBeGreaterThanOrEqual(2);
  });

  it('settles in a closed loop with a saturating pool and stays put', () => {
    // A simulated pool of 45 frames/s whose time per frame grows with its load (contention), which
    // drops what it cannot take: the controller must converge to an even rate and then hold it.
    const c = new FpsController();
    const capacity = 45;
    let targets = targetsOf(c.update(0, cams(16), pool(capacity)));
    const history: number[][] = [];
    for (let t = 2_000; t <= 600_000; t += 2_000) {
      const offered = targets.reduce((a, b) => a + b, 0);
      const completed = Math.min(offered, capacity);
      const utilisation = completed / capacity;
      const sample = { workers: 2, meanServiceMs: (2000 / capacity) * (0.8 + 0.2 * utilisation), completedFps: completed, droppedRatio: offered > capacity ? (offered - capacity) / offered : 0 };
      targets = targetsOf(c.update(t, cams(16), sample));
      history.push(targets);
    }
    const last = history.slice(-150); // the last 5 minutes
    expect(last.every((ts) => ts.every((x) => x === last[0]![0]))).toBe(true); // even and unchanging
    expect(last[0]![0]! * 16).toBeLessThanOrEqual(capacity); // no drops once settled
    expect(last[0]![0]).toBeGreaterThanOrEqual(2);
  });

  it('lowers at once when the capacity falls', () => {
    const c = new FpsController();
    const before = targetsOf(c.update(0, cams(12), pool(45)))[0]!;
    const after = targetsOf(c.update(2_000, cams(12), pool(30)))[0]!;
    expect(after).toBeLessThan(before);
  });

  it('keeps its last estimate over an interval without finished frames', () => {
    const c = new FpsController();
    const before = targetsOf(c.update(0, cams(16), pool(45)));
    expect(targetsOf(c.update(2_000, cams(16), pool(45, { meanServiceMs: undefined, completedFps: 0 })))).toEqual(before);
  });

  it('gives a camera added later the current level', () => {
    const c = new FpsController();
    const level = targetsOf(c.update(0, cams(16), pool(45)))[0]!;
    expect(c.targets([{ id: 'new', configuredFps: 5, minFps: 1, detectFraction: 1 }]).get('new')!.targetFps).toBe(level);
  });

  it('refuses options that make no sense', () => {
    expect(() => new FpsController({ headroom: 0 })).toThrow(/headroom/);
    expect(() => new FpsController({ quantumFps: -1 })).toThrow(/quantumFps/);
  });
});

describe('FrameThinner', () => {
  const kept = (target: number, configured: number, frames: number): boolean[] => {
    const thinner = new FrameThinner();
    return Array.from({ length: frames }, () => thinner.keep(target, configured));
  };

  it('keeps every frame at the configured rate', () => {
    expect(kept(5, 5, 10).every(Boolean)).toBe(true);
  });

  it('keeps target / configured of the frames, evenly spread', () => {
    expect(kept(2.5, 5, 10)).toEqual([false, true, false, true, false, true, false, true, false, true]);
    const fourInFive = kept(4, 5, 100);
    expect(fourInFive.filter(Boolean).length).toBe(80);
    // Never two frames left out in a row at 4 of 5.
    expect(fourInFive.some((k, i) => !k && fourInFive[i + 1] === false)).toBe(false);
  });
});
