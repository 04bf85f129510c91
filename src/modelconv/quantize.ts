/**
 * Static int8 quantisation of a converted graph in QDQ form: QuantizeLinear → DequantizeLinear
 * pairs on activations, int8 weights and int32 biases behind DequantizeLinear. The float graph is
 * kept as is around them, so the file still runs anywhere; onnxruntime's graph optimiser turns
 * each DQ → Conv → Q into a QLinearConv (and DQ → LeakyRelu/Add/Concat → Q into their QLinear
 * kernels) when it loads the model.
 *
 * Everything here is plain arithmetic on float64 and float32 values, so the same ranges always give
 * the same bytes. The ranges themselves come from calibration (calibrate.ts), rounded outward to
 * 4 significant bits (roundRangeEnd) before they are used here.
 */
import type { OnnxGraph, OnnxNode, OnnxTensor } from './onnxGraph.js';
import { consumersOf, isGraphOutput, producersOf, removeDeadCode, replaceUses } from './onnxGraph.js';

export type ActivationType = 'uint8' | 'int8';

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

export interface TensorRange {
  min: number;
  max: number;
}

export interface QuantizeOptions {
  /**
   * Activation integer type. uint8 with int8 weights (u8s8) is onnxruntime's fast x86 path: with
   * int8 activations onnxruntime 1.30 fused only 12 of NanoDet's 34 Conv and ran 2.4× slower.
   */
  activationType?: ActivationType;
  /**
   * Weights in [-63, 63] instead of [-127, 127]. x86 CPUs without VNNI may multiply u8×s8 pairs
   * with saturating 16-bit sums (AVX2 vpmaddubsw), which 7-bit weights cannot overflow. Off for
   * the shipped model: this machine has VNNI, and the 7-bit variant was not measured on one without.
   */
  reduceWeightRange?: boolean;
  /** Conv nodes (by name) left in float, e.g. a detection head that quantisation hurts. */
  floatNodes?: ReadonlySet<string>;
}

export interface QuantizeReport {
  quantizedConvs: number;
  floatConvs: number;
  quantizedTensors: number;
}

/**
 * Ops whose activation inputs and outputs get Q/DQ pairs. onnxruntime 1.30 runs Conv, LeakyRelu,
 * Concat and Add as QLinear kernels and MaxPool on uint8; Resize (linear) stays float between its
 * DQ and Q, which still keeps the integer kernels on both sides of it.
 */
const QUANTIZABLE = new Set(['Conv', 'LeakyRelu', 'Relu', 'MaxPool', 'Concat', 'Add', 'Resize']);
/**
 * Ops whose outputs stay within their input's range (a max, an interpolation): the output reuses
 * the input's scale and zero point, so no extra rounding is added and onnxruntime can drop the
 * Q/DQ around them (it does for MaxPool) instead of requantising.
 */
const SAME_PARAMS_AS_INPUT = new Set(['MaxPool', 'Resize']);

/** Round half to even, like ONNX QuantizeLinear. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; step back to the even neighbour on exact ties.
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Binary exponent e with 2^e ≤ |v| < 2^(e+1), read from the float64 bits (no log rounding). */
function binaryExponent(v: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(v));
  const biased = (view.getUint16(0) >>> 4) & 0x7ff;
  if (biased === 0) return -1023; // subnormal: far below any activation range that matters
  return biased - 1023;
}

/**
 * Widens a range end away from zero to the next value with `bits` significant bits. Calibration
 * runs float kernels whose last bits differ between CPUs (SIMD width, summation order); rounding
 * to a coarse grid makes every machine land on the same value unless a range end sits within
 * ~1e-6 of a grid point. 4 bits widen a range by under 1/8, i.e. cost < 0.2 bit of resolution.
 */
export function roundRangeOutward(v: number, bits = 4): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const step = 2 ** (binaryExponent(v) - (bits - 1));
  return Math.sign(v) * Math.ceil(Math.abs(v) / step) * step;
}

/**
 * Rounds one calibrated range end, keeping `committed` (the value the shipped model was built with)
 * when the fresh observation sits so close to a grid point that float noise decides which side it
 * falls on. Rounding alone leaves that risk: any rounding has its steps somewhere, and one of the
 * shipped model's 168 range ends lies 5e-6 (relative) from one. Within `tolerance` of a grid point
 * either neighbour is an honest result, so the committed one wins and the bytes do not move; a
 * real change of the data (a range that moves by more than that) still changes the model.
 */
export function roundRangeEnd(observed: number, committed?: number, tolerance = 1e-4): number {
  const fresh = roundRangeOutward(observed);
  if (committed === undefined || committed === fresh) return fresh;
  const neighbours = [roundRangeOutward(observed * (1 - tolerance)), roundRangeOutward(observed * (1 + tolerance))];
  return neighbours.includes(committed) ? committed : fresh;
}

/** Asymmetric activation parameters for [min, max]; the range is widened to contain 0 (padding is exact). */
export function activationParams(range: TensorRange, type: ActivationType = 'uint8'): QuantParams {
  const lo = Math.min(0, range.min);
  const hi = Math.max(0, range.max);
  const [qmin, qmax] = type === 'uint8' ? [0, 255] : [-128, 127];
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / (qmax - qmin));
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - lo / scale)));
  return { scale, zeroPoint };
}

/** Float value → integer the way QuantizeLinear computes it (saturating). */
export function quantizeValue(x: number, p: QuantParams, type: ActivationType = 'uint8'): number {
  const [qmin, qmax] = type === 'uint8' ? [0, 255] : [-128, 127];
  return Math.min(qmax, Math.max(qmin, roundHalfEven(x / p.scale) + p.zeroPoint));
}

/**
 * Symmetric per-output-channel int8 weights: channel c is scaled by max|w_c| / qmax so that its
 * largest weight maps to ±qmax and zero stays exact (zero point 0, which the int8 GEMMs require).
 */
export function quantizeWeightsPerChannel(
  data: Float32Array,
  dims: number[],
  reduceRange = false,
): { values: Int8Array; scales: Float32Array } {
  const channels = dims[0] as number;
  const per = data.length / channels;
  const qmax = reduceRange ? 63 : 127;
  const values = new Int8Array(data.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let absMax = 0;
    for (let i = c * per; i < (c + 1) * per; i++) absMax = Math.max(absMax, Math.abs(data[i] as number));
    const scale = absMax > 0 ? Math.fround(absMax / qmax) : 1;
    scales[c] = scale;
    for (let i = c * per; i < (c + 1) * per; i++) {
      values[i] = Math.min(qmax, Math.max(-qmax, roundHalfEven((data[i] as number) / scale)));
    }
  }
  return { values, scales };
}

/** Bias in the accumulator's units: scale_c = input scale × weight scale_c, zero point 0. */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): { values: Int32Array; scales: Float32Array } {
  const values = new Int32Array(bias.length);
  const scales = new Float32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const scale = Math.fround(Math.fround(inputScale) * (weightScales[c] as number));
    scales[c] = scale;
    const q = scale > 0 ? roundHalfEven((bias[c] as number) / scale) : 0;
    values[c] = Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), q));
  }
  return { values, scales };
}

const scalar = (name: string, dataType: 'float32' | 'uint8' | 'int8', value: number): OnnxTensor => ({
  name,
  dataType,
  dims: [],
  data: dataType === 'float32' ? Float32Array.of(value) : dataType === 'uint8' ? Uint8Array.of(value) : Int8Array.of(value),
});

/**
 * The activation tensors that get a Q/DQ pair: every float input and output of a quantisable node
 * (Conv only when not listed in floatNodes), except graph outputs, in graph order.
 */
export function tensorsToQuantize(graph: OnnxGraph, floatNodes: ReadonlySet<string> = new Set()): string[] {
  const seen = new Set<string>();
  const order: string[] = [];
  const add = (t: string | undefined): void => {
    if (!t || seen.has(t) || graph.initializers.has(t) || isGraphOutput(graph, t)) return;
    seen.add(t);
    order.push(t);
  };
  // Shape arithmetic (Shape → Concat of sizes for Resize) is integer: never quantised.
  const integer = new Set<string>();
  for (const [name, t] of graph.initializers) if (t.dataType !== 'float32' && t.dataType !== 'float16') integer.add(name);
  for (const n of graph.nodes) {
    // Resize's integer sizes input does not make its output integer: only its data input counts.
    const typed = n.opType === 'Resize' ? n.inputs.slice(0, 1) : n.inputs;
    if (n.opType === 'Shape' || typed.some((i) => integer.has(i))) for (const o of n.outputs) integer.add(o);
  }
  for (const n of graph.nodes) {
    if (!QUANTIZABLE.has(n.opType) || floatNodes.has(n.name) || integer.has(n.outputs[0] as string)) continue;
    // Resize's 2nd–4th inputs are roi/scales/sizes, not activations.
    add(n.inputs[0]);
    if (n.opType === 'Concat' || n.opType === 'Add') for (const i of n.inputs.slice(1)) add(i);
    add(n.outputs[0]);
  }
  // Graph inputs first, then in the order producers appear, so names and bytes never depend on Set order.
  const position = new Map<string, number>();
  graph.inputs.forEach((input, i) => position.set(input.name, -1 - i));
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => position.set(o, i)));
  return order.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Pad(-inf) → MaxPool becomes one MaxPool with pads: MaxPool's own padding never wins a max, which
 * is exactly what -inf padding does. A -inf fill has no int8 value, so the quantised graph needs
 * this; the float model keeps its original form.
 */
export function foldNegInfPadIntoMaxPool(graph: OnnxGraph): boolean {
  const consumers = consumersOf(graph);
  let changed = false;
  for (const pad of graph.nodes) {
    if (pad.opType !== 'Pad') continue;
    const readers = consumers.get(pad.outputs[0] as string) ?? [];
    const pool = readers[0];
    if (readers.length !== 1 || pool?.opType !== 'MaxPool') continue;
    const fill = pad.inputs[2] ? graph.initializers.get(pad.inputs[2]) : undefined;
    if (!fill || Number(fill.data[0]) !== -Infinity) continue;
    const pads = graph.initializers.get(pad.inputs[1] as string);
    if (!pads || pads.data.length !== 8) continue;
    const p = [...pads.data].map(Number);
    if (p[0] || p[1] || p[4] || p[5]) continue;
    const autoPad = pool.attributes.auto_pad;
    if (autoPad && !(autoPad.kind === 'string' && (autoPad.value === 'VALID' || autoPad.value === 'NOTSET'))) continue;
    const existing = pool.attributes.pads;
    if (existing?.kind === 'ints' && existing.value.some((v) => v !== 0)) continue;
    delete pool.attributes.auto_pad;
    pool.attributes.pads = { kind: 'ints', value: [p[2] ?? 0, p[3] ?? 0, p[6] ?? 0, p[7] ?? 0] };
    pool.inputs[0] = pad.inputs[0] as string;
    changed = true;
  }
  if (changed) removeDeadCode(graph);
  return changed;
}

/**
 * Rewrites `graph` in place into QDQ form with the given activation ranges (one per tensor that
 * tensorsToQuantize lists). Conv weights become per-channel int8, biases int32.
 */
export function quantizeGraph(graph: OnnxGraph, ranges: ReadonlyMap<string, TensorRange>, options: QuantizeOptions = {}): QuantizeReport {
  const type = options.activationType ?? 'uint8';
  const floatNodes = options.floatNodes ?? new Set<string>();
  const tensors = tensorsToQuantize(graph, floatNodes);
  const producers = producersOf(graph);

  // Parameters per tensor; pass-through ops inherit their input's so their Q/DQ can be dropped.
  const params = new Map<string, QuantParams>();
  for (const t of tensors) {
    const producer = producers.get(t);
    const inherited = producer && SAME_PARAMS_AS_INPUT.has(producer.opType) ? params.get(producer.inputs[0] as string) : undefined;
    if (inherited) {
      params.set(t, inherited);
      continue;
    }
    const range = ranges.get(t);
    if (!range) throw new Error(`no calibration range for tensor "${t}"`);
    params.set(t, activationParams(range, type));
  }

  // Q → DQ after each tensor's producer; every reader (float or quantised) reads the DQ output, so
  // the float graph computes exactly what the integer kernels will.
  const inserted = new Map<number, OnnxNode[]>(); // node index (-1: graph input) → pairs to put after it
  const nodeIndex = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => nodeIndex.set(o, i)));
  for (const t of tensors) {
    const p = params.get(t) as QuantParams;
    const scaleName = `${t}/quant_scale`;
    const zpName = `${t}/quant_zero_point`;
    graph.initializers.set(scaleName, scalar(scaleName, 'float32', p.scale));
    graph.initializers.set(zpName, scalar(zpName, type, p.zeroPoint));
    const dq = `${t}/dequantized`;
    // The pairs are not in graph.nodes yet, so this rewires only the original readers.
    replaceUses(graph, t, dq);
    const pair: OnnxNode[] = [
      { name: `${t}/QuantizeLinear`, opType: 'QuantizeLinear', inputs: [t, scaleName, zpName], outputs: [`${t}/quantized`], attributes: {} },
      { name: `${t}/DequantizeLinear`, opType: 'DequantizeLinear', inputs: [`${t}/quantized`, scaleName, zpName], outputs: [dq], attributes: {} },
    ];
    const at = nodeIndex.get(t) ?? -1;
    inserted.set(at, [...(inserted.get(at) ?? []), ...pair]);
  }

  let quantizedConvs = 0;
  let floatConvs = 0;
  const weightNodes = new Map<number, OnnxNode[]>();
  graph.nodes.forEach((conv, index) => {
    if (conv.opType !== 'Conv') return;
    if (floatNodes.has(conv.name)) {
      floatConvs++;
      return;
    }
    const input = conv.inputs[0] as string;
    const inputParams = params.get(input.replace(/\/dequantized$/, ''));
    const weights = graph.initializers.get(conv.inputs[1] as string);
    if (!inputParams || weights?.dataType !== 'float32') {
      floatConvs++;
      return;
    }
    const base = conv.name;
    const w = quantizeWeightsPerChannel(weights.data as Float32Array, weights.dims, options.reduceWeightRange);
    const channels = weights.dims[0] as number;
    const added: OnnxNode[] = [];
    const dequantize = (prefix: string, q: OnnxTensor, scales: Float32Array, zeroPoints: OnnxTensor): string => {
      graph.initializers.set(q.name, q);
      graph.initializers.set(`${prefix}/scale`, { name: `${prefix}/scale`, dataType: 'float32', dims: [channels], data: scales });
      graph.initializers.set(zeroPoints.name, zeroPoints);
      added.push({
        name: `${prefix}/DequantizeLinear`,
        opType: 'DequantizeLinear',
        inputs: [q.name, `${prefix}/scale`, zeroPoints.name],
        outputs: [`${prefix}/dequantized`],
        attributes: { axis: { kind: 'int', value: 0 } },
      });
      return `${prefix}/dequantized`;
    };
    conv.inputs[1] = dequantize(
      `${base}/weight`,
      { name: `${base}/weight/int8`, dataType: 'int8', dims: weights.dims, data: w.values },
      w.scales,
      { name: `${base}/weight/zero_point`, dataType: 'int8', dims: [channels], data: new Int8Array(channels) },
    );
    const bias = conv.inputs[2] ? graph.initializers.get(conv.inputs[2]) : undefined;
    if (bias?.dataType === 'float32') {
      const b = quantizeBias(bias.data as Float32Array, inputParams.scale, w.scales);
      conv.inputs[2] = dequantize(
        `${base}/bias`,
        { name: `${base}/bias/int32`, dataType: 'int32', dims: [channels], data: b.values },
        b.scales,
        { name: `${base}/bias/zero_point`, dataType: 'int32', dims: [channels], data: new Int32Array(channels) },
      );
    }
    weightNodes.set(index, added);
    quantizedConvs++;
  });

  // Rebuild the node list: weight DQs just before their Conv, activation pairs just after the producer.
  const nodes: OnnxNode[] = [...(inserted.get(-1) ?? [])];
  graph.nodes.forEach((n, i) => {
    nodes.push(...(weightNodes.get(i) ?? []), n, ...(inserted.get(i) ?? []));
  });
  graph.nodes = nodes;
  removeDeadCode(graph);
  return { quantizedConvs, floatConvs, quantizedTensors: tensors.length };
}
