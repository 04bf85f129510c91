/**
 * A camera's scene: counting lines and zones in normalised coordinates. The same shape is used by
 * `storepulse analyze --scene` and, per camera, by the gateway config. Validation reports every
 * problem with its path (lines.0.points: …) so an installer can fix them all at once.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { distance, isSelfIntersecting, polygonArea, toPoint } from './geometry.js';

const coordinate = z.number().min(0, 'must be within 0–1').max(1, 'must be within 0–1');
const point = z.tuple([coordinate, coordinate]);

/** Lines shorter than this (2 % of the image) cannot be crossed reliably. */
const MIN_LINE_LENGTH = 0.02;
/** Zones smaller than this fraction of the image are almost certainly a drawing mistake. */
const MIN_ZONE_AREA = 0.0005;

export const lineSchema = z
  .object({
    name: z.string().min(1),
    points: z.tuple([point, point]),
    /** Distance (normalised) a foot point must move past the line before the side is believed. */
    hysteresis: z.number().min(0).max(0.2).default(0.02),
  })
  .strict()
  .superRefine((line, ctx) => {
    if (distance(toPoint(line.points[0]), toPoint(line.points[1])) < MIN_LINE_LENGTH) {
      ctx.addIssue({ code: 'custom', path: ['points'], message: `degenerate line: its points are less than ${MIN_LINE_LENGTH} apart` });
    }
  });

export const zoneSchema = z
  .object({
    name: z.string().min(1),
    polygon: z.array(point).min(3, 'a polygon needs at least 3 points'),
    /** Visits shorter than this are not visits (passing through). */
    min_dwell_s: z.number().min(0).default(0),
    /** A person must be inside this long before the visit starts (filters detections flickering at the edge). */
    enter_s: z.number().min(0).default(0.3),
    /** A person may be outside (or unseen) this long without ending the visit (occlusions, box jitter). */
    exit_grace_s: z.number().min(0).default(1.5),
    /** Queue zones also report current length and waiting time. */
    queue: z.boolean().default(false),
  })
  .strict()
  .superRefine((zone, ctx) => {
    if (zone.polygon.length < 3) return;
    const polygon = zone.polygon.map(toPoint);
    if (isSelfIntersecting(polygon)) ctx.addIssue({ code: 'custom', path: ['polygon'], message: 'self-intersecting polygon' });
    else if (polygonArea(polygon) < MIN_ZONE_AREA) ctx.addIssue({ code: 'custom', path: ['polygon'], message: 'degenerate polygon: (almost) no area' });
  });

/** Line and zone names share one namespace per camera (they become metric labels and event keys). */
export function checkUniqueNames(scene: { lines: { name: string }[]; zones: { name: string }[] }, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  for (const [kind, items] of [['lines', scene.lines], ['zones', scene.zones]] as const) {
    items.forEach((item, i) => {
      if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [kind, i, 'name'], message: `duplicate name "${item.name}"` });
      seen.add(item.name);
    });
  }
}

export const sceneSchema = z
  .object({
    lines: z.array(lineSchema).default([]),
    zones: z.array(zoneSchema).default([]),
  })
  .strict()
  .superRefine(checkUniqueNames);

export type Scene = z.infer<typeof sceneSchema>;
export type LineConfig = Scene['lines'][number];
export type ZoneConfig = Scene['zones'][number];

export class SceneError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid scene ${source}: ${problems.join('; ')}`);
  }
}

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

export function parseScene(raw: unknown, source = 'scene'): Scene {
  const parsed = sceneSchema.safeParse(raw);
  if (!parsed.success) throw new SceneError(source, formatIssues(parsed.error));
  return parsed.data;
}

/** Reads a JSON or YAML scene file (YAML is a superset of JSON, so one parser reads both). */
export async function loadScene(file: string): Promise<Scene> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SceneError(file, [(err as Error).message]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new SceneError(file, [`not valid JSON/YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseScene(raw, file);
}
