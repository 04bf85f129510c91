import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { calibrateRanges } from '../../src/modelconv/calibrate.js';
import { defaultModelSource } from '../../src/modelconv/defaultModel.js';
import { buildInt8Model, INT8_MANIFEST_FILE, INT8_MODEL_FILE, INT8_MODEL_NAME, INT8_RANGES_FILE } from '../../src/modelconv/int8Model.js';
import { float, ints, int64Tensor, type OnnxGraph, type OnnxModel } from '../../src/modelconv/onnxGraph.js';
import { serializeModel } from '../../src/modelconv/onnxProto.js';
import {
  activationParams,
  foldNegInfPadIntoMaxPool,
  quantizeBias,
  quantizeGraph,
  quantizeValue,
  quantizeWeightsPerChannel,
  roundHalfEven,
  roundRangeEnd,
  roundRangeOutward,
  tensorsToQuantize,
} from '../../src/modelconv/quantize.js';
import { iou } from '../../src/vision/detection.js';
import { loadManifest } from '../../src/vision/detector/modelManifest.js';
import { PersonDetector } from '../../src/vision/detector/personDetector.js';
import { hasVtest, vtestFrames } from '../helpers/fixtures.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Reads a protobuf message's length-delimited fields (field number → byte ranges); enough to list an ONNX graph's op types. */
function lengthDelimited(buf: Uint8Array, start: number, end: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  let p = start;
  const varint = (): number => {
    let result = 0;
    for (let shift = 1; ; shift *= 128) {
      const b = buf[p++]!;
      result += (b & 0x7f) * shift;
      if (!(b & 0x80)) return result;
    }
  };
  while (p < end) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const len = varint();
      out.push([Math.floor(tag / 8), p, p + len]);
      p += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

/** Op types (with counts) of the graph onnxruntime actually runs after its optimiser (QDQ → QLinear fusions). */
async function optimizedOpCounts(bytes: Uint8Array): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qdq-'));
  const file = path.join(dir, 'optimized.onnx');
  // 'extended' runs the QDQ fusions but not the CPU-specific NCHWc layout rewrites.
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'extended', optimizedModelFilePath: file });
  await session.release();
  const buf = new Uint8Array(await readFile(file));
  await rm(dir, { recursive: true });
  const counts: Record<string, number> = {};
  for (const [field, s, e] of lengthDelimited(buf, 0, buf.length)) {
    if (field !== 7) continue; // ModelProto.graph
    for (const [nodeField, ns, ne] of lengthDelimited(buf, s, e)) {
      if (nodeField !== 1) continue; // GraphProto.node
      for (const [f, os, oe] of lengthDelimited(buf, ns, ne)) {
        if (f !== 4) continue; // NodeProto.op_type
        const op = new TextDecoder().decode(buf.subarray(os, oe));
        counts[op] = (counts[op] ?? 0) + 1;
      }
    }
  }
  return counts;
}

/** Deterministic pseudo-random floats in [-1, 1) (a 32-bit LCG), so the tests never depend on Math.random. */
function pseudoRandom(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const wrap = (graph: OnnxGraph): OnnxModel => ({
  irVersion: 8,
  opsetVersion: 17,
  producerName: 'test',
  producerVersion: '1',
  docString: '',
  metadata: {},
  graph,
});

/** input [1,3,12,12] → Conv 3×3 (8, bias) → LeakyRelu → Conv 1×1 (4, bias) → Identity → output y. */
function tinyConvGraph(): OnnxGraph {
  const w1 = pseudoRandom(8 * 3 * 3 * 3, 1).map((v) => v * 0.4);
  const w2 = pseudoRandom(4 * 8, 2).map((v) => v * 0.6);
  return {
    name: 'tiny',
    inputs: [{ name: 'x', dataType: 'float32', shape: [1, 3, 12, 12] }],
    outputs: [{ name: 'y', dataType: 'float32', shape: [1, 4, 12, 12] }],
    initializers: new Map([
      ['w1', { name: 'w1', dataType: 'float32', dims: [8, 3, 3, 3], data: w1 }],
      ['b1', { name: 'b1', dataType: 'float32', dims: [8], data: pseudoRandom(8, 3).map((v) => v * 0.2) }],
      ['w2', { name: 'w2', dataType: 'float32', dims: [4, 8, 1, 1], data: w2 }],
      ['b2', { name: 'b2', dataType: 'float32', dims: [4], data: pseudoRandom(4, 4).map((v) => v * 0.2) }],
    ]),
    nodes: [
      { name: 'conv1', opType: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attributes: { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) } },
      { name: 'act1', opType: 'LeakyRelu', inputs: ['c1'], outputs: ['a1'], attributes: { alpha: float(0.1) } },
      { name: 'conv2', opType: 'Conv', inputs: ['a1', 'w2', 'b2'], outputs: ['c2'], attributes: { kernel_shape: ints([1, 1]) } },
      { name: 'out', opType: 'Identity', inputs: ['c2'], outputs: ['y'], attributes: {} },
    ],
  };
}

const feedOf = (samples: Float32Array[]) => ({ inputName: 'x', dims: [1, 3, 12, 12], samples });

async function runGraph(bytes: Uint8Array, input: Float32Array, level: 'disabled' | 'all' = 'all'): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: level, intraOpNumThreads: 1 });
  const result = await session.run({ x: new ort.Tensor('float32', input, [1, 3, 12, 12]) });
  await session.release();
  return result.y!.data as Float32Array;
}

async function quantizedTinyBytes(samples: Float32Array[]): Promise<{ bytes: Uint8Array; outputScale: number }> {
  const graph = tinyConvGraph();
  const ranges = await calibrateRanges(graph, tensorsToQuantize(graph), feedOf(samples));
  quantizeGraph(graph, ranges);
  const c2 = ranges.get('c2')!;
  return { bytes: serializeModel(wrap(graph)), outputScale: activationParams(c2).scale };
}

describe('quantisation arithmetic', () => {
  it('rounds half to even like QuantizeLinear', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, 3, -3]);
  });

  it('widens range ends outward to 4 significant bits', () => {
    expect(roundRangeOutward(1)).toBe(1);
    expect(roundRangeOutward(1.03)).toBe(1.125); // grid 1/8 between 1 and 2
    expect(roundRangeOutward(100)).toBe(104); // grid 8 between 64 and 128
    expect(roundRangeOutward(-0.3)).toBe(-0.3125); // grid 1/32 between 0.25 and 0.5
    expect(roundRangeOutward(0)).toBe(0);
    // Float noise far below the grid step lands on the same value.
    expect(roundRangeOutward(6.2 * (1 + 1e-6))).toBe(roundRangeOutward(6.2 * (1 - 1e-6)));
  });

  it('keeps the committed range end only when the observation is within float noise of a grid point', () => {
    // 0.2187488 is 5e-6 below the grid point 0.21875: another CPU may observe 0.2187512 and round up.
    expect(roundRangeEnd(-0.2187488)).toBe(-0.21875);
    expect(roundRangeEnd(-0.2187512)).toBe(-0.234375);
    expect(roundRangeEnd(-0.2187512, -0.21875)).toBe(-0.21875);
    expect(roundRangeEnd(-0.2187488, -0.234375)).toBe(-0.234375);
    // Far from a grid point the fresh value wins: the data really changed.
    expect(roundRangeEnd(-0.2, -0.234375)).toBe(-0.203125);
    expect(roundRangeEnd(3.3, 4)).toBe(3.5);
    expect(roundRangeEnd(3.3, 3.5)).toBe(3.5);
  });

  it('computes uint8 and int8 scale and zero point', () => {
    expect(activationParams({ min: 0, max: 2.55 })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    // [-1, 3]: scale 4/255, zero at 1 / (4/255) = 63.75 → 64.
    expect(activationParams({ min: -1, max: 3 })).toEqual({ scale: Math.fround(4 / 255), zeroPoint: 64 });
    // A range that excludes 0 is widened to contain it (zero padding must be exact).
    expect(activationParams({ min: 1, max: 2.55 })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    // int8: -128 + 1 / fround(2/255) = -0.5000001 (the float32 scale is a hair above 2/255) → -1.
    expect(activationParams({ min: -1, max: 1 }, 'int8')).toEqual({ scale: Math.fround(2 / 255), zeroPoint: -1 });
    const p = activationParams({ min: -1, max: 3 });
    expect(quantizeValue(0, p)).toBe(64);
    expect(quantizeValue(3, p)).toBe(255);
    expect(quantizeValue(100, p)).toBe(255); // saturates
    expect(quantizeValue(-100, p)).toBe(0);
  });

  it('quantises weights per output channel, symmetric', () => {
    const { values, scales } = quantizeWeightsPerChannel(Float32Array.from([0.5, -1, 0.25, 2, 0, -2]), [2, 3]);
    expect([...scales]).toEqual([Math.fround(1 / 127), Math.fround(2 / 127)]);
    expect([...values]).toEqual([64, -127, 32, 127, 0, -127]);
    const reduced = quantizeWeightsPerChannel(Float32Array.from([1, -0.25]), [1, 2], true);
    expect([...reduced.values]).toEqual([63, -16]);
    // An all-zero channel keeps a usable scale.
    expect([...quantizeWeightsPerChannel(new Float32Array(2), [1, 2]).scales]).toEqual([1]);
  });

  it('quantises biases to int32 in accumulator units', () => {
    const { values, scales } = quantizeBias(Float32Array.from([0.1, -0.2]), 0.01, Float32Array.from([0.5, 0.25]));
    expect([...scales]).toEqual([Math.fround(Math.fround(0.01) * 0.5), Math.fround(Math.fround(0.01) * 0.25)]);
    expect([...values]).toEqual([20, -80]);
  });
});

describe('QDQ pass on a small graph', () => {
  const samples = [0, 1, 2, 3].map((i) => pseudoRandom(3 * 12 * 12, 100 + i).map((v) => v * 2));

  it('marks conv inputs and outputs and the activation, not the graph output', () => {
    expect(tensorsToQuantize(tinyConvGraph())).toEqual(['x', 'c1', 'a1', 'c2']);
    expect(tensorsToQuantize(tinyConvGraph(), new Set(['conv2']))).toEqual(['x', 'c1', 'a1']);
  });

  it('runs on onnxruntime within a few quantisation steps of the float graph', async () => {
    const { bytes, outputScale } = await quantizedTinyBytes(samples);
    const floatBytes = serializeModel(wrap(tinyConvGraph()));
    const test = pseudoRandom(3 * 12 * 12, 999).map((v) => v * 1.5);
    const reference = await runGraph(floatBytes, test);
    // Both the unfused QDQ graph and onnxruntime's integer kernels (QLinearConv …) must agree with float.
    for (const level of ['disabled', 'all'] as const) {
      const q = await runGraph(bytes, test, level);
      let maxDiff = 0;
      for (let i = 0; i < q.length; i++) maxDiff = Math.max(maxDiff, Math.abs(q[i]! - reference[i]!));
      expect(maxDiff).toBeGreaterThan(0); // it really is quantised
      expect(maxDiff).toBeLessThan(4 * outputScale);
    }
  });

  it('is fused by onnxruntime into integer convolutions', async () => {
    const { bytes } = await quantizedTinyBytes(samples);
    const ops = await optimizedOpCounts(bytes);
    expect(ops.QLinearConv).toBe(2);
    expect(ops.QLinearLeakyRelu).toBe(1);
    expect(ops.Conv).toBeUndefined();
  });

  it('writes int8 weights, int32 biases and uint8 activations', () => {
    const graph = tinyConvGraph();
    const ranges = new Map(tensorsToQuantize(graph).map((t) => [t, { min: -2, max: 2 }]));
    const report = quantizeGraph(graph, ranges);
    expect(report).toEqual({ quantizedConvs: 2, floatConvs: 0, quantizedTensors: 4 });
    expect(graph.initializers.get('conv1/weight/int8')?.dataType).toBe('int8');
    expect(graph.initializers.get('conv1/bias/int32')?.dataType).toBe('int32');
    expect(graph.initializers.get('x/quant_zero_point')?.dataType).toBe('uint8');
    expect(graph.initializers.has('w1')).toBe(false);
    const conv1 = graph.nodes.find((n) => n.name === 'conv1')!;
    expect(conv1.inputs).toEqual(['x/dequantized', 'conv1/weight/dequantized', 'conv1/bias/dequantized']);
    // Topological order: every node input is produced earlier, is an initializer or the graph input.
    const known = new Set(['x', ...graph.initializers.keys()]);
    for (const n of graph.nodes) {
      for (const i of n.inputs) expect(known.has(i), `${n.name} reads ${i} before it exists`).toBe(true);
      for (const o of n.outputs) known.add(o);
    }
  });

  it('is reproducible: the same bytes from separate calibrations, and from ranges off by float noise', async () => {
    const a = await quantizedTinyBytes(samples);
    const b = await quantizedTinyBytes(samples);
    expect(sha256(a.bytes)).toBe(sha256(b.bytes));
    // Ranges as another CPU might observe them (last bits differ) round to the same grid.
    const graph = tinyConvGraph();
    const tensors = tensorsToQuantize(graph);
    const observed = await calibrateRanges(tinyConvGraph(), tensors, feedOf(samples));
    const g1 = tinyConvGraph();
    quantizeGraph(g1, observed);
    const g2 = tinyConvGraph();
    quantizeGraph(g2, new Map([...observed].map(([t, r]) => [t, { min: roundRangeOutward(r.min * (1 - 1e-7)), max: roundRangeOutward(r.max * (1 - 1e-7)) }])));
    expect(sha256(serializeModel(wrap(g1)))).toBe(sha256(serializeModel(wrap(g2))));
  });

  it('folds a -inf Pad into MaxPool without changing the result', async () => {
    const build = (): OnnxGraph => ({
      name: 'pool',
      inputs: [{ name: 'x', dataType: 'float32', shape: [1, 3, 12, 12] }],
      outputs: [{ name: 'y', dataType: 'float32', shape: [1, 3, 6, 6] }],
      initializers: new Map([
        ['pads', int64Tensor('pads', [0, 0, 1, 1, 0, 0, 1, 1])],
        ['fill', { name: 'fill', dataType: 'float32', dims: [], data: Float32Array.of(-Infinity) }],
      ]),
      nodes: [
        { name: 'pad', opType: 'Pad', inputs: ['x', 'pads', 'fill'], outputs: ['p'], attributes: { mode: { kind: 'string', value: 'constant' } } },
        { name: 'pool', opType: 'MaxPool', inputs: ['p'], outputs: ['y'], attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), auto_pad: { kind: 'string', value: 'VALID' } } },
      ],
    });
    const folded = build();
    expect(foldNegInfPadIntoMaxPool(folded)).toBe(true);
    expect(folded.nodes.map((n) => n.opType)).toEqual(['MaxPool']);
    const input = pseudoRandom(3 * 12 * 12, 5).map((v) => v - 0.9); // mostly negative: a zero fill would show
    const run = async (g: OnnxGraph): Promise<number[]> => {
      const session = await ort.InferenceSession.create(serializeModel(wrap(g)));
      const r = await session.run({ x: new ort.Tensor('float32', input, [1, 3, 12, 12]) });
      await session.release();
      return [...(r.y!.data as Float32Array)];
    };
    expect(await run(folded)).toEqual(await run(build()));
  });
});

const source = defaultModelSource();

describe.skipIf(!source || !hasVtest)(`shipped ${INT8_MODEL_NAME}`, () => {
  it('is regenerated byte for byte by the build, with its manifest, sha256 and ranges committed', async () => {
    const fresh = await buildInt8Model({ sha256 });
    expect(sha256(fresh.bytes)).toBe(sha256(await readFile(INT8_MODEL_FILE)));
    expect(fresh.manifestJson).toBe(await readFile(INT8_MANIFEST_FILE, 'utf8'));
    expect(fresh.rangesJson).toBe(await readFile(INT8_RANGES_FILE, 'utf8'));
    const { manifest } = loadManifest(INT8_MANIFEST_FILE);
    expect(manifest.sha256).toBe(sha256(fresh.bytes));
    expect(manifest.provenance?.calibration).toMatch(/vtest\.avi/);
    expect(fresh.report).toEqual({ quantizedConvs: 34, floatConvs: 0, quantizedTensors: 84 });
  });

  it('runs as integer kernels in onnxruntime (no silent fallback to float convolutions)', async () => {
    const ops = await optimizedOpCounts(await readFile(INT8_MODEL_FILE));
    expect(ops.QLinearConv).toBe(34);
    expect(ops.QLinearLeakyRelu).toBe(28);
    expect(ops.Conv).toBeUndefined();
  });

  it('finds the same people as the float model on real frames', async () => {
    const frames = await vtestFrames([60, 400, 700]);
    const float32 = await PersonDetector.create({ threads: 2, warmupRuns: 0 });
    const int8 = await PersonDetector.create({ model: INT8_MODEL_NAME, threads: 2, warmupRuns: 0 });
    let confident = 0;
    for (const frame of frames) {
      const a = await float32.detect(frame);
      const b = await int8.detect(frame);
      // Every confident float detection has an int8 twin in the same place.
      for (const d of a.filter((x) => x.score > 0.6)) {
        confident++;
        expect(Math.max(0, ...b.map((e) => iou(d, e)))).toBeGreaterThan(0.7);
      }
    }
    expect(confident).toBeGreaterThan(5);
    await float32.close();
    await int8.close();
  });
});
