import { describe, expect, it } from 'vitest';
import { addJourney, addUnit, emptyCounts, funnelDepth, journeyReport, mergeCounts, pathKey, zoneSequence } from '../../src/analytics/journeys/journeyAggregate.js';
import type { ZoneVisit } from '../../src/analytics/journeys/journeyTracker.js';

const FUNNEL = ['entrance', 'promo', 'till'];
const ZONE_NAMES = ['entrance', 'promo', 'aisle', 'till'];

/** Visits 10 s apart, 4 s each, in the given order. */
const visits = (...zones: string[]): ZoneVisit[] => zones.map((zone, i) => ({ zone, enterMs: i * 10_000, exitMs: i * 10_000 + 4000, dwellMs: 4000 }));

function countsOf(journeys: string[][]) {
  const counts = emptyCounts(FUNNEL.length);
  for (const zones of journeys) addJourney(counts, visits(...zones), FUNNEL);
  return counts;
}

const repeat = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);

describe('journey aggregation', () => {
  it('collapses back-to-back visits of one zone and finds funnel depth in order', () => {
    expect(zoneSequence(visits('entrance', 'promo', 'promo', 'till', 'promo'))).toEqual(['entrance', 'promo', 'till', 'promo']);
    expect(funnelDepth(['entrance', 'aisle', 'promo', 'till'], FUNNEL)).toBe(3);
    expect(funnelDepth(['entrance', 'till', 'promo'], FUNNEL)).toBe(2); // till before promo does not count
    expect(funnelDepth(['promo', 'till'], FUNNEL)).toBe(0); // never seen at the entrance
    expect(pathKey(['entrance', 'promo', 'aisle', 'till', 'promo'])).toBe('entrance > promo > aisle > till > …');
  });

  it('builds the transition matrix with entry and exit pseudo-states', () => {
    const report = journeyReport(countsOf([['entrance', 'promo', 'till'], ['entrance', 'promo', 'till'], ['entrance', 'aisle'], []]), { zones: ZONE_NAMES, funnel: FUNNEL, minPathCount: 1 });
    expect(report.states).toEqual(['entry', 'entrance', 'promo', 'aisle', 'till', 'exit']);
    expect(report.transitions).toEqual([
      { from: 'entry', to: 'entrance', count: 3 },
      { from: 'entry', to: 'exit', count: 1 },
      { from: 'entrance', to: 'promo', count: 2 },
      { from: 'entrance', to: 'aisle', count: 1 },
      { from: 'promo', to: 'till', count: 2 },
      { from: 'aisle', to: 'exit', count: 1 },
      { from: 'till', to: 'exit', count: 2 },
    ]);
    // Every journey leaves the entry state once and reaches the exit once.
    const sum = (state: 'from' | 'to', name: string) => report.transitions.filter((t) => t[state] === name).reduce((a, t) => a + t.count, 0);
    expect(sum('from', 'entry')).toBe(4);
    expect(sum('to', 'exit')).toBe(4);
  });

  it('reports a path only when at least min_path_count journeys took it; the rest is "other"', () => {
    const counts = countsOf([
      ...repeat(6, ['entrance', 'promo', 'till']),
      ...repeat(5, ['entrance', 'aisle']),
      ...repeat(4, ['entrance', 'promo']), // one short of the minimum
      ['entrance', 'aisle', 'promo', 'till', 'promo', 'aisle'], // a lone long walk
      [],
    ]);
    const report = journeyReport(counts, { zones: ZONE_NAMES, funnel: FUNNEL, minPathCount: 5 });
    expect(report.top_paths).toEqual([
      { zones: ['entrance', 'promo', 'till'], continues: false, count: 6 },
      { zones: ['entrance', 'aisle'], continues: false, count: 5 },
    ]);
    expect(report.other_paths).toEqual({ paths: 3, journeys: 6 });
    expect(report.journeys).toBe(17);
    // The lone long walk is not identifiable anywhere in the report's paths.
    expect(JSON.stringify(report.top_paths)).not.toContain('…');
    const lowered = journeyReport(counts, { zones: ZONE_NAMES, funnel: FUNNEL, minPathCount: 1 });
    expect(lowered.top_paths).toContainEqual({ zones: ['entrance', 'aisle', 'promo', 'till'], continues: true, count: 1 });
    expect(lowered.top_paths).toContainEqual({ zones: [], continues: false, count: 1 });
  });

  it('counts the funnel per person and per buying unit with step conversion', () => {
    const counts = countsOf([
      ['entrance', 'promo', 'till'], // couple: one goes to the till …
      ['entrance', 'promo'], // … the other waits at the promotion
      ['entrance', 'promo', 'till'], // alone
      ['entrance', 'aisle'], // alone, no promo
    ]);
    addUnit(counts, 2, 3);
    addUnit(counts, 1, 3);
    addUnit(counts, 1, 1);
    const report = journeyReport(counts, { zones: ZONE_NAMES, funnel: FUNNEL, minPathCount: 5 });
    expect(report.funnel).toEqual([
      { zone: 'entrance', persons: 4, person_conversion: 1, units: 3, unit_conversion: 1 },
      { zone: 'promo', persons: 3, person_conversion: 0.75, units: 2, unit_conversion: 0.6667 },
      { zone: 'till', persons: 2, person_conversion: 0.6667, units: 2, unit_conversion: 1 },
    ]);
    expect(report.conversion).toEqual({ persons: 0.5, units: 0.6667 });
    expect(report.buying_units).toEqual({ units: 3, persons: 4, mean_size: 1.3333, sizes: [{ size: 1, units: 2 }, { size: 2, units: 1 }] });
  });

  it('merges bins by adding counts, and suppresses on the merged counts', () => {
    const a = countsOf(repeat(3, ['entrance', 'promo']));
    const b = countsOf(repeat(2, ['entrance', 'promo']));
    expect(journeyReport(a, { zones: ZONE_NAMES, funnel: FUNNEL, minPathCount: 5 }).top_paths).toEqual([]);
    const merged = emptyCounts(FUNNEL.length);
    mergeCounts(merged, a);
    mergeCounts(merged, b);
    expect(merged).toEqual(countsOf(repeat(5, ['entrance', 'promo'])));
    expect(journeyReport(merged, { zones: ZONE_NAMES, funnel: FUNNEL, minPathCount: 5 }).top_paths).toEqual([{ zones: ['entrance', 'promo'], continues: false, count: 5 }]);
  });

  it('reports mean dwell per zone and has no conversion without a funnel', () => {
    const counts = emptyCounts(0);
    addJourney(counts, [{ zone: 'promo', enterMs: 0, exitMs: 3000, dwellMs: 3000 }, { zone: 'till', enterMs: 5000, exitMs: 6000, dwellMs: 1000 }], []);
    addJourney(counts, [{ zone: 'promo', enterMs: 0, exitMs: 5000, dwellMs: 5000 }], []);
    const report = journeyReport(counts, { zones: ZONE_NAMES, funnel: [], minPathCount: 5 });
    expect(report.zones).toEqual([
      { zone: 'promo', visits: 2, dwell_s_mean: 4 },
      { zone: 'till', visits: 1, dwell_s_mean: 1 },
    ]);
    expect(report.conversion).toEqual({ persons: null, units: null });
    expect(report.funnel).toEqual([]);
  });
});
