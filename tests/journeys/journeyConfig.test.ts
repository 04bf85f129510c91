import { describe, expect, it } from 'vitest';
import { journeySetup } from '../../src/analytics/journeys/journeyConfig.js';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { rawStoreConfig } from './trajectories.js';

const errorsOf = (raw: Record<string, unknown>): string[] => {
  const result = parseConfig(raw, {});
  return result.ok ? [] : result.errors;
};

describe('journeys config section', () => {
  it('resolves plan zones with defaults and raises their min dwell to journeys.min_dwell_s', () => {
    const result = parseConfig(rawStoreConfig({ zones: ['entrance', 'promo', 'till'] }), {});
    if (!result.ok) throw new Error(result.errors.join('; '));
    const setup = journeySetup(result.config)!;
    expect(setup.zones.map((z) => [z.name, z.min_dwell_s, z.enter_s, z.exit_grace_s])).toEqual([
      ['entrance', 2, 0.3, 1.5],
      ['promo', 2, 0.3, 1.5],
      ['till', 2, 0.3, 1.5],
    ]);
    expect(setup).toMatchObject({ funnel: ['entrance', 'promo', 'till'], minPathCount: 5, endGapS: 10, groups: { max_entry_gap_s: 3, max_distance_m: 1.5, together_s: 5, together_fraction: 0.8, max_size: 6 } });
    expect(journeySetup({ plan: result.config.plan })).toBeUndefined();
  });

  it('uses every plan zone when journeys.zones is left out', () => {
    const result = parseConfig(rawStoreConfig(), {});
    if (!result.ok) throw new Error(result.errors.join('; '));
    expect(journeySetup(result.config)!.zones.map((z) => z.name)).toEqual(['entrance', 'promo', 'aisle', 'till']);
  });

  it.each([
    ['a funnel step that is no journey zone', { zones: ['entrance', 'till'], funnel: ['entrance', 'promo'] }, 'journeys.funnel.1: "promo" is not a journey zone (entrance, till)'],
    ['an unknown zone', { zones: ['entrance', 'bakery'] }, 'journeys.zones.1: no plan zone "bakery" in plan.zones'],
    ['a funnel step twice', { funnel: ['entrance', 'entrance'] }, 'journeys.funnel.1: "entrance" appears twice in the funnel'],
    ['an end gap shorter than an exit grace', { end_gap_s: 1 }, 'journeys.end_gap_s: must be at least the exit_grace_s of plan zone "entrance" (1.5)'],
    ['a min path count of 0', { min_path_count: 0 }, 'journeys.min_path_count: Too small: expected number to be >=1'],
    ['an unknown group setting', { groups: { distance: 2 } }, 'journeys.groups: Unrecognized key: "distance"'],
  ])('reports %s by path', (_name, journeys, message) => {
    expect(errorsOf(rawStoreConfig(journeys))).toContain(message);
  });

  it('rejects plan zone names that cannot be journey states', () => {
    const raw = rawStoreConfig();
    (raw.plan as { zones: { name: string }[] }).zones[0]!.name = 'exit';
    (raw.plan as { zones: { name: string }[] }).zones[1]!.name = 'promo > end-cap';
    const errors = errorsOf({ ...raw, journeys: {} });
    expect(errors).toContain('plan.zones.0.name: "exit" is a reserved journey state (entry, exit, other): rename the zone');
    expect(errors).toContain('plan.zones.1.name: journey zone names may not contain ">", ",", ";", quotes or line breaks (they are joined into paths and CSV)');
  });

  it('needs plan zones', () => {
    expect(errorsOf({ journeys: {} })).toEqual(['journeys: journeys need plan zones: add them under plan.zones']);
  });
});
