import { describe, expect, it } from 'vitest';
import { walkTogether } from '../../src/analytics/journeys/buyingUnits.js';
import { JourneyAccumulator } from '../../src/analytics/journeys/journeyAccumulator.js';
import { JourneyStream } from '../../src/analytics/journeys/journeyStream.js';
import { offset, runStream, SHOPPER, storeConfig, unitsOf, walk, type Waypoint } from './trajectories.js';

// Rule in use (the defaults): start ≤ 3 s apart, ≤ 1.5 m apart in ≥ 80 % of the 5 s after the later start, ≤ 6 people.
const config = storeConfig();
const unitsFor = (walks: Record<string, Waypoint[]>) => unitsOf(runStream(new JourneyStream('cam', config), Object.entries(walks).map(([id, w]) => walk(id, w))));

const trace = (waypoints: Waypoint[]) => ({ startMs: waypoints[0]![0] * 1000, samples: walk('x', waypoints) });

describe('buying units (groups)', () => {
  it('counts a couple walking side by side as one unit of 2', () => {
    const partner = offset(SHOPPER, 0, 0.6, 0.3);
    const verdict = walkTogether(trace(SHOPPER), trace(partner), config.groups);
    expect(verdict.together).toBe(true);
    expect(verdict.meanDistanceM).toBeGreaterThan(0.6);
    expect(verdict.meanDistanceM).toBeLessThan(1.5);
    expect(unitsFor({ a: SHOPPER, b: partner })).toEqual([['a', 'b']]);
  });

  it('does not join a stranger who entered at the same time and passed close for a moment', () => {
    // Walks past the shopper standing at the entrance at 0.5 m, within 1.5 m for about 1 s, then leaves.
    const stranger: Waypoint[] = [[1, 1.5, 9], [4, 1.5, 0]];
    const verdict = walkTogether(trace(SHOPPER), trace(stranger), config.groups);
    expect(verdict.fraction).toBeGreaterThan(0);
    expect(verdict.together).toBe(false);
    expect(unitsFor({ a: SHOPPER, s: stranger })).toEqual([['a'], ['s']]);
  });

  it('counts a family of 3 as one unit', () => {
    const units = unitsFor({ mum: SHOPPER, dad: offset(SHOPPER, 0, 0.8, 0.1), kid: offset(SHOPPER, -0.4, 0.4, 0.2) });
    expect(units).toEqual([['dad', 'kid', 'mum']]);
  });

  it('keeps apart two people who entered 1 s apart but went different ways at once', () => {
    const toAisle: Waypoint[] = [[1, 1, 3], [3, 7, 8], [10, 7, 8], [13, 1, 3]];
    expect(walkTogether(trace(SHOPPER), trace(toAisle), config.groups).together).toBe(false);
    expect(unitsFor({ a: SHOPPER, b: toAisle })).toEqual([['a'], ['b']]);
  });

  it('does not chain: a person next to one member only is not in the unit (complete linkage)', () => {
    // b is 1 m from a and 1 m from c, but a and c are 2 m apart.
    const units = unitsFor({ a: SHOPPER, b: offset(SHOPPER, 0, 1, 0), c: offset(SHOPPER, 0, 2, 0) });
    expect(units.map((u) => u.length).sort()).toEqual([1, 2]);
    expect(units).toContainEqual(['a', 'b']);
  });

  it('does not pair people whose first sightings are further apart than the entry gap, even walking together', () => {
    expect(unitsFor({ a: SHOPPER, late: offset(SHOPPER, 0, 0.5, 3.5) })).toEqual([['a'], ['late']]);
  });

  it('splits a crowd larger than max_size', () => {
    const crowd = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`p${i}`, offset(SHOPPER, 0, i * 0.3, 0)]));
    const rule = storeConfig({ groups: { max_size: 3 } });
    const units = unitsOf(runStream(new JourneyStream('cam', rule), Object.entries(crowd).map(([id, w]) => walk(id, w))));
    // Closest pairs merge first, so the split depends on sub-millimetre differences: what is fixed is the cap.
    expect(Math.max(...units.map((u) => u.length))).toBeLessThanOrEqual(3);
    expect(units.length).toBe(2);
    expect(units.flat().sort()).toEqual(['p0', 'p1', 'p2', 'p3']);
  });

  it('converts per buying unit as well as per person', () => {
    // A couple: she goes to the till, he waits at the promotion and leaves; a lone shopper goes to the till later.
    const waitsAtPromo: Waypoint[] = [[0.2, 1, 2.6], [3.2, 1, 2.6], [5.2, 7, 2.6], [26, 7, 2.6], [28, 1, 9]];
    const stream = new JourneyStream('cam', config);
    const journeys = runStream(stream, [walk('she', SHOPPER), walk('he', waitsAtPromo), walk('alone', offset(SHOPPER, 0, 0, 60))]);
    expect(unitsOf(journeys)).toEqual([['alone'], ['he', 'she']]);
    const accumulator = new JourneyAccumulator({ zones: config.zones.map((z) => z.name), funnel: config.funnel, minPathCount: 1, retentionMs: 86_400_000 });
    for (const j of journeys) accumulator.add(j);
    const report = accumulator.report(0, 3_600_000);
    expect(report.funnel.map((s) => [s.zone, s.persons, s.units])).toEqual([
      ['entrance', 3, 2],
      ['promo', 3, 2],
      ['till', 2, 2],
    ]);
    expect(report.conversion).toEqual({ persons: 0.6667, units: 1 });
    expect(report.buying_units).toEqual({ units: 2, persons: 3, mean_size: 1.5, sizes: [{ size: 1, units: 1 }, { size: 2, units: 1 }] });
    expect(accumulator.pendingUnitCount).toBe(0);
    expect(stream.pendingCount).toBe(0);
  });

  it('hands journeys on while the stream runs, not only at the flush', () => {
    const stream = new JourneyStream('cam', config);
    const early = walk('early', SHOPPER);
    const done = [];
    for (const s of early) done.push(...stream.update([s], s.tMs));
    // 10 s unseen ends the journey; by then its unit (decided 8 s after its start) is known.
    done.push(...stream.update([], 37_000));
    expect(done.map((j) => [j.trackId, j.unitSize])).toEqual([['early', 1]]);
    expect(stream.flush()).toEqual([]);
  });
});
