import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignGroundTruth, GroundTruthError, loadGroundTruth } from '../../src/vision/eval/groundTruth.js';
import { parseMot } from '../../src/vision/eval/motFormat.js';

const align = (lines: string[], offset?: number) => alignGroundTruth(parseMot(lines.join('\n')), offset);
const ids = (boxes: { id: number }[] | undefined) => (boxes ?? []).map((b) => b.id);

describe('alignGroundTruth', () => {
  it('maps MOT frame 1 to video frame 0 by default, with boxes in pixels', () => {
    const gt = align(['1,1,10,20,30,60,1,1,1', '2,1,12,20,30,60,1,1,1', '3,2,100,50,20,40,1,1,1']);
    expect([...gt.byVideoFrame.keys()].sort()).toEqual([0, 1, 2]);
    expect(gt.byVideoFrame.get(0)).toEqual([{ id: 1, box: { x1: 10, y1: 20, x2: 40, y2: 80, score: 1 } }]);
    expect(ids(gt.byVideoFrame.get(2))).toEqual([2]);
    expect(gt.lastVideoFrame).toBe(2);
    expect(gt.trajectories).toBe(2);
    expect(gt.boxes).toBe(3);
    expect(gt.ignoredByVideoFrame.size).toBe(0);
  });

  it('shifts frames by another offset', () => {
    const gt = align(['5,1,10,20,30,60,1,1,1', '9,1,10,20,30,60,1,1,1'], 5);
    expect([...gt.byVideoFrame.keys()]).toEqual([0, 4]);
    expect(gt.lastVideoFrame).toBe(4);
    const zeroBased = align(['0,1,10,20,30,60,1,1,1'], 0);
    expect([...zeroBased.byVideoFrame.keys()]).toEqual([0]);
  });

  it('keeps MOT15 10-column rows as pedestrians whatever their world coordinates', () => {
    const gt = align(['1,1,10,20,30,60,1,-1,-1,-1', '1,2,50,20,30,60,1,-4.15,-7.35,0', '2,3,90,20,30,60,1,7,7,7']);
    expect(ids(gt.byVideoFrame.get(0))).toEqual([1, 2]);
    expect(ids(gt.byVideoFrame.get(1))).toEqual([3]); // "7" here is a world coordinate, not MOT17's static-person class
    expect(gt.trajectories).toBe(3);
    expect(gt.boxes).toBe(3);
  });

  it('keeps MOT17 pedestrians (class 1) and drops static people (class 7)', () => {
    const gt = align(['1,1,10,20,30,60,1,1,0.9', '1,2,50,20,30,60,1,7,1', '2,2,50,20,30,60,1,7,1', '2,1,12,20,30,60,1,1,0.8']);
    expect(ids(gt.byVideoFrame.get(0))).toEqual([1]);
    expect(ids(gt.byVideoFrame.get(1))).toEqual([1]);
    expect(gt.trajectories).toBe(1);
    expect(gt.boxes).toBe(2);
  });

  it('keeps rows with conf 0 apart: not counted, but they extend the last frame', () => {
    const gt = align(['1,1,10,20,30,60,1,1,1', '2,1,12,20,30,60,1,1,1', '2,9,300,20,10,20,0,1,1', '6,9,310,20,10,20,0,1,1']);
    expect(ids(gt.ignoredByVideoFrame.get(1))).toEqual([9]);
    expect(ids(gt.ignoredByVideoFrame.get(5))).toEqual([9]);
    expect(ids(gt.byVideoFrame.get(1))).toEqual([1]);
    expect(gt.byVideoFrame.has(5)).toBe(false);
    expect(gt.trajectories).toBe(1);
    expect(gt.boxes).toBe(2);
    expect(gt.lastVideoFrame).toBe(5);
  });

  it('rejects ground truth without person boxes', () => {
    expect(() => align([])).toThrow(GroundTruthError);
    expect(() => align(['1,1,10,20,30,60,1,7,1'])).toThrow(/no person boxes/);
    expect(() => align(['1,1,10,20,30,60,0,1,1'])).toThrow(GroundTruthError); // only ignored people
  });

  it('rejects a frame before video frame 0 for the offset', () => {
    expect(() => align(['1,1,10,20,30,60,1,1,1', '2,1,10,20,30,60,1,1,1'], 2)).toThrow(GroundTruthError);
    expect(() => align(['0,1,10,20,30,60,1,1,1'])).toThrow(/frame 0 comes before video frame 0 with frame offset 1/);
  });

  it('rejects a box without area', () => {
    expect(() => align(['1,1,10,20,0,60,1,1,1'])).toThrow(GroundTruthError);
    expect(() => align(['1,4,10,20,30,0,1,1,1'])).toThrow(/frame 1, id 4: box 30x0 has no area/);
  });
});

describe('loadGroundTruth', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'storepulse-gt-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a MOT file with a frame offset', async () => {
    const file = path.join(dir, 'gt.txt');
    await writeFile(file, '# comment\n3,1,10,20,30,60,1,1,1\n4,1,12,20,30,60,1,1,1\n');
    const gt = await loadGroundTruth(file, 3);
    expect([...gt.byVideoFrame.keys()]).toEqual([0, 1]);
  });

  it('names a missing file', async () => {
    const file = path.join(dir, 'missing.txt');
    const err = await loadGroundTruth(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroundTruthError);
    expect((err as Error).message).toBe(`cannot read ground truth ${file}: ENOENT`);
  });

  it('says a file is not MOT ground truth', async () => {
    const file = path.join(dir, 'notes.txt');
    await writeFile(file, 'hello, world\n');
    const err = await loadGroundTruth(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroundTruthError);
    expect((err as Error).message.startsWith(`${file} is not MOT ground truth: MOT line 1`)).toBe(true);
  });
});
