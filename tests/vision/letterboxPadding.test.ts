/**
 * The detector's preprocessing (scaleForModel + fillInputTensor: padding written into the tensor)
 * against the original path (resizeForModel with sharp's extend, then toInputTensor): the same
 * tensor, to the bit, for every shape of frame and model input.
 */
import { describe, expect, it } from 'vitest';
import type { RgbFrame } from '../../src/vision/detection.js';
import { modelManifestSchema } from '../../src/vision/detector/modelManifest.js';
import { fillInputTensor, resizeForModel, scaleForModel, toInputTensor, type ModelInput } from '../../src/vision/detector/preprocess.js';

const inputOf = (over: Partial<ModelInput>): ModelInput =>
  modelManifestSchema.parse({
    name: 'm', file: 'm.onnx', decoder: { type: 'yolox' },
    input: { name: 'x', width: 8, height: 8, layout: 'NCHW', colorOrder: 'BGR', mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395], resize: 'letterbox', padValue: 114, ...over },
  }).input;

/** A frame of deterministic, varied pixels (every byte value occurs, neighbours differ). */
function frameOf(width: number, height: number): RgbFrame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + ((i / 3) | 0) * 11) & 255;
  return { index: 0, width, height, data, timestampMs: 0 };
}

async function oldTensor(frame: RgbFrame, input: ModelInput): Promise<{ tensor: Float32Array; geometry: unknown }> {
  const { pixels, geometry } = await resizeForModel(frame, input);
  return { tensor: toInputTensor(pixels, input, new Float32Array(3 * input.width * input.height)), geometry };
}

async function newTensor(frame: RgbFrame, input: ModelInput, reused?: Float32Array): Promise<{ tensor: Float32Array; geometry: unknown; scaled: boolean }> {
  const { image, geometry } = await scaleForModel(frame, input);
  const out = reused ?? new Float32Array(3 * input.width * input.height);
  return { tensor: fillInputTensor(image, input, out), geometry, scaled: image.data !== frame.data };
}

const bits = (t: Float32Array): Uint32Array => new Uint32Array(t.buffer, t.byteOffset, t.length);

describe('padding inside the tensor pass', () => {
  const shapes: [string, number, number, boolean][] = [
    // [case, frame width, frame height, sharp still resizes]
    ['a frame at the model width, shorter than the input (what the gateway decodes)', 8, 5, false],
    ['a frame at the model height, narrower than the input (portrait camera)', 5, 8, false],
    ['a frame exactly at the input size', 8, 8, false],
    ['a larger landscape frame (resized by sharp, then padded below)', 16, 10, true],
    ['a larger portrait frame (resized by sharp, then padded on the right)', 12, 20, true],
    ['a smaller frame (scaled up by sharp)', 4, 3, true],
    ['an odd size', 13, 7, true],
  ];
  for (const layout of ['NCHW', 'NHWC'] as const) {
    for (const colorOrder of ['BGR', 'RGB'] as const) {
      const input = inputOf({ layout, colorOrder });
      for (const [name, w, h, resized] of shapes) {
        it(`${layout} ${colorOrder}: ${name} gives the tensor of the sharp-extend path`, async () => {
          const frame = frameOf(w, h);
          const before = await oldTensor(frame, input);
          const after = await newTensor(frame, input);
          expect(after.scaled).toBe(resized);
          expect(after.geometry).toEqual(before.geometry);
          expect(bits(after.tensor)).toEqual(bits(before.tensor));
        });
      }
    }
  }

  it('rewrites every value of a reused tensor, padding included', async () => {
    const input = inputOf({});
    const reused = new Float32Array(3 * 8 * 8).fill(Number.NaN);
    await newTensor(frameOf(8, 8), input, reused); // a full frame first: no padding
    const frame = frameOf(8, 3);
    const after = await newTensor(frame, input, reused);
    expect(bits(after.tensor)).toEqual(bits((await oldTensor(frame, input)).tensor));
  });

  it('uses the pad value normalised per model channel', () => {
    const input = inputOf({ colorOrder: 'BGR', mean: [1, 2, 3], std: [2, 4, 8], padValue: 100 });
    const image = { data: new Uint8Array(8 * 6 * 3).fill(50), width: 8, height: 6 };
    const out = fillInputTensor(image, input, new Float32Array(192));
    expect(out[0]).toBeCloseTo((50 - 1) / 2);
    expect(out[7 * 8]).toBeCloseTo((100 - 1) / 2); // row 7 of plane 0: padding
    expect(out[64 + 7 * 8]).toBeCloseTo((100 - 2) / 4);
    expect(out[128 + 6 * 8 + 3]).toBeCloseTo((100 - 3) / 8);
  });

  it('leaves a stretch model frame at its input size untouched and stretches any other', async () => {
    const input = inputOf({ resize: 'stretch' });
    const same = frameOf(8, 8);
    expect((await scaleForModel(same, input)).image.data).toBe(same.data);
    const { image, geometry } = await scaleForModel(frameOf(16, 12), input);
    expect([image.width, image.height]).toEqual([8, 8]);
    expect(geometry).toEqual({ scaleX: 2, scaleY: 1.5 });
  });

  it('refuses images that do not fit or do not match their size', () => {
    const input = inputOf({});
    expect(() => fillInputTensor({ data: new Uint8Array(9 * 3 * 3), width: 9, height: 3 }, input, new Float32Array(192))).toThrow(/does not fit/);
    expect(() => fillInputTensor({ data: new Uint8Array(5), width: 8, height: 3 }, input, new Float32Array(192))).toThrow(/expected 72 bytes/);
    expect(() => fillInputTensor({ data: new Uint8Array(72), width: 8, height: 3 }, input, new Float32Array(10))).toThrow(/tensor of 192/);
  });
});
