import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScene, parseScene, SceneError } from '../../src/vision/scene.js';

const problemsOf = (raw: unknown): string[] => {
  try {
    parseScene(raw);
  } catch (err) {
    if (err instanceof SceneError) return err.problems;
    throw err;
  }
  return [];
};

describe('scene validation', () => {
  it('accepts the documented shape and fills defaults', () => {
    const scene = parseScene({
      lines: [{ name: 'L1', points: [[0.1, 0.5], [0.9, 0.5]] }],
      zones: [{ name: 'Z1', polygon: [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]], min_dwell_s: 2 }],
    });
    expect(scene.lines[0]).toMatchObject({ name: 'L1', hysteresis: 0.02 });
    expect(scene.zones[0]).toMatchObject({ min_dwell_s: 2, queue: false, exit_grace_s: 1.5 });
  });

  it('lists every problem with its path', () => {
    const problems = problemsOf({
      lines: [
        { name: 'L1', points: [[0.5, 0.5], [0.5, 0.505]] },
        { name: 'L2', points: [[0.1, 1.5], [0.9, 0.5]], colour: 'red' },
      ],
      zones: [
        { name: 'bowtie', polygon: [[0.1, 0.1], [0.5, 0.5], [0.5, 0.1], [0.1, 0.5]] },
        { name: 'L1', polygon: [[0.1, 0.1], [0.2, 0.2]] },
      ],
      cameras: [],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^lines\.0\.points: degenerate line/),
        expect.stringMatching(/^lines\.1\.points\.0\.1: must be within 0–1/),
        expect.stringMatching(/^lines\.1: Unrecognized key.*colour/),
        expect.stringMatching(/^zones\.0\.polygon: self-intersecting polygon/),
        expect.stringMatching(/^zones\.1\.polygon: a polygon needs at least 3 points/),
        expect.stringMatching(/^\(root\): Unrecognized key.*cameras/),
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it('rejects duplicate names and zero-area zones', () => {
    const problems = problemsOf({
      lines: [{ name: 'A', points: [[0.1, 0.5], [0.9, 0.5]] }],
      zones: [{ name: 'A', polygon: [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]] }],
    });
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/zones\.0\.name: duplicate name "A"/), expect.stringMatching(/zones\.0\.polygon: degenerate polygon/)]));
  });

  it('reads YAML and JSON files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'scene-'));
    await writeFile(path.join(dir, 's.yaml'), 'lines:\n  - name: door\n    points: [[0.2, 0.8], [0.8, 0.8]]\n');
    await writeFile(path.join(dir, 's.json'), JSON.stringify({ zones: [{ name: 'Z', polygon: [[0, 0], [1, 0], [1, 1]] }] }));
    expect((await loadScene(path.join(dir, 's.yaml'))).lines[0]!.name).toBe('door');
    expect((await loadScene(path.join(dir, 's.json'))).zones[0]!.name).toBe('Z');
    await writeFile(path.join(dir, 'bad.yaml'), 'lines: [unclosed');
    await expect(loadScene(path.join(dir, 'bad.yaml'))).rejects.toThrow(/not valid JSON\/YAML/);
  });
});
