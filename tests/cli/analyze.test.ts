import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { runCli } from '../helpers/cli.js';
import { hasVtest, VTEST_PATH } from '../helpers/fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'analyze-cli-'));
});

describe.skipIf(!hasVtest)('storepulse analyze on real footage', () => {
  it('prints the summary as the last JSON line and writes events, MOT tracks and a heatmap', async () => {
    const out = path.join(dir, 'out');
    const scene = path.join(PROJECT_ROOT, 'config/scenes/vtest.yaml');
    const r = await runCli(['analyze', '--source', VTEST_PATH, '--scene', scene, '--fps', '5', '--max-frames', '150', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary.frames).toBe(150);
    expect(summary.fps).toBeCloseTo(5, 1);
    expect(summary.duration_s).toBeCloseTo(30, 0);
    expect(Object.keys(summary.lines)).toEqual(['L_centre', 'L_path']);
    for (const c of Object.values(summary.lines) as { in: number; out: number }[]) expect(c.in + c.out).toBeGreaterThanOrEqual(0);
    expect(summary.zones.road.visits).toBeGreaterThan(0); // people walk along the road all the time
    expect(summary.zones.road.max_occupancy).toBeGreaterThan(1);
    expect(summary.zones.sign.queue).toBeDefined();

    const events = (await readFile(path.join(out, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const crossings = events.filter((e) => e.type === 'line_crossing');
    const visits = events.filter((e) => e.type === 'zone_visit' && e.counted);
    expect(crossings.length).toBe(Object.values(summary.lines as Record<string, { in: number; out: number }>).reduce((n, c) => n + c.in + c.out, 0));
    expect(visits.filter((v) => v.zone === 'road').length).toBe(summary.zones.road.visits);
    for (const v of visits) expect(v.dwellMs).toBe(v.exitMs - v.enterMs);

    const mot = (await readFile(path.join(out, 'tracks.txt'), 'utf8')).trim().split('\n');
    expect(mot.length).toBeGreaterThan(150);
    expect(mot[0]).toMatch(/^\d+,\d+,[\d.]+,[\d.]+,[\d.]+,[\d.]+,[\d.]+,-1,-1,-1$/);

    const png = await sharp(path.join(out, 'heatmap.png')).metadata();
    expect([png.width, png.height, png.channels]).toEqual([768, 576, 4]); // transparent overlay, no camera pixels
    const grid = JSON.parse(await readFile(path.join(out, 'heatmap.json'), 'utf8'));
    expect(grid.personSeconds).toHaveLength(grid.cols * grid.rows);
    expect(grid.totalPersonSeconds).toBeGreaterThan(30); // several people over 30 s
  });
});

describe('storepulse analyze errors', () => {
  it('lists every scene problem by path', async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ lines: [{ name: 'L1', points: [[0.5, 0.5], [0.5, 0.5]] }], zones: [{ name: 'Z', polygon: [[0, 0], [1, 1], [1, 0], [0, 1]] }], extra: 1 }));
    const r = await runCli(['analyze', '--source', VTEST_PATH, '--scene', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lines\.0\.points: degenerate line/);
    expect(r.stderr).toMatch(/zones\.0\.polygon: self-intersecting polygon/);
    expect(r.stderr).toMatch(/\(root\): Unrecognized key.*extra/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('refuses a missing source and missing arguments', async () => {
    const r = await runCli(['analyze', '--source', path.join(dir, 'none.mp4'), '--scene', 'x.yaml']);
    expect(r.stderr.trim()).toMatch(/no such file/);
    const u = await runCli(['analyze', '--scene', 'x.yaml']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/usage: storepulse analyze/);
  });
});
