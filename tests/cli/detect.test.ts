import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR } from '../../src/projectPaths.js';
import { expectOneLineError, runCli } from '../helpers/cli.js';
import { hasVtest, VTEST_PATH } from '../helpers/fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'detect-cli-'));
});

describe.skipIf(!hasVtest)('storepulse detect on real footage', () => {
  it('prints one JSON object per frame with boxes in source pixels', async () => {
    const r = await runCli(['detect', VTEST_PATH, '--max-frames', '3', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.frame)).toEqual([0, 1, 2]);
    for (const line of lines) {
      expect(line.detections.length).toBeGreaterThanOrEqual(2);
      for (const d of line.detections) {
        expect(Object.keys(d).sort()).toEqual(['score', 'x1', 'x2', 'y1', 'y2']);
        expect(d.x2).toBeGreaterThan(d.x1);
        expect(d.y2).toBeGreaterThan(d.y1);
        expect(d.x2).toBeLessThanOrEqual(768);
        expect(d.y2).toBeLessThanOrEqual(576);
      }
    }
  });

  it('detects in a still image and writes an annotated copy', async () => {
    const still = path.join(dir, 'still.png');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-ss', '10', '-i', VTEST_PATH, '-frames:v', '1', still]);
    const annotated = path.join(dir, 'annotated.png');
    const r = await runCli(['detect', still, '--annotate', annotated]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/frame 0 .*: \d+ people/);
    const meta = await sharp(annotated).metadata();
    expect([meta.width, meta.height]).toEqual([768, 576]);
  });
});

describe('storepulse detect errors are one line and a non-zero exit', () => {
  it('missing input file', async () => {
    const r = await runCli(['detect', path.join(dir, 'nope.mp4')]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /no such file: .*nope\.mp4/);
  });
  it('unreadable model', async () => {
    const bad = path.join(dir, 'bad.onnx');
    await writeFile(bad, 'not a model');
    const img = path.join(dir, 'grey.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#888' } }).png().toFile(img);
    const r = await runCli(['detect', img, '--model', bad]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /cannot load model .*bad\.onnx/);
  });
  it('model whose input shape disagrees with its manifest', async () => {
    const manifest = JSON.parse(execFileSync('cat', [path.join(MODELS_DIR, 'nanodet-m-416.json')]).toString());
    const wrong = path.join(dir, 'wrong.json');
    await writeFile(wrong, JSON.stringify({ ...manifest, file: path.join(MODELS_DIR, manifest.file), input: { ...manifest.input, width: 320, height: 320 } }));
    const img = path.join(dir, 'grey.png');
    const r = await runCli(['detect', img, '--model', wrong]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /input shape \[1,3,416,416\] does not match the manifest's \[1,3,320,320\]/);
  });
  it('unknown model name and bad numbers', async () => {
    const r = await runCli(['detect', path.join(dir, 'grey.png'), '--model', 'no-such-model']);
    expectOneLineError(r.stderr, /unknown model "no-such-model"/);
    const r2 = await runCli(['detect', path.join(dir, 'grey.png'), '--max-frames', 'ten']);
    expect(r2.code).toBe(2);
    expectOneLineError(r2.stderr, /--max-frames must be a positive integer/);
  });
});
