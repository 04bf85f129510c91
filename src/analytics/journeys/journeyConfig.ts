/**
 * The `journeys` section of the gateway config. Journeys run over the store-level zones of the
 * `plan` section (polygons in metres, with their own entry inertia / exit grace / min dwell), named
 * here rather than drawn twice; this section adds the funnel, the minimum count before a path is
 * reported, when a journey ends and the buying-unit (group) rule. Cross-checked against the plan
 * with every problem reported by path.
 */
import { z } from 'zod';

/** Journey zone names are joined into paths ("a > b") and written to CSV cells. */
const RESERVED_STATES = ['entry', 'exit', 'other'];
const NAME_PATTERN = /^[^>,;"\n\r]+$/;

export const buyingUnitSchema = z
  .object({
    /** Two people are candidates when their tracks start at most this far apart … */
    max_entry_gap_s: z.number().min(0).max(60).default(3),
    /** … and then stay within this distance of each other on the plan … */
    max_distance_m: z.number().positive().max(10).default(1.5),
    /** … for this long after the later of the two started. */
    together_s: z.number().positive().max(120).default(5),
    /** Share of that window in which they must be within max_distance_m (tolerates a step aside or box jitter). */
    together_fraction: z.number().min(0.5).max(1).default(0.8),
    /** Largest unit; a bigger cluster (a crowd at the door) is split. */
    max_size: z.number().int().min(2).max(20).default(6),
  })
  .strict();

export const journeysSchema = z
  .object({
    /** Plan zones (plan.zones names) that make up journeys; default: all of them. */
    zones: z.array(z.string().min(1)).optional(),
    /** Ordered plan zone names, e.g. [entrance, promo, till]. */
    funnel: z.array(z.string().min(1)).default([]),
    /** A path is reported only when at least this many journeys took it in the bin; the rest are "other". */
    min_path_count: z.number().int().min(1).max(1000).default(5),
    /** Visits shorter than this are passing through, not a step of the journey (on top of the zone's own min_dwell_s). */
    min_dwell_s: z.number().min(0).max(3600).default(2),
    /** A journey ends when its track has not been seen for this long. */
    end_gap_s: z.number().positive().max(600).default(10),
    groups: buyingUnitSchema.default(buyingUnitSchema.parse({})),
  })
  .strict();

export type JourneysConfig = z.infer<typeof journeysSchema>;
export type BuyingUnitRule = JourneysConfig['groups'];

/** A plan zone as journeys use it (structurally the `plan.zones` entries). */
export interface JourneyZone {
  name: string;
  polygon: readonly (readonly [number, number])[];
  enter_s: number;
  exit_grace_s: number;
  min_dwell_s: number;
}

/** Everything the journey core needs, resolved from the config. */
export interface JourneySetup {
  zones: JourneyZone[];
  funnel: string[];
  minPathCount: number;
  endGapS: number;
  groups: BuyingUnitRule;
}

interface ConfigWithJourneys {
  plan?: { zones: readonly JourneyZone[] };
  journeys?: JourneysConfig;
}

/** The journey zones (plan zones, min dwell raised to journeys.min_dwell_s), or undefined without a journeys section. */
export function journeySetup(config: ConfigWithJourneys): JourneySetup | undefined {
  const journeys = config.journeys;
  if (!journeys) return undefined;
  const planZones = config.plan?.zones ?? [];
  const names = journeys.zones ?? planZones.map((z) => z.name);
  const zones = names
    .map((name) => planZones.find((z) => z.name === name))
    .filter((z): z is JourneyZone => z !== undefined)
    .map((z) => ({ name: z.name, polygon: z.polygon, enter_s: z.enter_s, exit_grace_s: z.exit_grace_s, min_dwell_s: Math.max(z.min_dwell_s, journeys.min_dwell_s) }));
  return { zones, funnel: journeys.funnel, minPathCount: journeys.min_path_count, endGapS: journeys.end_gap_s, groups: journeys.groups };
}

/** journeys must name plan zones that exist and can be journey states, or its reports would silently be empty. */
export function checkJourneysAgainstPlan(config: ConfigWithJourneys, ctx: z.RefinementCtx): void {
  const journeys = config.journeys;
  if (!journeys) return;
  const planZones = config.plan?.zones ?? [];
  if (planZones.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['journeys'], message: 'journeys need plan zones: add them under plan.zones' });
    return;
  }
  const byName = new Map(planZones.map((z) => [z.name, z]));
  const names = journeys.zones ?? planZones.map((z) => z.name);
  names.forEach((name, i) => {
    const path = journeys.zones ? ['journeys', 'zones', i] : ['plan', 'zones', i, 'name'];
    const zone = byName.get(name);
    if (!zone) return ctx.addIssue({ code: 'custom', path, message: `no plan zone "${name}" in plan.zones` });
    if (RESERVED_STATES.includes(name)) ctx.addIssue({ code: 'custom', path, message: `"${name}" is a reserved journey state (${RESERVED_STATES.join(', ')}): rename the zone` });
    if (!NAME_PATTERN.test(name)) ctx.addIssue({ code: 'custom', path, message: 'journey zone names may not contain ">", ",", ";", quotes or line breaks (they are joined into paths and CSV)' });
    // A journey that ended while a visit was still open would lose that visit.
    if (zone.exit_grace_s > journeys.end_gap_s) ctx.addIssue({ code: 'custom', path: ['journeys', 'end_gap_s'], message: `must be at least the exit_grace_s of plan zone "${name}" (${zone.exit_grace_s})` });
    if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path, message: `"${name}" is listed twice` });
  });
  journeys.funnel.forEach((step, i) => {
    if (!names.includes(step)) ctx.addIssue({ code: 'custom', path: ['journeys', 'funnel', i], message: `"${step}" is not a journey zone (${names.join(', ')})` });
    if (journeys.funnel.indexOf(step) !== i) ctx.addIssue({ code: 'custom', path: ['journeys', 'funnel', i], message: `"${step}" appears twice in the funnel` });
  });
}
