/**
 * Converts a TensorFlow.js graph model to an ONNX graph.
 *
 * TF convolutions, pools and resizes are NHWC while ONNX's are NCHW, so each such op is emitted
 * between a Transpose into NCHW and one back. The passes in `graphPasses.ts` then cancel the
 * transposes that meet and fold biases and paddings into the convolutions, leaving a graph that
 * onnxruntime runs without layout shuffles.
 */
import type { OnnxAttribute, OnnxGraph, OnnxTensor } from './onnxGraph.js';
import { float, int, int64Tensor, ints, str } from './onnxGraph.js';
import type { TfConstant, TfGraph, TfNode } from './tfjsGraph.js';
import { transposeData } from './tensorMath.js';

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

export class UnsupportedOpError extends Error {
  constructor(node: TfNode, detail = '') {
    super(`cannot convert ${node.op} node "${node.name}"${detail ? `: ${detail}` : ''}`);
  }
}

/** Evaluates nodes whose inputs are all constants, for the few ops that build shapes at run time in TF graphs. */
function foldConstants(graph: TfGraph): Map<string, TfConstant> {
  const constants = new Map(graph.constants);
  const product = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((i) => constants.get(i));
    if (node.op === 'Const' || inputs.length === 0 || inputs.some((c) => c === undefined)) continue;
    const args = inputs as TfConstant[];
    switch (node.op) {
      case 'Identity':
        constants.set(node.name, args[0] as TfConstant);
        break;
      case 'SparseToDense': {
        const [indices, outputShape, values, defaultValue] = args as [TfConstant, TfConstant, TfConstant, TfConstant];
        const shape = [...outputShape.data].map(Number);
        const DataType = defaultValue.dtype === 'int32' ? Int32Array : Float32Array;
        const data = new DataType(product(shape)).fill(Number(defaultValue.data[0]));
        // Only 1-D outputs occur in practice; indices are then a column of positions.
        if (shape.length !== 1 && indices.data.length > 0) throw new UnsupportedOpError(node, 'only 1-D SparseToDense');
        indices.data.forEach((pos, k) => (data[Number(pos)] = Number(values.data[values.data.length === 1 ? 0 : k])));
        constants.set(node.name, { dtype: defaultValue.dtype, shape, data, fromFloat16: false });
        break;
      }
      case 'Add':
      case 'AddV2': {
        const [a, b] = args as [TfConstant, TfConstant];
        const longer = a.data.length >= b.data.length ? a : b;
        const at = (c: TfConstant, i: number): number => Number(c.data[c.data.length === 1 ? 0 : i]);
        if (a.data.length !== b.data.length && Math.min(a.data.length, b.data.length) !== 1) continue;
        const sums = Array.from({ length: longer.data.length }, (_, i) => at(a, i) + at(b, i));
        const data = a.dtype === 'int32' ? Int32Array.from(sums) : Float32Array.from(sums);
        constants.set(node.name, { dtype: a.dtype, shape: longer.shape, data, fromFloat16: false });
        break;
      }
      default:
        break;
    }
  }
  return constants;
}

interface Emitter {
  graph: OnnxGraph;
  constants: Map<string, TfConstant>;
  node(opType: string, inputs: string[], outputs: string[], attributes?: Record<string, OnnxAttribute>): void;
  /** Registers a constant as an initializer (once) and returns its name. */
  initializer(name: string, build: () => OnnxTensor): string;
  constant(node: TfNode, inputIndex: number): TfConstant;
  fresh(base: string): string;
}

function createEmitter(graph: OnnxGraph, constants: Map<string, TfConstant>): Emitter {
  let counter = 0;
  return {
    graph,
    constants,
    node(opType, inputs, outputs, attributes = {}) {
      graph.nodes.push({ name: `${outputs[0]}/${opType}`, opType, inputs, outputs, attributes });
    },
    initializer(name, build) {
      if (!graph.initializers.has(name)) graph.initializers.set(name, { ...build(), name });
      return name;
    },
    constant(node, inputIndex) {
      const ref = node.inputs[inputIndex];
      const c = ref === undefined ? undefined : constants.get(ref);
      if (!c) throw new UnsupportedOpError(node, `input ${inputIndex} must be a constant`);
      return c;
    },
    fresh(base) {
      counter += 1;
      return `${base}/${counter}`;
    },
  };
}

/** Emits a data input: constants become initializers, everything else is referenced by name. */
function dataInput(e: Emitter, ref: string): string {
  const c = e.constants.get(ref);
  if (!c) return ref;
  return e.initializer(ref, () => ({
    name: ref,
    dataType: c.dtype,
    dims: c.shape,
    data: c.data,
  }));
}

function intList(node: TfNode, attr: string): number[] {
  const a = node.attrs[attr];
  if (a?.kind !== 'ints') throw new UnsupportedOpError(node, `missing list attribute ${attr}`);
  return a.value;
}

function stringAttr(node: TfNode, attr: string, fallback?: string): string {
  const a = node.attrs[attr];
  if (a?.kind === 'string') return a.value;
  if (fallback !== undefined) return fallback;
  throw new UnsupportedOpError(node, `missing attribute ${attr}`);
}

function boolAttr(node: TfNode, attr: string): boolean {
  const a = node.attrs[attr];
  return a?.kind === 'bool' ? a.value : false;
}

function requireNhwc(node: TfNode): void {
  const format = stringAttr(node, 'data_format', 'NHWC');
  if (format !== 'NHWC') throw new UnsupportedOpError(node, `data_format ${format}`);
}

/** TF padding → ONNX Conv/Pool padding attributes. */
function paddingAttributes(node: TfNode): Record<string, OnnxAttribute> {
  const padding = stringAttr(node, 'padding');
  if (padding === 'VALID') return { auto_pad: str('VALID') };
  // TF SAME puts the odd pixel at the bottom/right, as ONNX SAME_UPPER does.
  if (padding === 'SAME') return { auto_pad: str('SAME_UPPER') };
  if (padding === 'EXPLICIT') {
    const p = intList(node, 'explicit_paddings'); // NHWC pairs: [n0,n1,h0,h1,w0,w1,c0,c1]
    return { pads: ints([p[2] ?? 0, p[4] ?? 0, p[3] ?? 0, p[5] ?? 0]) };
  }
  throw new UnsupportedOpError(node, `padding ${padding}`);
}

/** Wraps an NCHW op: transpose the NHWC input in, run, transpose the result back to NHWC. */
function emitInNchw(e: Emitter, node: TfNode, emit: (nchwInput: string, nchwOutput: string) => void): void {
  const input = node.inputs[0];
  if (input === undefined) throw new UnsupportedOpError(node, 'no input');
  const nchwIn = e.fresh(`${node.name}/nchw_in`);
  const nchwOut = e.fresh(`${node.name}/nchw_out`);
  e.node('Transpose', [dataInput(e, input)], [nchwIn], { perm: ints(NHWC_TO_NCHW) });
  emit(nchwIn, nchwOut);
  e.node('Transpose', [nchwOut], [node.name], { perm: ints(NCHW_TO_NHWC) });
}

function emitConv2D(e: Emitter, node: TfNode): void {
  requireNhwc(node);
  const filter = e.constant(node, 1); // HWIO
  const strides = intList(node, 'strides');
  const dilations = node.attrs.dilations?.kind === 'ints' ? node.attrs.dilations.value : [1, 1, 1, 1];
  const weights = e.initializer(`${node.inputs[1]}/oihw`, () => ({
    name: '',
    dataType: 'float32',
    dims: [filter.shape[3], filter.shape[2], filter.shape[0], filter.shape[1]] as number[],
    data: transposeData(filter.data as Float32Array, filter.shape, [3, 2, 0, 1]),
  }));
  emitInNchw(e, node, (x, y) =>
    e.node('Conv', [x, weights], [y], {
      kernel_shape: ints([filter.shape[0] as number, filter.shape[1] as number]),
      strides: ints([strides[1] ?? 1, strides[2] ?? 1]),
      dilations: ints([dilations[1] ?? 1, dilations[2] ?? 1]),
      ...paddingAttributes(node),
    }),
  );
}

function emitMaxPool(e: Emitter, node: TfNode): void {
  requireNhwc(node);
  const k = intList(node, 'ksize');
  const s = intList(node, 'strides');
  emitInNchw(e, node, (x, y) =>
    e.node('MaxPool', [x], [y], {
      kernel_shape: ints([k[1] ?? 1, k[2] ?? 1]),
      strides: ints([s[1] ?? 1, s[2] ?? 1]),
      ...paddingAttributes(node),
    }),
  );
}

function emitResizeBilinear(e: Emitter, node: TfNode): void {
  const size = [...e.constant(node, 1).data].map(Number);
  const mode = boolAttr(node, 'align_corners')
    ? 'align_corners'
    : boolAttr(node, 'half_pixel_centers')
      ? 'half_pixel'
      : 'asymmetric';
  emitInNchw(e, node, (x, y) => {
    // sizes must cover every axis: batch and channels are read from the input at run time
    // (onnxruntime folds this to a constant when shapes are static).
    const batchChannels = e.fresh(`${node.name}/nc`);
    const sizes = e.fresh(`${node.name}/sizes`);
    e.node('Shape', [x], [batchChannels], { end: int(2) });
    e.node('Concat', [batchChannels, e.initializer(`${node.name}/hw`, () => int64Tensor('', size))], [sizes], {
      axis: int(0),
    });
    e.node('Resize', [x, '', '', sizes], [y], { mode: str('linear'), coordinate_transformation_mode: str(mode) });
  });
}

function emitPad(e: Emitter, node: TfNode): void {
  const paddings = [...e.constant(node, 1).data].map(Number); // [rank, 2] begin/end pairs
  const rank = paddings.length / 2;
  const begins = Array.from({ length: rank }, (_, i) => paddings[2 * i] ?? 0);
  const ends = Array.from({ length: rank }, (_, i) => paddings[2 * i + 1] ?? 0);
  const pads = e.initializer(`${node.name}/pads`, () => int64Tensor('', [...begins, ...ends]));
  const inputs = [dataInput(e, node.inputs[0] as string), pads];
  if (node.op === 'PadV2') inputs.push(dataInput(e, node.inputs[2] as string));
  e.node('Pad', inputs, [node.name], { mode: str('constant') });
}

function emitNode(e: Emitter, node: TfNode): void {
  const input = (i: number): string => dataInput(e, node.inputs[i] as string);
  switch (node.op) {
    case 'Const':
    case 'Placeholder':
      return;
    case 'Identity':
      e.node('Identity', [input(0)], [node.name]);
      return;
    case 'Add':
    case 'AddV2':
    case 'BiasAdd':
      e.node('Add', [input(0), input(1)], [node.name]);
      return;
    case 'Sub':
      e.node('Sub', [input(0), input(1)], [node.name]);
      return;
    case 'Mul':
      e.node('Mul', [input(0), input(1)], [node.name]);
      return;
    case 'Sigmoid':
      e.node('Sigmoid', [input(0)], [node.name]);
      return;
    case 'Relu':
      e.node('Relu', [input(0)], [node.name]);
      return;
    case 'LeakyRelu': {
      const alpha = node.attrs.alpha?.kind === 'float' ? node.attrs.alpha.value : 0.2;
      e.node('LeakyRelu', [input(0)], [node.name], { alpha: float(alpha) });
      return;
    }
    case 'Conv2D':
      emitConv2D(e, node);
      return;
    case 'MaxPool':
      emitMaxPool(e, node);
      return;
    case 'ResizeBilinear':
      emitResizeBilinear(e, node);
      return;
    case 'Pad':
    case 'PadV2':
      emitPad(e, node);
      return;
    case 'Transpose':
      e.node('Transpose', [input(0)], [node.name], { perm: ints([...e.constant(node, 1).data].map(Number)) });
      return;
    case 'Reshape': {
      const shape = [...e.constant(node, 1).data].map(Number);
      e.node('Reshape', [input(0), e.initializer(`${node.name}/shape`, () => int64Tensor('', shape))], [node.name]);
      return;
    }
    case 'ConcatV2': {
      const axisIndex = node.inputs.length - 1;
      const axis = Number(e.constant(node, axisIndex).data[0]);
      const parts = node.inputs.slice(0, axisIndex).map((_, i) => input(i));
      e.node('Concat', parts, [node.name], { axis: int(axis) });
      return;
    }
    case 'SplitV': {
      const sizes = [...e.constant(node, 1).data].map(Number);
      if (sizes.some((s) => s < 0)) throw new UnsupportedOpError(node, 'inferred (-1) split sizes');
      const axis = Number(e.constant(node, 2).data[0]);
      const outputs = sizes.map((_, k) => (k === 0 ? node.name : `${node.name}:${k}`));
      const split = e.initializer(`${node.name}/split`, () => int64Tensor('', sizes));
      e.node('Split', [input(0), split], outputs, { axis: int(axis) });
      return;
    }
    default:
      throw new UnsupportedOpError(node, 'op not supported by the converter');
  }
}

/** Converts the TF graph into an ONNX graph (NHWC ops wrapped in transposes; run the passes afterwards). */
export function convertTfGraph(tf: TfGraph, graphName: string): OnnxGraph {
  const constants = foldConstants(tf);
  const graph: OnnxGraph = {
    name: graphName,
    nodes: [],
    initializers: new Map(),
    inputs: tf.inputs.map((i) => ({ name: i.name, dataType: 'float32', shape: i.shape.map((d) => (d < 0 ? 'N' : d)) })),
    outputs: tf.outputs.map((o) => ({ name: o.name, dataType: 'float32', shape: o.shape.map((d, k) => (d < 0 ? `d${k}` : d)) })),
  };
  const e = createEmitter(graph, constants);
  const needed = neededNodes(tf, constants);
  for (const node of tf.nodes) if (needed.has(node.name) && !constants.has(node.name)) emitNode(e, node);
  for (const out of graph.outputs) {
    if (constants.has(out.name)) throw new Error(`output ${out.name} is a constant: nothing to convert`);
  }
  return graph;
}

/** Names of the nodes the outputs depend on, walking back from the outputs. */
function neededNodes(tf: TfGraph, constants: Map<string, TfConstant>): Set<string> {
  const byName = new Map(tf.nodes.map((n) => [n.name, n] as const));
  const needed = new Set<string>();
  const stack = tf.outputs.map((o) => o.name);
  while (stack.length > 0) {
    const name = (stack.pop() as string).replace(/:\d+$/, '');
    if (needed.has(name)) continue;
    needed.add(name);
    if (constants.has(name)) continue;
    for (const i of byName.get(name)?.inputs ?? []) stack.push(i);
  }
  return needed;
}

