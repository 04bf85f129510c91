/**
 * `storepulse eval` on real annotated footage (vtest.avi = PETS09-S2L1; the annotations live in
 * ../shared and the test skips without them) and on bad input. The accuracy floors are regression
 * guards set below the figures measured when the tracker was tuned (docs/benchmarks.md).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { expectOneLineError, runCli } from '../helpers/cli.js';
import { hasPets09, hasVtest, PETS09_GT_PATH, VTEST_PATH } from '../helpers/fixtures.js';

const SCENE = path.join(PROJECT_ROOT, 'config/scenes/vtest.yaml');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'eval-cli-'));
});

interface Report {
  frames: number;
  segments: {
    name: string;
    from: number;
    to: number;
    detection: { ap: number };
    tracking: { mota: number; idf1: number; idSwitches: number; fragmentations: number };
    counts: { lines: unknown[]; zones: unknown[]; lineError: number; dwellError: number; visitError: number };
    randomCounts: { lines: unknown[]; zones: unknown[]; lineError: number; dwellError: number; visitError: number };
  }[];
}

describe.skipIf(!hasVtest || !hasPets09)('storepulse eval on PETS09-S2L1 (vtest.avi)', () => {
  const saved = (): string => path.join(dir, 'detections.json');
  let liveReport: Report | undefined;

  it('scores the whole sequence, both halves and random lines and zones against the annotations', async () => {
    const r = await runCli(['eval', '--source', VTEST_PATH, '--gt', PETS09_GT_PATH, '--scene', SCENE, '--save-detections', saved(), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as Report;
    liveReport = report;
    expect(report.frames).toBe(795);
    expect(report.segments.map((s) => [s.name, s.from, s.to])).toEqual([['whole', 0, 794], ['tuning', 0, 397], ['held-out', 398, 794]]);
    for (const s of report.segments) {
      expect(s.counts.lines).toHaveLength(2);
      expect(s.counts.zones).toHaveLength(2);
      expect(s.randomCounts.lines).toHaveLength(20);
      expect(s.randomCounts.zones).toHaveLength(10);
      expect(s.detection.ap).toBeGreaterThan(0.85);
      // Tuned defaults: MOTA 0.76–0.85, IDF1 0.74–0.84 (the first tracker: MOTA 0.30, IDF1 0.43 on the whole).
      expect(s.tracking.mota, s.name).toBeGreaterThan(0.7);
      expect(s.tracking.idf1, s.name).toBeGreaterThan(0.7);
      // Random lines: 5.5–14.7 % (the first tracker: ~20 %).
      expect(s.randomCounts.lineError, s.name).toBeLessThan(0.2);
      // Zones: dwell and visits within ~10 % (measured 0.4–1.2 % and 0–5.6 % on the scene).
      expect(s.counts.dwellError, s.name).toBeLessThan(0.1);
      expect(s.randomCounts.dwellError, s.name).toBeLessThan(0.12);
      expect(s.randomCounts.visitError, s.name).toBeLessThan(0.12);
    }
  }, 600_000); // decodes and detects 795 frames: about a minute on 2 cores, more on a busy CI machine

  it('replays saved detections (colour signatures included) to the very same figures', async () => {
    expect(liveReport, 'the live run above must pass first').toBeDefined();
    const r = await runCli(['eval', '--load-detections', saved(), '--gt', PETS09_GT_PATH, '--scene', SCENE, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const replay = JSON.parse(r.stdout.trim().split('\n').pop()!) as Report;
    const figures = (rep: Report) => rep.segments.map((s) => ({ tracking: s.tracking, detection: s.detection, counts: s.counts, random: s.randomCounts }));
    expect(figures(replay)).toEqual(figures(liveReport!));
  });

  it('replays saved detections without the detector and prints a readable table', async () => {
    const r = await runCli(['eval', '--load-detections', saved(), '--gt', PETS09_GT_PATH, '--scene', SCENE, '--random-lines', '5', '--random-zones', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^held-out \(video frames 398–794, 397 frames\)$/m);
    expect(r.stdout).toMatch(/tracking MOTA 0\.\d{3}, IDF1 0\.\d{3}, ID switches \d+, fragmentations \d+/);
    expect(r.stdout).toMatch(/line L_centre: in \d+ \/ \d+ \(/);
    expect(r.stdout).toMatch(/random scene: 5 lines, 2 zones → line error/);
  });
});

describe('storepulse eval on bad input', () => {
  it('says what is missing, with the usage, when arguments are missing', async () => {
    const r = await runCli(['eval', '--gt', 'x.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: storepulse eval --source FILE --gt MOT\.txt --scene/);
  });

  it('reports a missing source, a missing or malformed ground truth in one line', async () => {
    const missingSource = await runCli(['eval', '--source', path.join(dir, 'nope.avi'), '--gt', 'gt.txt', '--scene', SCENE]);
    expect(missingSource.code).toBe(1);
    expectOneLineError(missingSource.stderr, /no such file: .*nope\.avi/);

    const detections = path.join(dir, 'tiny-detections.json');
    await writeFile(detections, JSON.stringify({ width: 768, height: 576, detectMsPerFrame: 1, frames: Array.from({ length: 10 }, (_, i) => ({ videoFrame: i, timestampMs: i * 100, detections: [] })) }));
    const missingGt = await runCli(['eval', '--load-detections', detections, '--gt', path.join(dir, 'missing-gt.txt'), '--scene', SCENE]);
    expect(missingGt.code).toBe(1);
    expectOneLineError(missingGt.stderr, /cannot read ground truth .*missing-gt\.txt: ENOENT/);

    const notMot = path.join(dir, 'not-mot.txt');
    await writeFile(notMot, 'frame;id;x;y\n1;2;3;4\n');
    const badGt = await runCli(['eval', '--load-detections', detections, '--gt', notMot, '--scene', SCENE]);
    expect(badGt.code).toBe(1);
    expectOneLineError(badGt.stderr, /not-mot\.txt is not MOT ground truth: MOT line 1/);
  });

  it('refuses annotations that run past the end of the video (wrong file or frame offset)', async () => {
    const detections = path.join(dir, 'ten-frames.json');
    await writeFile(detections, JSON.stringify({ width: 768, height: 576, detectMsPerFrame: 1, frames: Array.from({ length: 10 }, (_, i) => ({ videoFrame: i, timestampMs: i * 100, detections: [] })) }));
    const gt = path.join(dir, 'long-gt.txt');
    await writeFile(gt, '1,1,10,10,20,50,1,-1,-1,-1\n500,1,10,10,20,50,1,-1,-1,-1\n');
    const r = await runCli(['eval', '--load-detections', detections, '--gt', gt, '--scene', SCENE]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /annotates video frame 499 but the video ends at frame 9: wrong file or wrong --frame-offset \(1\)\?/);

    const invalid = await runCli(['eval', '--load-detections', path.join(dir, 'not-mot.txt'), '--gt', gt, '--scene', SCENE]);
    expect(invalid.code).toBe(1);
    expectOneLineError(invalid.stderr, /cannot read detections .*not-mot\.txt/);
  });
});
