import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { convertTfjsModel } from '../../src/modelconv/convert.js';
import { buildDefaultModel, DEFAULT_MODEL_FILE, defaultModelSource } from '../../src/modelconv/defaultModel.js';
import { composePermutations, float32ToFloat16Bits, invertPermutation, transposeData } from '../../src/modelconv/tensorMath.js';
import { float16ToFloat32 } from '../../src/modelconv/tfjsGraph.js';
import { loadManifest } from '../../src/vision/detector/modelManifest.js';
import { PersonDetector } from '../../src/vision/detector/personDetector.js';
import { hasVtest, vtestFrames } from '../helpers/fixtures.js';

const source = defaultModelSource();
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('tensor helpers', () => {
  it('transposes like ONNX Transpose', () => {
    // 2x3 → 3x2
    const t = transposeData(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]);
    expect([...t]).toEqual([1, 4, 2, 5, 3, 6]);
    // HWIO (1x1x2x3) → OIHW (3x2x1x1): output o, input i reads filter[0][0][i][o]
    const w = transposeData(Float32Array.from([1, 2, 3, 4, 5, 6]), [1, 1, 2, 3], [3, 2, 0, 1]);
    expect([...w]).toEqual([1, 4, 2, 5, 3, 6]);
  });
  it('composes and inverts permutations', () => {
    const nhwcToNchw = [0, 3, 1, 2];
    expect(invertPermutation(nhwcToNchw)).toEqual([0, 2, 3, 1]);
    expect(composePermutations(nhwcToNchw, [0, 2, 3, 1])).toEqual([0, 1, 2, 3]);
  });
  it('round-trips half-precision values exactly', () => {
    for (const v of [0, 1, -2.5, 0.0999755859375, 65504, 6.103515625e-5, -3.0517578125e-5]) {
      expect(float16ToFloat32(float32ToFloat16Bits(v))).toBe(v);
    }
  });
});

describe.skipIf(!source)('default model build', () => {
  it('regenerates models/nanodet-m-416.onnx byte for byte, with the sha256 its manifest records', async () => {
    const fresh = await buildDefaultModel();
    const committed = await readFile(DEFAULT_MODEL_FILE);
    const manifest = loadManifest(DEFAULT_MODEL_FILE.replace(/\.onnx$/, '.json')).manifest;
    expect(sha256(fresh.bytes)).toBe(sha256(committed));
    expect(manifest.sha256).toBe(sha256(committed));
  });

  it('leaves only the layout shuffles the model really has after the passes', async () => {
    const raw = await convertTfjsModel(source!.modelJson, { graphName: 'g', optimize: false });
    const optimised = await convertTfjsModel(source!.modelJson, { graphName: 'g' });
    expect(raw.opCounts.Transpose).toBeGreaterThan(100);
    // The 6 remaining transposes are the model's own [1,C,N] → [1,N,C] output permutes.
    expect(optimised.opCounts.Transpose).toBe(6);
    expect(optimised.opCounts.Pad).toBe(1); // the max-pool's padding (non-zero fill) cannot fold into a Conv
    expect(optimised.opCounts.Add).toBe(4); // FPN additions only: every bias went into its Conv
    expect(optimised.nodeCount).toBeLessThan(raw.nodeCount / 2);
  });

  it.skipIf(!hasVtest)('computes the same outputs with and without the passes on a real frame', async () => {
    const [frame] = await vtestFrames([100]);
    const detector = await PersonDetector.create({ warmupRuns: 0 });
    await detector.prepare(frame!);
    const input = detector.inputTensor;
    await detector.close();
    const run = async (bytes: Uint8Array): Promise<Record<string, Float32Array>> => {
      const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
      const result = await session.run({ input_1: new ort.Tensor('float32', input.data, input.dims) });
      await session.release();
      return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.data as Float32Array]));
    };
    const a = await run((await convertTfjsModel(source!.modelJson, { graphName: 'g', optimize: false, float16Weights: false })).bytes);
    const b = await run((await convertTfjsModel(source!.modelJson, { graphName: 'g' })).bytes);
    let maxDiff = 0;
    for (const name of Object.keys(a)) {
      for (let i = 0; i < a[name]!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[name]![i]! - b[name]![i]!));
    }
    expect(Object.keys(a)).toHaveLength(6);
    expect(maxDiff).toBeLessThan(1e-4);
  });
});

describe('converter errors', () => {
  it('names the op it cannot convert', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tfjs-'));
    const modelJson = path.join(dir, 'model.json');
    await writeFile(path.join(dir, 'w.bin'), Buffer.alloc(0));
    await writeFile(
      modelJson,
      JSON.stringify({
        format: 'graph-model',
        modelTopology: {
          node: [
            { name: 'x', op: 'Placeholder', attr: {} },
            { name: 'y', op: 'Erf', input: ['x'], attr: {} },
          ],
        },
        weightsManifest: [{ paths: ['w.bin'], weights: [] }],
        signature: { inputs: { 'x:0': { name: 'x:0' } }, outputs: { 'y:0': { name: 'y:0' } } },
      }),
    );
    await expect(convertTfjsModel(modelJson, { graphName: 'g' })).rejects.toThrow(/cannot convert Erf node "y"/);
  });
});
