import { describe, expect, it } from 'vitest';
import { decodeNanodet, decodeYolox, type DecodeContext } from '../../src/vision/detector/decoders.js';
import { modelManifestSchema } from '../../src/vision/detector/modelManifest.js';
import { nonMaxSuppression } from '../../src/vision/detector/nms.js';

const input = { name: 'images', width: 416, height: 416, layout: 'NCHW', colorOrder: 'BGR', resize: 'letterbox' };
const yolox = modelManifestSchema.parse({ name: 'y', file: 'y.onnx', input, decoder: { type: 'yolox' }, scoreThreshold: 0.3 });
const nanodet = modelManifestSchema.parse({
  name: 'n', file: 'n.onnx', input: { ...input, resize: 'stretch' }, decoder: { type: 'nanodet' }, scoreThreshold: 0.4,
});
const ctx = (manifest: typeof yolox, scale = 1): DecodeContext => ({
  manifest, geometry: { scaleX: scale, scaleY: scale }, frameWidth: 2000, frameHeight: 2000,
});

describe('YOLOX raw-grid decoder', () => {
  it('decodes a cell into a box scaled back to source pixels', () => {
    const cells = 52 * 52 + 26 * 26 + 13 * 13;
    const data = new Float32Array(cells * 85);
    const cell = 20 * 52 + 10; // stride 8, gx 10, gy 20
    data.set([0.5, 0.5, Math.log(4), Math.log(8), 0.9, 0.8], cell * 85);
    const strongOtherClass = 26 * 52 + 5; // a car: class 2 high, person low
    data.set([0, 0, 0, 0, 0.95, 0.01, 0, 0.99], strongOtherClass * 85);
    const boxes = decodeYolox({ output: { dims: [1, cells, 85], data } }, ctx(yolox, 2));
    expect(boxes).toHaveLength(1);
    const [b] = boxes;
    // centre ((0.5+10)*8, (0.5+20)*8) = (84, 164), size 32x64, then ×2
    expect(b!.x1).toBeCloseTo(136);
    expect(b!.y1).toBeCloseTo(264);
    expect(b!.x2).toBeCloseTo(200);
    expect(b!.y2).toBeCloseTo(392);
    expect(b!.score).toBeCloseTo(0.72);
  });
  it('rejects an output of the wrong size', () => {
    expect(() => decodeYolox({ o: { dims: [1, 100, 85], data: new Float32Array(8500) } }, ctx(yolox))).toThrow(/cells/);
  });
});

describe('NanoDet decoder', () => {
  it('reads distances as the mean of each side distribution, from the cell centre', () => {
    const heads: Record<string, { dims: number[]; data: Float32Array }> = {};
    for (const [k, g] of [52, 26, 13].entries()) {
      heads[`cls${k}`] = { dims: [1, g * g, 80], data: new Float32Array(g * g * 80) };
      heads[`box${k}`] = { dims: [1, g * g, 44], data: new Float32Array(g * g * 44) };
    }
    const cell = 4 * 26 + 3; // stride 16, gx 3, gy 4
    heads.cls1!.data[cell * 80] = 0.9;
    for (let side = 0; side < 4; side++) heads.box1!.data[cell * 44 + side * 11 + 2] = 50; // all mass on bin 2
    heads.cls0!.data[7 * 80 + 1] = 0.99; // another class: ignored
    const boxes = decodeNanodet(heads, ctx(nanodet));
    expect(boxes).toHaveLength(1);
    // centre (3.5*16, 4.5*16) = (56, 72); every side 2*16 = 32
    expect(boxes[0]).toMatchObject({ x1: expect.closeTo(24, 3), y1: expect.closeTo(40, 3), x2: expect.closeTo(88, 3), y2: expect.closeTo(104, 3) });
    expect(boxes[0]!.score).toBeCloseTo(0.9);
  });
  it('fails clearly when a stride head is missing', () => {
    expect(() => decodeNanodet({ a: { dims: [1, 2704, 80], data: new Float32Array(2704 * 80) } }, ctx(nanodet))).toThrow(/stride-8 head/);
  });
});

describe('non-maximum suppression', () => {
  const box = (x: number, score: number) => ({ x1: x, y1: 0, x2: x + 10, y2: 20, score });
  it('keeps the best of overlapping boxes and separate people apart', () => {
    const kept = nonMaxSuppression([box(0, 0.6), box(1, 0.9), box(30, 0.5), box(31, 0.4)], 0.5, 10);
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.5]);
  });
  it('caps the number of detections', () => {
    expect(nonMaxSuppression([box(0, 0.9), box(50, 0.8), box(100, 0.7)], 0.5, 2)).toHaveLength(2);
  });
});
