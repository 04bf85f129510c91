/**
 * Activation ranges for static quantisation: the float graph runs on onnxruntime over calibration
 * inputs with the tensors to quantise added as extra outputs, and each tensor's min and max are
 * kept, rounded outward (roundRangeEnd) so that float noise between CPUs and onnxruntime
 * builds cannot change the quantised model's bytes.
 */
import * as ort from 'onnxruntime-node';
import type { OnnxGraph, OnnxModel } from './onnxGraph.js';
import { serializeModel } from './onnxProto.js';
import { roundRangeEnd, type TensorRange } from './quantize.js';

export interface CalibrationFeed {
  inputName: string;
  dims: number[];
  /** One preprocessed input tensor per calibration frame. */
  samples: Float32Array[];
}

/** Raw (unrounded) min/max per tensor over all samples. */
export async function observeRanges(graph: OnnxGraph, tensors: string[], feed: CalibrationFeed, opsetVersion = 17): Promise<Map<string, TensorRange>> {
  // The graph input is read straight from the feed; every other tensor becomes an extra output.
  const fetched = tensors.filter((t) => !graph.inputs.some((i) => i.name === t));
  const probe: OnnxGraph = {
    ...graph,
    outputs: [
      ...graph.outputs,
      ...fetched.filter((t) => !graph.outputs.some((o) => o.name === t)).map((name) => ({ name, dataType: 'float32' as const, shape: undefined })),
    ],
  };
  const model: OnnxModel = { irVersion: 8, opsetVersion, producerName: 'storepulse-calibration', producerVersion: '1', docString: '', metadata: {}, graph: probe };
  // One thread and no fusions: the plainest float kernels, the least run-to-run variation.
  const session = await ort.InferenceSession.create(serializeModel(model), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'disabled',
  });
  const ranges = new Map<string, TensorRange>(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
  try {
    for (const sample of feed.samples) {
      const results = await session.run({ [feed.inputName]: new ort.Tensor('float32', sample, feed.dims) }, fetched);
      for (const t of tensors) {
        const data = (t === feed.inputName ? sample : results[t]?.data) as Float32Array | undefined;
        if (!data) throw new Error(`calibration: no value for tensor "${t}"`);
        const r = ranges.get(t) as TensorRange;
        let { min, max } = r;
        for (let i = 0; i < data.length; i++) {
          const v = data[i] as number;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        r.min = min;
        r.max = max;
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}

/**
 * Calibrated ranges ready for quantizeGraph: observed min/max rounded outward to 4 significant
 * bits, reconciled with `committed` ranges (those of the shipped model, see roundRangeEnd).
 */
export async function calibrateRanges(
  graph: OnnxGraph,
  tensors: string[],
  feed: CalibrationFeed,
  committed?: ReadonlyMap<string, TensorRange>,
): Promise<Map<string, TensorRange>> {
  const observed = await observeRanges(graph, tensors, feed);
  return new Map(
    [...observed].map(([t, r]) => [t, { min: roundRangeEnd(r.min, committed?.get(t)?.min), max: roundRangeEnd(r.max, committed?.get(t)?.max) }]),
  );
}
