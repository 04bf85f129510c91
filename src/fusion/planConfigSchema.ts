/**
 * Store-level (floor-plan) counting lines and zones, in metres from the plan's top-left corner, and
 * the settings of multi-camera fusion. Same shape and semantics as a camera's lines and zones
 * (src/vision/scene.ts), so the same counters run on them; only the units differ, which is why the
 * limits here are in metres and not 0–1.
 */
import { z } from 'zod';
import { distance, isSelfIntersecting, polygonArea, toPoint } from '../vision/geometry.js';

const metres = z.number().min(0, 'plan coordinates are metres from the top-left corner: must be ≥ 0').max(1000, 'more than 1 km: not metres?');
const planPoint = z.tuple([metres, metres]);

/** A line shorter than this cannot be crossed reliably by a foot point that jitters by ~10 cm. */
const MIN_LINE_LENGTH_M = 0.3;
/** A zone smaller than this cannot hold a person: almost certainly a drawing mistake. */
const MIN_ZONE_AREA_M2 = 0.1;

export const planLineSchema = z
  .object({
    name: z.string().min(1),
    points: z.tuple([planPoint, planPoint]),
    /** Metres a fused foot point must move past the line before its side is believed. */
    hysteresis: z.number().min(0).max(2).default(0.3),
  })
  .strict()
  .superRefine((line, ctx) => {
    if (distance(toPoint(line.points[0]), toPoint(line.points[1])) < MIN_LINE_LENGTH_M) {
      ctx.addIssue({ code: 'custom', path: ['points'], message: `degenerate line: its points are less than ${MIN_LINE_LENGTH_M} m apart` });
    }
  });

export const planZoneSchema = z
  .object({
    name: z.string().min(1),
    polygon: z.array(planPoint).min(3, 'a polygon needs at least 3 points'),
    min_dwell_s: z.number().min(0).default(0),
    enter_s: z.number().min(0).default(0.3),
    exit_grace_s: z.number().min(0).default(1.5),
    queue: z.boolean().default(false),
  })
  .strict()
  .superRefine((zone, ctx) => {
    if (zone.polygon.length < 3) return;
    const polygon = zone.polygon.map(toPoint);
    if (isSelfIntersecting(polygon)) ctx.addIssue({ code: 'custom', path: ['polygon'], message: 'self-intersecting polygon' });
    else if (polygonArea(polygon) < MIN_ZONE_AREA_M2) ctx.addIssue({ code: 'custom', path: ['polygon'], message: `degenerate polygon: less than ${MIN_ZONE_AREA_M2} m²` });
  });

/**
 * How tracks from different cameras become one store-level track (src/fusion/storeFuser.ts).
 * Defaults suit people walking at up to ~2 m/s seen at 5–10 fps by calibrated ceiling or wall cameras.
 */
export const fusionSchema = z
  .object({
    /** Two cameras' sightings this close (metres, same moment) may be one person. */
    gate_m: z.number().positive().max(5).default(1),
    /** A linked sighting that drifts further than this from the others for `break_after_s` is split off. */
    break_gate_m: z.number().positive().max(10).default(2),
    break_after_s: z.number().positive().max(10).default(1),
    /** Two store tracks from different cameras that stay within gate_m / 2 this long are one person. */
    merge_after_s: z.number().positive().max(10).default(0.6),
    /** A camera's sighting older than this is left out of the fused position. */
    stale_s: z.number().positive().max(5).default(0.5),
    /** A store track nobody sees any more may be continued by a neighbouring camera for this long (hand-over). */
    handover_s: z.number().min(0).max(30).default(3),
    /** Fastest walking speed believed across a hand-over gap. */
    handover_speed_mps: z.number().positive().max(10).default(2),
    /** Store-level counts lag this much behind the cameras so that late associations still count once. */
    decision_delay_s: z.number().min(0).max(10).default(1.5),
  })
  .strict();

export const planSchema = z
  .object({
    lines: z.array(planLineSchema).default([]),
    zones: z.array(planZoneSchema).default([]),
    fusion: fusionSchema.default(fusionSchema.parse({})),
  })
  .strict()
  .superRefine((plan, ctx) => {
    const seen = new Set<string>();
    for (const [kind, items] of [['lines', plan.lines], ['zones', plan.zones]] as const) {
      items.forEach((item, i) => {
        if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [kind, i, 'name'], message: `duplicate name "${item.name}" (plan lines and zones share one namespace)` });
        seen.add(item.name);
      });
    }
    if (plan.fusion.break_gate_m < plan.fusion.gate_m) {
      ctx.addIssue({ code: 'custom', path: ['fusion', 'break_gate_m'], message: 'must be at least gate_m (a link would break as soon as it is made)' });
    }
  });

export type PlanConfig = z.infer<typeof planSchema>;
export type PlanLineConfig = PlanConfig['lines'][number];
export type PlanZoneConfig = PlanConfig['zones'][number];
export type FusionConfig = PlanConfig['fusion'];

/**
 * Plan lines and zones must lie on the floor plan when its size is known, and store-level counting
 * needs calibrated cameras: both mistakes would otherwise give silent zeros.
 */
export function checkPlanAgainstStore(
  config: { plan?: PlanConfig; floor_plan?: { width_m: number; height_m: number }; cameras: { calibration?: unknown }[] },
  ctx: z.RefinementCtx,
): void {
  const plan = config.plan;
  if (!plan) return;
  const floor = config.floor_plan;
  if (floor) {
    const outside = (p: readonly [number, number]): boolean => p[0] > floor.width_m || p[1] > floor.height_m;
    plan.lines.forEach((l, i) => {
      if (l.points.some(outside)) ctx.addIssue({ code: 'custom', path: ['plan', 'lines', i, 'points'], message: `outside the ${floor.width_m} × ${floor.height_m} m floor plan` });
    });
    plan.zones.forEach((z, i) => {
      if (z.polygon.some(outside)) ctx.addIssue({ code: 'custom', path: ['plan', 'zones', i, 'polygon'], message: `outside the ${floor.width_m} × ${floor.height_m} m floor plan` });
    });
  }
  if (plan.lines.length + plan.zones.length > 0 && !config.cameras.some((c) => c.calibration !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['plan'], message: 'plan lines and zones need at least one calibrated camera (calibrate one in the web UI)' });
  }
}
