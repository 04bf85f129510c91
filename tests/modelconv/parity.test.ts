/**
 * The converted default model against the original TFJS model run by @tensorflow/tfjs (cpu
 * backend) on the same real frames: every output within 1e-3 absolute, and the same detections.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelSource } from '../../src/modelconv/defaultModel.js';
import { iou, type Detection } from '../../src/vision/detection.js';
import { decodeNanodet, type OutputTensor } from '../../src/vision/detector/decoders.js';
import { nonMaxSuppression } from '../../src/vision/detector/nms.js';
import { PersonDetector } from '../../src/vision/detector/personDetector.js';
import { hasVtest, vtestFrames } from '../helpers/fixtures.js';

const TOLERANCE = 1e-3;
const source = defaultModelSource();

async function loadTfjsModel(modelJson: string): Promise<tf.GraphModel> {
  const json = JSON.parse(await readFile(modelJson, 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    signature: object;
  };
  const group = json.weightsManifest[0]!;
  const shards = await Promise.all(group.paths.map((p) => readFile(path.join(path.dirname(modelJson), p))));
  const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
  return tf.loadGraphModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData, format: 'graph-model', signature: json.signature } as tf.io.ModelArtifacts),
  );
}

describe.skipIf(!source || !hasVtest)('default model parity: ONNX (onnxruntime-node) vs TFJS original', () => {
  let tfModel: tf.GraphModel;
  let detector: PersonDetector;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    tfModel = await loadTfjsModel(source!.modelJson);
    detector = await PersonDetector.create({ threads: 2 });
  });
  afterAll(async () => {
    tfModel?.dispose();
    await detector?.close();
  });

  it('matches every output within 1e-3 and finds the same people on real frames', async () => {
    const frames = await vtestFrames([0, 250, 520]);
    expect(frames).toHaveLength(3);
    const outputNames = ['Identity', 'Identity_1', 'Identity_2', 'Identity_3', 'Identity_4', 'Identity_5'];
    for (const frame of frames) {
      const geometry = await detector.prepare(frame);
      const { data, dims } = detector.inputTensor;
      const onnxOutputs = await detector.infer();

      const input = tf.tensor(data.slice(), dims);
      const tfResults = tfModel.execute({ input_1: input }, outputNames) as tf.Tensor[];
      const tfOutputs: Record<string, OutputTensor> = {};
      outputNames.forEach((name, k) => {
        const t = tfResults[k]!;
        tfOutputs[name] = { dims: t.shape, data: t.dataSync() as Float32Array };
      });
      tf.dispose([input, ...tfResults]);

      let maxDiff = 0;
      for (const name of outputNames) {
        const a = onnxOutputs[name]!;
        const b = tfOutputs[name]!;
        expect(a.dims).toEqual(b.dims);
        for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i]! - b.data[i]!));
      }
      expect(maxDiff).toBeLessThanOrEqual(TOLERANCE);

      const ctx = { manifest: detector.manifest, geometry, frameWidth: frame.width, frameHeight: frame.height };
      const decode = (outputs: Record<string, OutputTensor>): Detection[] =>
        nonMaxSuppression(decodeNanodet(outputs, ctx), detector.manifest.nmsIouThreshold, 300);
      const fromOnnx = decode(onnxOutputs);
      const fromTfjs = decode(tfOutputs);
      expect(fromOnnx.length).toBeGreaterThan(2); // vtest frames show several pedestrians
      expect(fromOnnx.length).toBe(fromTfjs.length);
      for (const d of fromOnnx) {
        const best = Math.max(...fromTfjs.map((t) => iou(d, t)));
        expect(best).toBeGreaterThan(0.99);
      }
      console.log(`frame ${frame.index}: max |onnx - tfjs| = ${maxDiff.toExponential(2)}, ${fromOnnx.length} people`);
    }
  });
});
