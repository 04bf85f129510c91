import { describe, expect, it } from 'vitest';
import { Zone } from '../../src/vision/analytics/zone.js';
import { zoneSchema } from '../../src/vision/scene.js';

const SQUARE = [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6]];
const zone = (over: object = {}) => new Zone(zoneSchema.parse({ name: 'Z', polygon: SQUARE, ...over }));
const IN = { x: 0.5, y: 0.5 };
const OUT = { x: 0.9, y: 0.9 };

/** Presence timeline at 10 fps: 'i' inside, 'o' outside, '-' not seen. Returns closed visits (after a flush). */
function run(z: Zone, timeline: string, trackId = 1) {
  const events = [];
  for (let i = 0; i < timeline.length; i++) {
    const c = timeline[i];
    const points = c === 'i' ? [{ trackId, ...IN }] : c === 'o' ? [{ trackId, ...OUT }] : [];
    events.push(...z.update(points, i * 100));
  }
  events.push(...z.flush());
  return events;
}

describe('zone visits and dwell', () => {
  it.each([
    // name, options, timeline, expected [counted dwell ms...], pass-throughs
    ['simple visit', {}, 'oo' + 'i'.repeat(30) + 'o'.repeat(20), [2900], 0],
    ['min dwell: short visit not counted', { min_dwell_s: 5 }, 'i'.repeat(30) + 'o'.repeat(20), [], 1],
    ['min dwell: long visit counted', { min_dwell_s: 2 }, 'i'.repeat(30) + 'o'.repeat(20), [2900], 0],
    ['entry inertia: a 0.2 s flicker is no visit', { enter_s: 0.3 }, 'oo' + 'ii' + 'o'.repeat(30), [], 0],
    ['exit grace bridges a 1 s occlusion', { exit_grace_s: 1.5 }, 'i'.repeat(20) + '-'.repeat(10) + 'i'.repeat(20) + 'o'.repeat(20), [4900], 0],
    ['exit grace bridges edge jitter', { exit_grace_s: 1 }, 'i'.repeat(10) + 'oio'.repeat(3) + 'i'.repeat(10) + 'o'.repeat(20), [2800], 0],
    ['a long absence splits two visits', { exit_grace_s: 1 }, 'i'.repeat(20) + 'o'.repeat(30) + 'i'.repeat(20) + 'o'.repeat(20), [1900, 1900], 0],
    ['still inside at the end: closed at the last sighting', {}, 'o' + 'i'.repeat(40), [3900], 0],
  ] as const)('%s', (_name, options, timeline, dwells, passThroughs) => {
    const z = zone(options);
    const events = run(z, timeline);
    expect(events.filter((e) => e.counted).map((e) => e.dwellMs)).toEqual(dwells);
    expect(z.stats.passThroughs).toBe(passThroughs);
    expect(z.stats.visits).toBe(dwells.length);
    expect(z.stats.dwellMsTotal).toBe(dwells.reduce((a, b) => a + b, 0));
  });

  it('dates a visit from the first inside sighting and ends it at the last', () => {
    const z = zone({ enter_s: 0.3, exit_grace_s: 1 });
    const [visit] = run(z, 'ooo' + 'i'.repeat(10) + 'o'.repeat(15));
    expect(visit).toMatchObject({ zone: 'Z', enterMs: 300, exitMs: 1200, dwellMs: 900, counted: true });
  });

  it('tracks occupancy and its maximum', () => {
    const z = zone({ enter_s: 0 });
    z.update([{ trackId: 1, ...IN }, { trackId: 2, ...IN }, { trackId: 3, ...OUT }], 0);
    expect(z.occupancy).toBe(2);
    z.update([{ trackId: 1, ...IN }, { trackId: 2, ...IN }, { trackId: 3, ...IN }], 100);
    expect(z.occupancy).toBe(3);
    z.update([{ trackId: 1, ...IN }], 3000);
    expect(z.occupancy).toBe(1);
    expect(z.stats.maxOccupancy).toBe(3);
  });

  it('reports queue waits for people still waiting', () => {
    const z = zone({ queue: true, enter_s: 0 });
    z.update([{ trackId: 1, ...IN }], 0);
    z.update([{ trackId: 1, ...IN }, { trackId: 2, ...IN }], 4000);
    expect(z.currentWaitsMs(10_000).sort()).toEqual([10_000, 6000].sort());
  });

  it('uses the point-in-polygon test on concave zones', () => {
    const l = new Zone(zoneSchema.parse({ name: 'L', polygon: [[0, 0], [0.5, 0], [0.5, 0.2], [0.2, 0.2], [0.2, 0.5], [0, 0.5]] }));
    expect(l.contains({ x: 0.1, y: 0.4 })).toBe(true);
    expect(l.contains({ x: 0.4, y: 0.4 })).toBe(false);
  });
});
