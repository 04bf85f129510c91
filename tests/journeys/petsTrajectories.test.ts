/**
 * Journeys and buying units on real walking: the annotated trajectories of PETS09-S2L1 (= vtest.avi),
 * whose ground truth carries each person's position on the ground plane in metres (MOT15 columns 8–9).
 * Evaluation-only data from ../shared: skipped when it is absent.
 *
 * What the footage shows (checked on the video frames): ids 11 and 12 are a couple walking side by
 * side from frame 22 to 362 (0.6–1.0 m apart); id 13 enters from the same side 2 s after them but
 * walks 2–4 m away; the same couple comes back later as ids 3 and 4, side by side for about 4 s, then
 * they split up (2 m apart after 4.5 s, 5 m after 7 s).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JourneyAccumulator } from '../../src/analytics/journeys/journeyAccumulator.js';
import { JourneyStream, type CompletedJourney } from '../../src/analytics/journeys/journeyStream.js';
import type { PlanTrackSample } from '../../src/analytics/journeys/planTrack.js';
import { hasPets09, PETS09_GT_PATH } from '../helpers/fixtures.js';
import { storeConfig, unitsOf } from './trajectories.js';

/** The ground plane's coordinates go down to about −20 m / −16.5 m: shifted so the plan starts at 0. */
const SHIFT_X = 20;
const SHIFT_Y = 17;
const FRAME_MS = 100;

function petsFrames(): Map<number, PlanTrackSample[]> {
  const frames = new Map<number, PlanTrackSample[]>();
  for (const line of readFileSync(PETS09_GT_PATH, 'utf8').trim().split('\n')) {
    const [frame, id, , , , , , wx, wy] = line.split(',').map(Number) as number[];
    const tMs = frame! * FRAME_MS;
    frames.set(tMs, [...(frames.get(tMs) ?? []), { trackId: `pets-${id}`, tMs, x: wx! + SHIFT_X, y: wy! + SHIFT_Y }]);
  }
  return frames;
}

function run(groups: Record<string, unknown> = {}): CompletedJourney[] {
  // The test store's zones and funnel; only the buying-unit rule matters for most checks here.
  const stream = new JourneyStream('pets', storeConfig({ groups }));
  const frames = petsFrames();
  const done: CompletedJourney[] = [];
  for (const t of [...frames.keys()].sort((a, b) => a - b)) done.push(...stream.update(frames.get(t)!, t));
  done.push(...stream.flush());
  return done;
}

describe.skipIf(!hasPets09)('journeys on real trajectories (PETS09-S2L1 ground plane)', () => {
  it('makes one journey per annotated person and finds the couple as one buying unit, not the person behind them', () => {
    const journeys = run();
    expect(journeys).toHaveLength(19);
    const units = unitsOf(journeys);
    expect(units.filter((u) => u.length > 1)).toEqual([['pets-11', 'pets-12']]);
    expect(units).toContainEqual(['pets-13']);
    expect(units).toHaveLength(18);
    const accumulator = new JourneyAccumulator({ zones: ['entrance', 'promo', 'aisle', 'till'], funnel: [], minPathCount: 5, retentionMs: Infinity });
    for (const j of journeys) accumulator.add(j);
    const report = accumulator.report(0, 86_400_000);
    expect(report.journeys).toBe(19);
    expect(report.buying_units).toMatchObject({ units: 18, persons: 19 });
    // Every journey leaves "entry" once and reaches "exit" once, whatever zones it crossed.
    const total = (side: 'from' | 'to', state: string) => report.transitions.filter((t) => t[side] === state).reduce((s, t) => s + t.count, 0);
    expect(total('from', 'entry')).toBe(19);
    expect(total('to', 'exit')).toBe(19);
  });

  it('counts the couple that splits up after 4 s (ids 3 and 4) as a unit only with a shorter together_s', () => {
    const pairsOf = (groups: Record<string, unknown>) => unitsOf(run(groups)).filter((u) => u.length > 1);
    expect(pairsOf({ together_s: 5 })).not.toContainEqual(['pets-3', 'pets-4']);
    expect(pairsOf({ together_s: 3 })).toContainEqual(['pets-3', 'pets-4']);
  });
});
