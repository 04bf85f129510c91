/**
 * Seeded random counting lines and zones scattered over where people actually walk (foot points of
 * the annotated trajectories), so an accuracy figure does not hinge on a few hand-placed lines that
 * a tracker could be tuned to.
 */
import { seededRandom } from '../../common/seededRandom.js';
import type { Point } from '../geometry.js';
import { parseScene, type Scene } from '../scene.js';

export interface RandomSceneOptions {
  seed: number;
  lines: number;
  zones: number;
}

const clamp = (v: number): number => Math.min(0.99, Math.max(0.01, v));
const round = (v: number): number => Math.round(v * 1000) / 1000;

/** `walkable`: normalised foot points of people (any number; a few thousand is plenty). */
export function randomScene(walkable: readonly Point[], options: RandomSceneOptions): Scene {
  if (walkable.length === 0) throw new Error('random scene: no foot points to place lines and zones on');
  const random = seededRandom(options.seed);
  const pick = (): Point => walkable[Math.floor(random() * walkable.length)] as Point;
  const lines = [];
  for (let i = 0; i < options.lines; i++) {
    const c = pick();
    const angle = random() * Math.PI;
    const half = (0.15 + 0.3 * random()) / 2;
    const a: [number, number] = [round(clamp(c.x - half * Math.cos(angle))), round(clamp(c.y - half * Math.sin(angle)))];
    const b: [number, number] = [round(clamp(c.x + half * Math.cos(angle))), round(clamp(c.y + half * Math.sin(angle)))];
    lines.push({ name: `random_line_${i + 1}`, points: [a, b] });
  }
  const zones = [];
  for (let i = 0; i < options.zones; i++) {
    const c = pick();
    const rx = 0.06 + 0.12 * random();
    const ry = 0.05 + 0.1 * random();
    const corners = 4 + Math.floor(random() * 3);
    // Angles sorted around the centre give a star-shaped, never self-intersecting polygon.
    const angles = Array.from({ length: corners }, (_, k) => ((k + 0.2 + 0.6 * random()) / corners) * 2 * Math.PI);
    const vertices = angles.map((t): [number, number] => [round(clamp(c.x + rx * Math.cos(t))), round(clamp(c.y + ry * Math.sin(t)))]);
    // Near an image corner several corners clamp onto the same point; a repeated vertex would make the polygon self-touching.
    const polygon = vertices.filter((p, k) => {
      const next = vertices[(k + 1) % vertices.length] as [number, number];
      return p[0] !== next[0] || p[1] !== next[1];
    });
    const minDwell = [0, 1, 2][Math.floor(random() * 3)] as number;
    zones.push({ name: `random_zone_${i + 1}`, polygon, min_dwell_s: minDwell });
  }
  return parseScene({ lines, zones }, `random scene (seed ${options.seed})`);
}
