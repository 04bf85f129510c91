/**
 * Rewrites on the converted ONNX graph. Each pass preserves the graph's outputs exactly (up to
 * float rounding of a re-ordered bias add) and keeps the node list topologically sorted.
 */
import type { OnnxGraph, OnnxNode, OnnxTensor } from './onnxGraph.js';
import { consumersOf, isGraphOutput, producersOf, removeDeadCode, replaceUses } from './onnxGraph.js';
import {
  composePermutations,
  float32ToFloat16Bits,
  invertPermutation,
  isIdentityPermutation,
  transposeData,
} from './tensorMath.js';
import { float16ToFloat32 } from './tfjsGraph.js';

const permOf = (n: OnnxNode): number[] => {
  const a = n.attributes.perm;
  return a?.kind === 'ints' ? a.value : [];
};

/** Transpose(p) → Transpose(q) where q∘p is the identity: readers of the second read the first's input. */
export function cancelTransposePairs(graph: OnnxGraph): boolean {
  const producers = producersOf(graph);
  let changed = false;
  for (const second of graph.nodes) {
    if (second.opType !== 'Transpose') continue;
    const first = producers.get(second.inputs[0] as string);
    if (first?.opType !== 'Transpose') continue;
    const out = second.outputs[0] as string;
    if (isGraphOutput(graph, out)) continue;
    if (!isIdentityPermutation(composePermutations(permOf(first), permOf(second)))) continue;
    replaceUses(graph, out, first.inputs[0] as string);
    changed = true;
  }
  if (changed) removeDeadCode(graph);
  return changed;
}

const ELEMENTWISE_UNARY = new Set(['LeakyRelu', 'Relu', 'Sigmoid', 'Identity']);
const ELEMENTWISE_BINARY = new Set(['Add', 'Sub', 'Mul']);

/** A constant operand re-laid so that `op(T_p(x), K) = T_p(op(x, K'))`. */
function permutedConstant(graph: OnnxGraph, name: string, perm: number[]): string | undefined {
  const k = graph.initializers.get(name);
  if (!k || k.dataType !== 'float32') return undefined;
  const rank = perm.length;
  if (k.dims.length > rank) return undefined;
  const padded = [...new Array<number>(rank - k.dims.length).fill(1), ...k.dims];
  const inverse = invertPermutation(perm);
  const newName = `${name}/perm${inverse.join('')}`;
  if (!graph.initializers.has(newName)) {
    graph.initializers.set(newName, {
      name: newName,
      dataType: 'float32',
      dims: inverse.map((p) => padded[p] as number),
      data: transposeData(k.data as Float32Array, padded, inverse),
    });
  }
  return newName;
}

/**
 * Moves a Transpose below an elementwise op whose other operands are constants or the same
 * transpose, so that it can meet — and cancel — the inverse transpose further down.
 */
export function sinkTransposes(graph: OnnxGraph): boolean {
  let changed = false;
  for (let index = 0; index < graph.nodes.length; index++) {
    const node = graph.nodes[index] as OnnxNode;
    const isUnary = ELEMENTWISE_UNARY.has(node.opType);
    if (!isUnary && !ELEMENTWISE_BINARY.has(node.opType)) continue;
    const out = node.outputs[0] as string;
    if (isGraphOutput(graph, out)) continue;
    const producers = producersOf(graph);
    const consumers = consumersOf(graph);
    const transposed = node.inputs.map((i) => producers.get(i)).filter((p) => p?.opType === 'Transpose') as OnnxNode[];
    if (transposed.length === 0) continue;
    const perm = permOf(transposed[0] as OnnxNode);
    const sameTranspose = transposed.every(
      (t) => permOf(t).join() === perm.join() && (consumers.get(t.outputs[0] as string) ?? []).length === 1,
    );
    if (!sameTranspose) continue;
    const newInputs: string[] = [];
    let ok = true;
    for (const input of node.inputs) {
      const producer = producers.get(input);
      if (producer?.opType === 'Transpose') newInputs.push(producer.inputs[0] as string);
      else {
        const relaid = permutedConstant(graph, input, perm);
        if (!relaid) ok = false;
        else newInputs.push(relaid);
      }
    }
    if (!ok) continue;
    const inner = `${out}/pre_transpose`;
    node.inputs = newInputs;
    node.outputs = [inner];
    graph.nodes.splice(index + 1, 0, {
      name: `${out}/sunk_transpose`,
      opType: 'Transpose',
      inputs: [inner],
      outputs: [out],
      attributes: { perm: { kind: 'ints', value: perm } },
    });
    changed = true;
  }
  if (changed) removeDeadCode(graph);
  return changed;
}

/** Conv → Add(constant per channel) becomes a Conv with a bias. */
export function foldBiasIntoConv(graph: OnnxGraph): boolean {
  const consumers = consumersOf(graph);
  let changed = false;
  for (const conv of graph.nodes) {
    if (conv.opType !== 'Conv' || conv.inputs.length !== 2) continue;
    const readers = consumers.get(conv.outputs[0] as string) ?? [];
    const add = readers[0];
    if (readers.length !== 1 || add?.opType !== 'Add' || isGraphOutput(graph, conv.outputs[0] as string)) continue;
    const biasName = add.inputs.find((i) => i !== conv.outputs[0]) as string;
    const bias = graph.initializers.get(biasName);
    const weights = graph.initializers.get(conv.inputs[1] as string);
    const channels = weights?.dims[0];
    if (!bias || !channels || bias.data.length !== channels) continue;
    const perChannel = bias.dims.length <= 1 || (bias.dims.length === 4 && bias.dims[1] === channels);
    if (!perChannel) continue;
    const flatName = `${biasName}/bias`;
    graph.initializers.set(flatName, { ...bias, name: flatName, dims: [channels] });
    conv.inputs.push(flatName);
    conv.outputs = [...add.outputs];
    add.outputs = [];
    add.inputs = [];
    changed = true;
  }
  if (changed) {
    graph.nodes = graph.nodes.filter((n) => n.outputs.length > 0);
    removeDeadCode(graph);
  }
  return changed;
}

/** Zero constant Pad on the spatial axes only, read by one Conv with no padding of its own. */
export function foldPadIntoConv(graph: OnnxGraph): boolean {
  const consumers = consumersOf(graph);
  let changed = false;
  for (const pad of graph.nodes) {
    if (pad.opType !== 'Pad' || pad.inputs.length > 3) continue;
    const readers = consumers.get(pad.outputs[0] as string) ?? [];
    const conv = readers[0];
    if (readers.length !== 1 || conv?.opType !== 'Conv') continue;
    const mode = pad.attributes.mode;
    if (mode && !(mode.kind === 'string' && mode.value === 'constant')) continue;
    const value = pad.inputs[2] ? graph.initializers.get(pad.inputs[2]) : undefined;
    if (pad.inputs[2] && (!value || Number(value.data[0]) !== 0)) continue;
    const pads = graph.initializers.get(pad.inputs[1] as string);
    if (!pads || pads.data.length !== 8) continue;
    const p = [...pads.data].map(Number); // [n0,c0,h0,w0,n1,c1,h1,w1]
    if (p[0] || p[1] || p[4] || p[5]) continue;
    const autoPad = conv.attributes.auto_pad;
    const existing = conv.attributes.pads;
    if (autoPad && !(autoPad.kind === 'string' && autoPad.value === 'VALID')) continue;
    if (existing?.kind === 'ints' && existing.value.some((v) => v !== 0)) continue;
    delete conv.attributes.auto_pad;
    conv.attributes.pads = { kind: 'ints', value: [p[2] ?? 0, p[3] ?? 0, p[6] ?? 0, p[7] ?? 0] };
    conv.inputs[0] = pad.inputs[0] as string;
    changed = true;
  }
  if (changed) removeDeadCode(graph);
  return changed;
}

/** Runs the layout and fusion passes to a fixed point. */
export function optimizeGraph(graph: OnnxGraph): void {
  for (let round = 0; round < 50; round++) {
    const changed = [
      cancelTransposePairs(graph),
      sinkTransposes(graph),
      cancelTransposePairs(graph),
      foldBiasIntoConv(graph),
      foldPadIntoConv(graph),
    ].some(Boolean);
    if (!changed) return;
  }
}

function exactInFloat16(t: OnnxTensor): Uint16Array | undefined {
  const halves = new Uint16Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = Number(t.data[i]);
    const h = float32ToFloat16Bits(v);
    if (Object.is(float16ToFloat32(h), Math.fround(v)) === false) return undefined;
    halves[i] = h;
  }
  return halves;
}

/**
 * Stores float32 initializers whose values are all exact in half precision (weights that TFJS
 * shipped as float16) as float16 plus a Cast, halving the file with bit-identical float32 values
 * once onnxruntime folds the Cast at load time.
 */
export function storeExactWeightsAsFloat16(graph: OnnxGraph, minElements = 64): void {
  const casts: OnnxNode[] = [];
  for (const [name, t] of [...graph.initializers]) {
    if (t.dataType !== 'float32' || t.data.length < minElements) continue;
    const halves = exactInFloat16(t);
    if (!halves) continue;
    const halfName = `${name}/fp16`;
    graph.initializers.delete(name);
    graph.initializers.set(halfName, { name: halfName, dataType: 'float16', dims: t.dims, data: halves });
    casts.push({ name: `${name}/Cast`, opType: 'Cast', inputs: [halfName], outputs: [name], attributes: { to: { kind: 'int', value: 1 } } });
  }
  casts.sort((a, b) => (a.name < b.name ? -1 : 1));
  graph.nodes = [...casts, ...graph.nodes];
}
