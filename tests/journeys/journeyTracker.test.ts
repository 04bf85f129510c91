import { describe, expect, it } from 'vitest';
import { JourneyTracker } from '../../src/analytics/journeys/journeyTracker.js';
import { SHOPPER, storeConfig, walk, type Waypoint } from './trajectories.js';

const config = storeConfig();

function journeysOf(walks: Waypoint[][], endGapMs = 10_000) {
  const tracker = new JourneyTracker(config.zones, endGapMs);
  const samples = walks.flatMap((w, i) => walk(`t${i}`, w));
  const times = [...new Set(samples.map((s) => s.tMs))].sort((a, b) => a - b);
  const ended = times.flatMap((t) => tracker.update(samples.filter((s) => s.tMs === t), t));
  return { ended, flushed: tracker.flush(), tracker };
}

describe('journeys: ordered zone visits with dwell', () => {
  it('follows a shopper through entrance, promotion and till with exact dwell', () => {
    const { ended, flushed } = journeysOf([SHOPPER]);
    expect(ended).toEqual([]);
    expect(flushed).toEqual([
      {
        trackId: 't0',
        startMs: 0,
        endMs: 27_000,
        visits: [
          { zone: 'entrance', enterMs: 0, exitMs: 3600, dwellMs: 3600 },
          { zone: 'promo', enterMs: 4400, exitMs: 15_800, dwellMs: 11_400 },
          { zone: 'till', enterMs: 17_200, exitMs: 25_800, dwellMs: 8600 },
        ],
      },
    ]);
  });

  it('leaves out zones only passed through (shorter than min_dwell_s)', () => {
    // Straight across the promotion zone at 2 m/s: 2 s inside → under the 2 s minimum (1.9 s between sightings).
    const { flushed } = journeysOf([[[0, 1, 2], [3, 1, 2], [4, 3.2, 2], [7, 9.2, 2], [8, 11, 2]]]);
    expect(flushed.map((j) => j.visits.map((v) => v.zone))).toEqual([['entrance']]);
  });

  it('bridges a short occlusion inside a zone (exit grace)', () => {
    const tracker = new JourneyTracker(config.zones, 10_000);
    const seen = (t: number) => tracker.update([{ trackId: 'a', tMs: t, x: 7, y: 2 }], t);
    const unseen = (t: number) => tracker.update([], t);
    for (let t = 0; t <= 3000; t += 100) seen(t);
    for (let t = 3100; t < 4000; t += 100) unseen(t); // 1 s unseen: same visit
    for (let t = 4000; t <= 6000; t += 100) seen(t);
    const [journey] = tracker.flush();
    expect(journey!.visits).toEqual([{ zone: 'promo', enterMs: 0, exitMs: 6000, dwellMs: 6000 }]);
  });

  it('ends a journey once the track has been unseen for the end gap, not before', () => {
    const tracker = new JourneyTracker(config.zones, 5000);
    for (let t = 0; t <= 3000; t += 100) expect(tracker.update([{ trackId: 'a', tMs: t, x: 1, y: 2 }], t)).toEqual([]);
    expect(tracker.update([], 7900)).toEqual([]);
    const ended = tracker.update([], 8000);
    expect(ended).toEqual([{ trackId: 'a', startMs: 0, endMs: 3000, visits: [{ zone: 'entrance', enterMs: 0, exitMs: 3000, dwellMs: 3000 }] }]);
    expect(tracker.activeCount).toBe(0);
    // The same id seen again later is a new journey.
    tracker.update([{ trackId: 'a', tMs: 20_000, x: 14, y: 2 }], 20_000);
    expect(tracker.flush().map((j) => j.startMs)).toEqual([20_000]);
  });

  it('keeps repeated visits to one zone as separate visits in order', () => {
    const { flushed } = journeysOf([[[0, 7, 2], [4, 7, 2], [5, 7, 8], [9, 7, 8], [10, 7, 2], [14, 7, 2]]]);
    expect(flushed[0]!.visits.map((v) => v.zone)).toEqual(['promo', 'aisle', 'promo']);
  });

  it('skips a frame older than the last one and samples without finite coordinates, counting them', () => {
    const tracker = new JourneyTracker(config.zones, 10_000);
    tracker.update([{ trackId: 'a', tMs: 1000, x: 1, y: 2 }], 1000);
    expect(tracker.update([{ trackId: 'b', tMs: 500, x: 1, y: 2 }], 500)).toEqual([]);
    tracker.update([{ trackId: 'c', tMs: 1100, x: Number.NaN, y: 2 }], 1100);
    expect(tracker.stats).toEqual({ framesRejected: 1, samplesRejected: 1 });
    expect(tracker.flush().map((j) => j.trackId)).toEqual(['a']);
  });

  it('refuses an end gap shorter than a zone exit grace (visits would be cut off)', () => {
    expect(() => new JourneyTracker(config.zones, 1000)).toThrow(/exit grace/);
  });
});
