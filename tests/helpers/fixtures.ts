import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import type { RgbFrame } from '../../src/vision/detection.js';
import { readVideoFrames } from '../../src/vision/videoFrames.js';

/** Real pedestrian footage from Debian's opencv-doc (installed by .ci/run). */
export const VTEST_PATH = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
export const hasVtest = existsSync(VTEST_PATH);

/** ../shared holds evaluation-only material; tests using it skip when it is absent. */
export const SHARED_DIR = path.resolve(PROJECT_ROOT, '..', 'shared');
export const YOLOX_NANO_PATH = path.join(SHARED_DIR, 'models', 'yolox_nano_416x416.onnx');
export const hasYoloxNano = existsSync(YOLOX_NANO_PATH);
export const MOT17_GT_PATH = path.join(SHARED_DIR, 'data', 'MOT17-02', 'gt.txt');
export const hasMot17 = existsSync(MOT17_GT_PATH);
/** Annotated trajectories of vtest.avi (PETS09-S2L1, MOT15 format; video frame i = GT frame i+1). */
export const PETS09_GT_PATH = path.join(SHARED_DIR, 'data', 'PETS09-S2L1', 'gt.txt');
export const hasPets09 = existsSync(PETS09_GT_PATH);

/** Frames of vtest.avi with the given indices (decoded once, in order). */
export async function vtestFrames(indices: number[]): Promise<RgbFrame[]> {
  const wanted = new Set(indices);
  const last = Math.max(...indices);
  const frames: RgbFrame[] = [];
  for await (const f of readVideoFrames(VTEST_PATH, { maxFrames: last + 1 })) if (wanted.has(f.index)) frames.push(f);
  return frames;
}
