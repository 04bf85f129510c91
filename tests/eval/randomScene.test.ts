import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/common/seededRandom.js';
import { pointInPolygon, toPoint, type Point } from '../../src/vision/geometry.js';
import { randomScene } from '../../src/vision/eval/randomScene.js';
import type { Scene } from '../../src/vision/scene.js';

/** `count` points spread uniformly over the square centred on (cx, cy) with half-size `r`. */
function cluster(cx: number, cy: number, r: number, count: number, seed: number): Point[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => ({ x: cx + r * (2 * random() - 1), y: cy + r * (2 * random() - 1) }));
}

const midpoint = (line: Scene['lines'][number]): Point => ({
  x: (line.points[0][0] + line.points[1][0]) / 2,
  y: (line.points[0][1] + line.points[1][1]) / 2,
});
const vertexCentroid = (zone: Scene['zones'][number]): Point => ({
  x: zone.polygon.reduce((n, p) => n + p[0], 0) / zone.polygon.length,
  y: zone.polygon.reduce((n, p) => n + p[1], 0) / zone.polygon.length,
});
const allCoordinates = (scene: Scene): number[] => [
  ...scene.lines.flatMap((l) => l.points.flat()),
  ...scene.zones.flatMap((z) => z.polygon.flat()),
];

const walkable = [...cluster(0.3, 0.6, 0.1, 200, 1), ...cluster(0.7, 0.8, 0.05, 200, 2)];

describe('randomScene', () => {
  it('gives the same scene for the same seed and another for another seed', () => {
    const a = randomScene(walkable, { seed: 42, lines: 4, zones: 3 });
    expect(randomScene(walkable, { seed: 42, lines: 4, zones: 3 })).toEqual(a);
    expect(randomScene(walkable, { seed: 43, lines: 4, zones: 3 })).not.toEqual(a);
  });

  it('makes the requested numbers of lines and zones, with distinct names', () => {
    const scene = randomScene(walkable, { seed: 7, lines: 6, zones: 4 });
    expect(scene.lines.map((l) => l.name)).toEqual(['random_line_1', 'random_line_2', 'random_line_3', 'random_line_4', 'random_line_5', 'random_line_6']);
    expect(scene.zones.map((z) => z.name)).toEqual(['random_zone_1', 'random_zone_2', 'random_zone_3', 'random_zone_4']);
    const none = randomScene(walkable, { seed: 7, lines: 0, zones: 0 });
    expect(none.lines).toEqual([]);
    expect(none.zones).toEqual([]);
  });

  it('returns a parsed scene (defaults filled in) with every coordinate within 0–1', () => {
    for (let seed = 0; seed < 50; seed++) {
      const scene = randomScene(walkable, { seed, lines: 5, zones: 5 });
      for (const line of scene.lines) expect(line.hysteresis).toBe(0.02);
      for (const zone of scene.zones) {
        expect(zone.polygon.length).toBeGreaterThanOrEqual(3);
        expect([0, 1, 2]).toContain(zone.min_dwell_s);
        expect(zone.exit_grace_s).toBe(1.5);
      }
      const coordinates = allCoordinates(scene);
      expect(Math.min(...coordinates)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...coordinates)).toBeLessThanOrEqual(1);
    }
  });

  it('places everything on a small cluster of foot points when that is where people walk', () => {
    const spot = cluster(0.5, 0.45, 0.02, 100, 3);
    for (let seed = 0; seed < 30; seed++) {
      const scene = randomScene(spot, { seed, lines: 4, zones: 4 });
      for (const line of scene.lines) {
        const m = midpoint(line);
        expect(Math.abs(m.x - 0.5)).toBeLessThanOrEqual(0.022);
        expect(Math.abs(m.y - 0.45)).toBeLessThanOrEqual(0.022);
      }
      for (const zone of scene.zones) {
        const c = vertexCentroid(zone);
        expect(Math.hypot(c.x - 0.5, c.y - 0.45)).toBeLessThan(0.12);
        const polygon = zone.polygon.map(toPoint);
        expect(spot.some((p) => pointInPolygon(p, polygon))).toBe(true);
      }
    }
  });

  it('centres lines and zones on foot points of either of two far-apart clusters', () => {
    const near = (p: Point): boolean => Math.abs(p.x - 0.3) <= 0.101 && Math.abs(p.y - 0.6) <= 0.101 || Math.abs(p.x - 0.7) <= 0.051 && Math.abs(p.y - 0.8) <= 0.051;
    const used = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const scene = randomScene(walkable, { seed, lines: 4, zones: 4 });
      for (const line of scene.lines) {
        const m = midpoint(line);
        expect(near(m), `${line.name} of seed ${seed} at ${m.x},${m.y}`).toBe(true);
        used.add(m.x < 0.5 ? 'left' : 'right');
      }
      for (const zone of scene.zones) {
        const polygon = zone.polygon.map(toPoint);
        expect(walkable.some((p) => pointInPolygon(p, polygon))).toBe(true);
      }
    }
    expect(used).toEqual(new Set(['left', 'right']));
  });

  it('stays valid for foot points at the image edges and corners', () => {
    const edges = [{ x: 0.01, y: 0.99 }, { x: 0.02, y: 0.02 }, { x: 0.98, y: 0.985 }, { x: 0.99, y: 0.03 }, { x: 0.5, y: 1 }, { x: 0, y: 0.5 }];
    for (let seed = 0; seed < 100; seed++) {
      const scene = randomScene(edges, { seed, lines: 3, zones: 3 });
      expect(scene.zones).toHaveLength(3);
      const coordinates = allCoordinates(scene);
      expect(Math.min(...coordinates)).toBeGreaterThanOrEqual(0.01);
      expect(Math.max(...coordinates)).toBeLessThanOrEqual(0.99);
    }
  });

  it('refuses an empty set of foot points', () => {
    expect(() => randomScene([], { seed: 1, lines: 1, zones: 1 })).toThrow(/no foot points/);
  });
});
