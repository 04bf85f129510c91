/**
 * `storepulse eval` on real annotated footage (vtest.avi = PETS09-S2L1; the annotations live in
 * ../shared and the test skips without them) and on bad input. The accuracy floors are regression
 * guards set below the figures measured when the tracker was tuned (docs/benchmarks.md).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
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

  it('--decode takes gateway or full only, in one line; not with --load-detections', async () => {
    const detections = path.join(dir, 'decode-detections.json');
    await writeFile(detections, JSON.stringify({ width: 768, height: 576, detectMsPerFrame: 1, frames: [{ videoFrame: 0, timestampMs: 0, detections: [] }] }));
    const bad = await runCli(['eval', '--load-detections', detections, '--gt', 'gt.txt', '--scene', SCENE, '--decode', 'area']);
    expect(bad.code).toBe(2);
    expectOneLineError(bad.stderr, /--decode must be gateway or full, got "area"/);
    const replayed = await runCli(['eval', '--load-detections', detections, '--gt', 'gt.txt', '--scene', SCENE, '--decode', 'gateway']);
    expect(replayed.code).toBe(2);
    expectOneLineError(replayed.stderr, /--decode applies when detecting --source; a recording loaded with --load-detections keeps how it was decoded/);
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

interface DecodeReport {
  frame_size: [number, number];
  decode: string | null;
  decoded_size: [number, number] | null;
  segments: { name: string; detection: { ap: number } }[];
}

interface SavedRecording {
  width: number;
  height: number;
  decoded?: { width: number; height: number };
  frames: { videoFrame: number; detections: { x1: number; y1: number; x2: number; y2: number; score: number }[] }[];
}

/** The best IoU of a box against a list of boxes. */
function bestIou(b: SavedRecording['frames'][number]['detections'][number], others: SavedRecording['frames'][number]['detections']): number {
  let best = 0;
  for (const o of others) {
    const w = Math.min(b.x2, o.x2) - Math.max(b.x1, o.x1);
    const h = Math.min(b.y2, o.y2) - Math.max(b.y1, o.y1);
    if (w <= 0 || h <= 0) continue;
    const inter = w * h;
    best = Math.max(best, inter / ((b.x2 - b.x1) * (b.y2 - b.y1) + (o.x2 - o.x1) * (o.y2 - o.y1) - inter));
  }
  return best;
}

describe.skipIf(!hasVtest || !hasPets09)('storepulse eval --decode on the first frames of vtest.avi', () => {
  const FRAMES = 12;
  let clip: string;
  let clipGt: string;
  const manifest = async (name: string): Promise<{ input: { width: number; height: number; resize: string } }> =>
    JSON.parse(await readFile(path.join(PROJECT_ROOT, 'models', `${name}.json`), 'utf8')) as { input: { width: number; height: number; resize: string } };

  beforeAll(async () => {
    // A short lossless copy of the sample footage and the annotations of its frames.
    clip = path.join(dir, 'vtest-head.mkv');
    const ffmpeg = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', VTEST_PATH, '-frames:v', String(FRAMES), '-an', '-c:v', 'ffv1', clip]);
    expect(ffmpeg.status, ffmpeg.stderr.toString()).toBe(0);
    const gt = (await readFile(PETS09_GT_PATH, 'utf8')).split('\n').filter((line) => line.trim() !== '' && Number(line.split(',')[0]) <= FRAMES);
    clipGt = path.join(dir, 'vtest-head-gt.txt');
    await writeFile(clipGt, `${gt.join('\n')}\n`);
  });

  const evalClip = async (extra: string[], saveAs: string): Promise<{ report: DecodeReport; saved: SavedRecording }> => {
    const file = path.join(dir, saveAs);
    const r = await runCli(['eval', '--source', clip, '--gt', clipGt, '--scene', SCENE, '--random-lines', '0', '--random-zones', '0', '--save-detections', file, '--json', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return {
      report: JSON.parse(r.stdout.trim().split('\n').pop()!) as DecodeReport,
      saved: JSON.parse(await readFile(file, 'utf8')) as SavedRecording,
    };
  };

  it("--decode gateway feeds the detector frames at its input size and reports boxes in the video's pixels, where --decode full finds them", async () => {
    const { input } = await manifest('nanodet-m-416');
    expect(input.resize).toBe('stretch'); // a stretch model: the gateway decodes at exactly its input size
    const gateway = await evalClip(['--decode', 'gateway'], 'gateway.json');
    expect(gateway.report.decode).toBe('gateway');
    expect(gateway.report.frame_size).toEqual([768, 576]);
    expect(gateway.report.decoded_size).toEqual([input.width, input.height]);
    expect(gateway.saved.decoded).toEqual({ width: input.width, height: input.height });
    expect([gateway.saved.width, gateway.saved.height]).toEqual([768, 576]);
    expect(gateway.saved.frames).toHaveLength(FRAMES);

    const full = await evalClip([], 'full.json');
    expect(full.report.decode).toBe('full');
    expect(full.report.decoded_size).toEqual([768, 576]);
    const explicit = await evalClip(['--decode', 'full'], 'full-explicit.json');
    expect(explicit.saved.frames.map((f) => f.detections.map((d) => [d.x1, d.y1, d.x2, d.y2]))).toEqual(full.saved.frames.map((f) => f.detections.map((d) => [d.x1, d.y1, d.x2, d.y2])));

    // Boxes mapped back to the source: people right of x = 416 are found, at the places the full decode finds them.
    const confident = (rec: SavedRecording) => rec.frames.map((f) => f.detections.filter((d) => d.score >= 0.5));
    const gatewayBoxes = confident(gateway.saved);
    const fullBoxes = confident(full.saved);
    expect(Math.max(...gatewayBoxes.flat().map((d) => d.x2))).toBeGreaterThan(input.width);
    const ious = gatewayBoxes.flatMap((boxes, i) => boxes.map((b) => bestIou(b, fullBoxes[i]!)));
    expect(ious.length).toBeGreaterThanOrEqual(FRAMES * 2); // about 3 confident people a frame at the start of vtest
    const matched = ious.filter((v) => v >= 0.5).length / ious.length;
    expect(matched).toBeGreaterThan(0.8);
    // Not the same pixels: the two decodes give (slightly) different detections.
    expect(gateway.saved.frames.map((f) => f.detections.map((d) => d.x1))).not.toEqual(full.saved.frames.map((f) => f.detections.map((d) => d.x1)));
    for (const s of gateway.report.segments) expect(s.detection.ap, s.name).toBeGreaterThan(0.7);
  }, 300_000);

  it('prints how the frames were decoded above the table', async () => {
    const r = await runCli(['eval', '--source', clip, '--gt', clipGt, '--scene', SCENE, '--random-lines', '0', '--random-zones', '0', '--decode', 'gateway']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^frames decoded at 416×416 \(--decode gateway: ffmpeg's area scaler at the detector's input, as the gateway decodes\); boxes in the video's 768×576 pixels$/);
  }, 300_000);
});
