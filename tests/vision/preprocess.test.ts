import { describe, expect, it } from 'vitest';
import { modelManifestSchema } from '../../src/vision/detector/modelManifest.js';
import { resizeForModel, toInputTensor } from '../../src/vision/detector/preprocess.js';

const manifest = (over: object) =>
  modelManifestSchema.parse({
    name: 'm', file: 'm.onnx', decoder: { type: 'yolox' },
    input: { name: 'x', width: 4, height: 2, layout: 'NCHW', colorOrder: 'RGB', resize: 'stretch', ...over },
  }).input;

describe('input tensor', () => {
  const pixels = new Uint8Array(4 * 2 * 3);
  for (let i = 0; i < 8; i++) pixels.set([10 + i, 100 + i, 200 + i], i * 3);

  it('writes planar BGR with per-channel mean and std', () => {
    const input = manifest({ colorOrder: 'BGR', mean: [1, 2, 3], std: [2, 4, 8] });
    const out = toInputTensor(pixels, input, new Float32Array(24));
    expect(out[0]).toBeCloseTo((200 - 1) / 2); // plane 0 = blue of pixel 0
    expect(out[8 + 1]).toBeCloseTo((101 - 2) / 4); // plane 1 = green of pixel 1
    expect(out[16 + 7]).toBeCloseTo((17 - 3) / 8); // plane 2 = red of pixel 7
  });
  it('writes interleaved RGB for NHWC models', () => {
    const out = toInputTensor(pixels, manifest({ layout: 'NHWC' }), new Float32Array(24));
    expect([...out.slice(3, 6)]).toEqual([11, 101, 201]);
  });
  it('refuses a buffer of the wrong size', () => {
    expect(() => toInputTensor(new Uint8Array(5), manifest({}), new Float32Array(24))).toThrow(/expected 24 bytes/);
  });
});

describe('resize', () => {
  const frame = { index: 0, width: 768, height: 576, data: new Uint8Array(768 * 576 * 3).fill(200), timestampMs: 0 };
  it('letterboxes to the top-left with the pad value and reports the scale back to source pixels', async () => {
    const input = modelManifestSchema.parse({
      name: 'm', file: 'm.onnx', decoder: { type: 'yolox' },
      input: { name: 'x', width: 416, height: 416, layout: 'NCHW', colorOrder: 'BGR', resize: 'letterbox', padValue: 114 },
    }).input;
    const { pixels, geometry } = await resizeForModel(frame, input);
    expect(pixels.length).toBe(416 * 416 * 3);
    expect(geometry.scaleX).toBeCloseTo(768 / 416);
    expect(pixels[(100 * 416 + 100) * 3]).toBe(200); // image area
    expect(pixels[(400 * 416 + 100) * 3]).toBe(114); // below 312 rows: padding
  });
  it('stretches with independent x and y scales', async () => {
    const input = { ...manifest({}), width: 416, height: 416 };
    const { geometry } = await resizeForModel(frame, input);
    expect(geometry).toEqual({ scaleX: 768 / 416, scaleY: 576 / 416 });
  });
});
