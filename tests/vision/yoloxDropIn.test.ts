/** The official YOLOX-Nano ONNX (../shared, never committed) works as a drop-in model. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iou } from '../../src/vision/detection.js';
import { PersonDetector } from '../../src/vision/detector/personDetector.js';
import { hasVtest, hasYoloxNano, vtestFrames, YOLOX_NANO_PATH } from '../helpers/fixtures.js';

describe.skipIf(!hasYoloxNano || !hasVtest)('YOLOX-Nano drop-in', () => {
  let yolox: PersonDetector;
  let nanodet: PersonDetector;
  beforeAll(async () => {
    yolox = await PersonDetector.create({ model: YOLOX_NANO_PATH });
    nanodet = await PersonDetector.create();
  });
  afterAll(async () => {
    await yolox?.close();
    await nanodet?.close();
  });

  it('infers the YOLOX contract from the bare .onnx file', () => {
    expect(yolox.manifest.decoder.type).toBe('yolox');
    expect(yolox.manifest.input).toMatchObject({ name: 'images', width: 416, height: 416, colorOrder: 'BGR', resize: 'letterbox', padValue: 114 });
  });

  it('finds the same pedestrians as the default model on real frames', async () => {
    for (const frame of await vtestFrames([30, 300, 600])) {
      const a = await yolox.detect(frame);
      const b = await nanodet.detect(frame);
      expect(a.length).toBeGreaterThanOrEqual(3);
      // YOLOX at its lower threshold also reports small and half-occluded people; most of what both see must agree.
      const matched = a.filter((d) => b.some((e) => iou(d, e) > 0.5)).length;
      expect(matched / Math.min(a.length, b.length)).toBeGreaterThanOrEqual(0.7);
    }
  });
});
