import { describe, expect, it } from 'vitest';
import { CountingLine } from '../../src/vision/analytics/countingLine.js';
import { lineSchema } from '../../src/vision/scene.js';

type Path = [number, number][];
const line = (points: [[number, number], [number, number]], hysteresis = 0.02) =>
  new CountingLine(lineSchema.parse({ name: 'L', points, hysteresis }));

/** Feeds one track's foot points at 10 fps and returns the directions counted. */
function walk(l: CountingLine, path: Path, trackId = 1): string[] {
  return path.flatMap(([x, y], i) => l.update([{ trackId, x, y }], i * 100).map((e) => e.direction));
}
const steps = (from: [number, number], to: [number, number], n: number): Path =>
  Array.from({ length: n + 1 }, (_, i) => [from[0] + ((to[0] - from[0]) * i) / n, from[1] + ((to[1] - from[1]) * i) / n]);

const VERTICAL_DOWN: [[number, number], [number, number]] = [[0.5, 0.1], [0.5, 0.9]];
const HORIZONTAL_RIGHT: [[number, number], [number, number]] = [[0.1, 0.5], [0.9, 0.5]];

describe('counting line direction convention (left-hand → right-hand side of the walker along the line = in)', () => {
  it.each([
    ['vertical top→bottom, walking right→left', VERTICAL_DOWN, steps([0.8, 0.5], [0.2, 0.5], 12), ['in']],
    ['vertical top→bottom, walking left→right', VERTICAL_DOWN, steps([0.2, 0.5], [0.8, 0.5], 12), ['out']],
    // Facing along a left→right line, the walker's left hand is up the image.
    ['horizontal left→right, walking down the image', HORIZONTAL_RIGHT, steps([0.5, 0.2], [0.5, 0.8], 12), ['in']],
    ['horizontal left→right, walking up the image', HORIZONTAL_RIGHT, steps([0.5, 0.8], [0.5, 0.2], 12), ['out']],
    ['vertical bottom→top, walking right→left', [[0.5, 0.9], [0.5, 0.1]] as [[number, number], [number, number]], steps([0.8, 0.5], [0.2, 0.5], 12), ['out']],
    ['diagonal crossing', VERTICAL_DOWN, steps([0.7, 0.2], [0.3, 0.8], 12), ['in']],
  ] as const)('%s', (_name, points, path, expected) => {
    expect(walk(line(points as [[number, number], [number, number]]), path as Path)).toEqual(expected);
  });
});

describe('counting line robustness', () => {
  it('does not count jitter on the line', () => {
    const jitter: Path = Array.from({ length: 60 }, (_, i) => [0.5 + (i % 2 ? 0.015 : -0.015), 0.5]);
    expect(walk(line(VERTICAL_DOWN), [[0.7, 0.5], ...jitter])).toEqual([]);
  });
  it('counts once when someone stops on the line and then walks on', () => {
    const path: Path = [...steps([0.8, 0.5], [0.5, 0.5], 6), ...Array.from({ length: 30 }, (): [number, number] => [0.505, 0.5]), ...steps([0.5, 0.5], [0.2, 0.5], 6)];
    expect(walk(line(VERTICAL_DOWN), path)).toEqual(['in']);
  });
  it('counts once when someone stops on the line and turns back: nothing', () => {
    const path: Path = [...steps([0.8, 0.5], [0.51, 0.5], 6), ...steps([0.51, 0.5], [0.8, 0.5], 6)];
    expect(walk(line(VERTICAL_DOWN), path)).toEqual([]);
  });
  it('counts every real crossing back and forth', () => {
    const path: Path = [...steps([0.8, 0.5], [0.2, 0.5], 6), ...steps([0.2, 0.5], [0.8, 0.5], 6), ...steps([0.8, 0.5], [0.2, 0.5], 6)];
    expect(walk(line(VERTICAL_DOWN), path)).toEqual(['in', 'out', 'in']);
  });
  it('ignores people passing beyond the end of the segment', () => {
    expect(walk(line([[0.5, 0.1], [0.5, 0.4]]), steps([0.8, 0.7], [0.2, 0.7], 12))).toEqual([]);
  });
  it('counts a fast walker seen only once on each side', () => {
    expect(walk(line(VERTICAL_DOWN), [[0.6, 0.5], [0.4, 0.5]])).toEqual(['in']);
  });
  it('does not count a track first seen on one side (no crossing observed)', () => {
    expect(walk(line(VERTICAL_DOWN), steps([0.3, 0.5], [0.1, 0.5], 5))).toEqual([]);
  });
  it('counts people in a group independently', () => {
    const l = line(VERTICAL_DOWN);
    const directions: string[] = [];
    for (let i = 0; i <= 12; i++) {
      const x = 0.8 - (0.6 * i) / 12;
      const people = [1, 2, 3].map((id) => ({ trackId: id, x: x + id * 0.01, y: 0.3 + id * 0.1 }));
      directions.push(...l.update(people, i * 100).map((e) => e.direction));
    }
    expect(directions).toEqual(['in', 'in', 'in']);
    expect(l.counts).toEqual({ in: 3, out: 0 });
  });
  it('reports the crossing with its timestamp and line name', () => {
    const l = line(VERTICAL_DOWN);
    l.update([{ trackId: 7, x: 0.6, y: 0.5 }], 1000);
    expect(l.update([{ trackId: 7, x: 0.4, y: 0.5 }], 1200)).toEqual([{ type: 'line_crossing', line: 'L', direction: 'in', timestampMs: 1200, trackId: 7 }]);
  });
});
