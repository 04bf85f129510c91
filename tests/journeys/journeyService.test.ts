import { describe, expect, it } from 'vitest';
import { JourneyAccumulator } from '../../src/analytics/journeys/journeyAccumulator.js';
import { JourneyService } from '../../src/analytics/journeys/journeyService.js';
import { CameraToPlan } from '../../src/analytics/journeys/planTrack.js';
import type { CompletedJourney } from '../../src/analytics/journeys/journeyStream.js';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { rawStoreConfig, SHOPPER, walk } from './trajectories.js';

const config = (journeys: Record<string, unknown> = {}) => {
  const result = parseConfig({ ...rawStoreConfig(journeys), timezone: 'UTC' }, {});
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
};

const journey = (trackId: string, endMs: number, unitKey: string, unitSize: number, zones: string[]): CompletedJourney => ({
  trackId,
  startMs: endMs - 60_000,
  endMs,
  unitKey,
  unitSize,
  visits: zones.map((zone, i) => ({ zone, enterMs: endMs - 50_000 + i * 10_000, exitMs: endMs - 45_000 + i * 10_000, dwellMs: 5000 })),
});

describe('journey accumulator', () => {
  it('bins a journey by the minute it ended and a unit by its last member', () => {
    const acc = new JourneyAccumulator({ zones: ['entrance', 'promo', 'till'], funnel: ['entrance', 'till'], minPathCount: 1, retentionMs: 3_600_000 });
    acc.add(journey('a', 90_000, 'u1', 2, ['entrance', 'till'])); // minute 1
    expect(acc.pendingUnitCount).toBe(1);
    acc.add(journey('b', 200_000, 'u1', 2, ['entrance'])); // minute 3: the unit completes here
    expect(acc.pendingUnitCount).toBe(0);
    const minute1 = acc.report(60_000, 120_000);
    expect([minute1.journeys, minute1.buying_units.units]).toEqual([1, 0]);
    const minute3 = acc.report(180_000, 240_000);
    expect([minute3.journeys, minute3.buying_units.units, minute3.funnel[1]!.units]).toEqual([1, 1, 1]); // the unit reached the till through a
    acc.prune(60_000 + 120_000 + 3_600_000);
    expect(acc.binCount).toBe(1); // minute 1 is older than the retention; minute 3 stays
  });
});

describe('journey service', () => {
  it('is off without a journeys section and on with one', () => {
    const service = new JourneyService(() => 0);
    service.apply({ ...config(), journeys: undefined });
    expect(service.enabled).toBe(false);
    expect(service.report(0, 3_600_000, '1h')).toBeUndefined();
    service.apply(config());
    expect(service.enabled).toBe(true);
    expect(service.report(0, 3_600_000, '1h')!.map((b) => b.report.journeys)).toEqual([0]);
  });

  it('keeps its counts across a reload that does not touch journeys, and restarts them when the funnel changes', () => {
    const service = new JourneyService(() => 0);
    service.apply(config());
    for (const s of walk('a', SHOPPER)) service.onPlanSamples('store', [s], s.tMs);
    service.flush();
    const journeys = () => service.report(0, 3_600_000, '1h')![0]!.report.journeys;
    expect(journeys()).toBe(1);
    service.apply({ ...config(), cameras: [] }); // a camera removed: journey settings unchanged
    expect(journeys()).toBe(1);
    service.apply(config({ funnel: ['entrance', 'till'] }));
    expect(journeys()).toBe(0);
  });

  it('ignores uncalibrated cameras and reports refused input', () => {
    const refused: [string, number][] = [];
    const service = new JourneyService(() => 0, { rejected: (reason, n) => refused.push([reason, n]) });
    service.apply(config());
    service.onCameraTracks('no-such-camera', 0, [{ trackId: 1, x: 0.5, y: 0.5 }]);
    expect(service.status().sources).toEqual([]);
    service.onCameraTracks('cam', 1000, [{ trackId: 1, x: 0.05, y: 0.2 }]);
    service.onCameraTracks('cam', 500, [{ trackId: 1, x: 0.05, y: 0.2 }]); // older frame
    service.onPlanSamples('store', [{ trackId: 'x', tMs: 0, x: Number.POSITIVE_INFINITY, y: 1 }], 0);
    expect(refused).toEqual([['frame_out_of_order', 1], ['sample_not_finite', 1]]);
    expect(service.status()).toMatchObject({ enabled: true, sources: ['camera:cam', 'store'], journeys_in_progress: 1 });
  });
});

describe('a degenerate camera calibration', () => {
  it('leaves the camera out and reports it instead of throwing', () => {
    const refused: string[] = [];
    const service = new JourneyService(() => 0, { rejected: (reason) => refused.push(reason) });
    const base = config();
    // Three of the four image points on one line: no plane mapping.
    const collinear = { image_points: [[0, 0], [0.5, 0.5], [1, 1], [0, 1]] as [number, number][], plan_points: base.cameras[0]!.calibration!.plan_points };
    service.apply({ ...base, cameras: [{ ...base.cameras[0]!, calibration: collinear }] });
    expect(refused).toEqual(['bad_calibration']);
    expect(service.enabled).toBe(true);
    service.onCameraTracks('cam', 0, [{ trackId: 1, x: 0.5, y: 0.5 }]);
    expect(service.status().sources).toEqual([]);
  });
});

describe('camera tracks on the plan', () => {
  it('maps foot points through the calibration and drops those beyond the horizon', () => {
    // A camera looking down a 10 m corridor: the far edge of the floor is narrower in the image.
    const camera = new CameraToPlan('door', { image_points: [[0.3, 0.4], [0.7, 0.4], [0.95, 0.95], [0.05, 0.95]], plan_points: [[0, 10], [4, 10], [4, 0], [0, 0]] });
    const [near, far] = camera.samples([{ trackId: 7, x: 0.5, y: 0.95 }, { trackId: 8, x: 0.5, y: 0.4 }], 1000);
    expect(near!.trackId).toBe('door#7');
    expect(near!.x).toBeCloseTo(2, 6);
    expect(near!.y).toBeCloseTo(0, 6);
    expect(far!.y).toBeCloseTo(10, 6);
    // Above the image's horizon line (y = -0.04 for this calibration) the mapping flips sign: that is the sky, not the floor.
    expect(camera.samples([{ trackId: 9, x: 0.5, y: -0.2 }], 1000)).toEqual([]);
    expect(camera.rejected).toBe(1);
  });
});
