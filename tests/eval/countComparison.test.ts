import { describe, expect, it } from 'vitest';
import type { SceneSummary } from '../../src/vision/analytics/sceneAnalytics.js';
import { compareCounts } from '../../src/vision/eval/countComparison.js';

const zone = (visits: number, dwell: number): SceneSummary['zones'][string] => ({
  visits,
  dwell_s_total: dwell,
  dwell_s_mean: visits ? dwell / visits : 0,
  max_occupancy: 1,
  pass_throughs: 0,
});

describe('compareCounts', () => {
  it('pools line errors: over- and under-counts on different lines add up in the error but cancel in the bias', () => {
    const truth: SceneSummary = { lines: { door: { in: 10, out: 5 }, aisle: { in: 4, out: 1 } }, zones: {} };
    const measured: SceneSummary = { lines: { door: { in: 12, out: 5 }, aisle: { in: 2, out: 1 } }, zones: {} };
    const c = compareCounts(truth, measured);
    expect(c.lines).toEqual([
      { name: 'door', in: { truth: 10, measured: 12, relativeError: 0.2 }, out: { truth: 5, measured: 5, relativeError: 0 } },
      { name: 'aisle', in: { truth: 4, measured: 2, relativeError: -0.5 }, out: { truth: 1, measured: 1, relativeError: 0 } },
    ]);
    expect(c.lineError).toBeCloseTo(4 / 20); // |+2| + |−2| over 20 crossings
    expect(c.lineBias).toBeCloseTo(0);
    expect(c.zones).toEqual([]);
    expect(c.dwellError).toBeNull();
    expect(c.visitError).toBeNull();
  });

  it('reports a one-sided miscount as a bias of the same size as the error', () => {
    const truth: SceneSummary = { lines: { door: { in: 8, out: 2 } }, zones: {} };
    const measured: SceneSummary = { lines: { door: { in: 6, out: 1 } }, zones: {} };
    const c = compareCounts(truth, measured);
    expect(c.lineError).toBeCloseTo(0.3);
    expect(c.lineBias).toBeCloseTo(-0.3);
  });

  it('pools dwell and visit errors over zones, a zone missing from the measurement counting as 0', () => {
    const truth: SceneSummary = { lines: {}, zones: { shelf: zone(4, 40), empty: zone(0, 0), till: zone(6, 60) } };
    const measured: SceneSummary = { lines: {}, zones: { shelf: zone(5, 30), empty: zone(2, 8) } };
    const c = compareCounts(truth, measured);
    expect(c.zones.map((z) => z.name)).toEqual(['shelf', 'empty', 'till']);
    expect(c.zones[0]).toEqual({ name: 'shelf', visits: { truth: 4, measured: 5, relativeError: 0.25 }, dwellS: { truth: 40, measured: 30, relativeError: -0.25 } });
    expect(c.zones[1]).toEqual({ name: 'empty', visits: { truth: 0, measured: 2, relativeError: null }, dwellS: { truth: 0, measured: 8, relativeError: null } });
    expect(c.zones[2]).toEqual({ name: 'till', visits: { truth: 6, measured: 0, relativeError: -1 }, dwellS: { truth: 60, measured: 0, relativeError: -1 } });
    expect(c.visitError).toBeCloseTo((1 + 2 + 6) / 10);
    expect(c.visitBias).toBeCloseTo((1 + 2 - 6) / 10);
    expect(c.dwellError).toBeCloseTo((10 + 8 + 60) / 100);
    expect(c.dwellBias).toBeCloseTo((-10 + 8 - 60) / 100);
    expect(c.lineError).toBeNull();
    expect(c.lineBias).toBeNull();
  });

  it('counts a line missing from the measurement as 0 and ignores lines the truth does not have', () => {
    const truth: SceneSummary = { lines: { door: { in: 3, out: 1 } }, zones: {} };
    const measured: SceneSummary = { lines: { other: { in: 50, out: 50 } }, zones: {} };
    const c = compareCounts(truth, measured);
    expect(c.lines).toEqual([{ name: 'door', in: { truth: 3, measured: 0, relativeError: -1 }, out: { truth: 1, measured: 0, relativeError: -1 } }]);
    expect(c.lineError).toBeCloseTo(1);
    expect(c.lineBias).toBeCloseTo(-1);
  });

  it('gives no pooled error when the truth is all zero, even if something was measured', () => {
    const truth: SceneSummary = { lines: { door: { in: 0, out: 0 } }, zones: { shelf: zone(0, 0) } };
    const measured: SceneSummary = { lines: { door: { in: 2, out: 1 } }, zones: { shelf: zone(1, 5) } };
    const c = compareCounts(truth, measured);
    expect(c.lines[0]?.in).toEqual({ truth: 0, measured: 2, relativeError: null });
    expect([c.lineError, c.lineBias, c.visitError, c.visitBias, c.dwellError, c.dwellBias]).toEqual([null, null, null, null, null, null]);
  });
});
