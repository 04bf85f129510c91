/**
 * Reads a TensorFlow.js graph model (model.json + weight shards) into a plain graph:
 * nodes with decoded attributes, and constants dequantised to float32 / int32.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface TfConstant {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
  /** True when the stored weights were float16, so every value is exactly representable in fp16. */
  fromFloat16: boolean;
}

export type TfAttr =
  | { kind: 'string'; value: string }
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'ints'; value: number[] }
  | { kind: 'other' };

export interface TfNode {
  name: string;
  op: string;
  /** Data inputs as `node` or `node:k`; control inputs (`^node`) are dropped. */
  inputs: string[];
  attrs: Record<string, TfAttr>;
}

export interface TfGraph {
  nodes: TfNode[];
  constants: Map<string, TfConstant>;
  inputs: TfTensorSpec[];
  outputs: TfTensorSpec[];
}

export interface TfTensorSpec {
  name: string;
  /** -1 where the size is not fixed. */
  shape: number[];
}

interface RawAttr {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  list?: { i?: (string | number)[] };
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface ModelJson {
  format?: string;
  modelTopology: { node: { name: string; op: string; input?: string[]; attr?: Record<string, RawAttr> }[] };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  signature?: {
    inputs?: Record<string, { name: string; tensorShape?: { dim?: { size: string }[] } }>;
    outputs?: Record<string, { name: string; tensorShape?: { dim?: { size: string }[] } }>;
  };
}

/** IEEE 754 half → single precision. */
export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decodeAttr(raw: RawAttr): TfAttr {
  if (raw.s !== undefined) return { kind: 'string', value: Buffer.from(raw.s, 'base64').toString('utf8') };
  if (raw.i !== undefined) return { kind: 'int', value: Number(raw.i) };
  if (raw.f !== undefined) return { kind: 'float', value: raw.f };
  if (raw.b !== undefined) return { kind: 'bool', value: raw.b };
  if (raw.list?.i) return { kind: 'ints', value: raw.list.i.map(Number) };
  return { kind: 'other' };
}

function decodeWeight(spec: WeightSpec, bytes: Buffer, offset: number): { constant: TfConstant; size: number } {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization;
  if (q?.dtype === 'float16') {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = float16ToFloat32(bytes.readUInt16LE(offset + 2 * i));
    return { constant: { dtype: 'float32', shape: spec.shape, data: out, fromFloat16: true }, size: 2 * count };
  }
  if (q?.dtype === 'uint8' || q?.dtype === 'uint16') {
    const width = q.dtype === 'uint8' ? 1 : 2;
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const v = width === 1 ? bytes.readUInt8(offset + i) : bytes.readUInt16LE(offset + 2 * i);
      out[i] = v * scale + min;
    }
    const dtype = spec.dtype === 'int32' ? 'int32' : 'float32';
    const data = dtype === 'int32' ? Int32Array.from(out, Math.round) : out;
    return { constant: { dtype, shape: spec.shape, data, fromFloat16: false }, size: width * count };
  }
  if (q) throw new Error(`weight ${spec.name}: unsupported quantization ${q.dtype}`);
  if (spec.dtype === 'float32') {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(offset + 4 * i);
    return { constant: { dtype: 'float32', shape: spec.shape, data: out, fromFloat16: false }, size: 4 * count };
  }
  if (spec.dtype === 'int32') {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = bytes.readInt32LE(offset + 4 * i);
    return { constant: { dtype: 'int32', shape: spec.shape, data: out, fromFloat16: false }, size: 4 * count };
  }
  throw new Error(`weight ${spec.name}: unsupported dtype ${spec.dtype}`);
}

const stripPort = (name: string): string => name.replace(/:0$/, '');

/** Loads `model.json` and its weight shards (resolved next to it). */
export async function loadTfjsGraphModel(modelJsonPath: string): Promise<TfGraph> {
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  if (json.format !== undefined && json.format !== 'graph-model') {
    throw new Error(`${modelJsonPath}: format "${json.format}" is not a TFJS graph model`);
  }
  const constants = new Map<string, TfConstant>();
  for (const group of json.weightsManifest) {
    const shards = await Promise.all(group.paths.map((p) => readFile(path.join(path.dirname(modelJsonPath), p))));
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const spec of group.weights) {
      const { constant, size } = decodeWeight(spec, bytes, offset);
      constants.set(spec.name, constant);
      offset += size;
    }
    if (offset !== bytes.length) {
      throw new Error(`${modelJsonPath}: weights use ${offset} bytes but the shards hold ${bytes.length}`);
    }
  }
  const nodes: TfNode[] = json.modelTopology.node.map((n) => ({
    name: n.name,
    op: n.op,
    inputs: (n.input ?? []).filter((i) => !i.startsWith('^')).map(stripPort),
    attrs: Object.fromEntries(Object.entries(n.attr ?? {}).map(([k, v]) => [k, decodeAttr(v)])),
  }));
  const shapeOf = (spec?: { tensorShape?: { dim?: { size: string }[] } }): number[] =>
    (spec?.tensorShape?.dim ?? []).map((d) => Number(d.size));
  const placeholders = nodes.filter((n) => n.op === 'Placeholder');
  const signatureInputs = Object.values(json.signature?.inputs ?? {});
  const inputs = placeholders.map((p) => {
    const sig = signatureInputs.find((s) => stripPort(s.name) === p.name);
    return { name: p.name, shape: shapeOf(sig) };
  });
  const outputs = Object.values(json.signature?.outputs ?? {})
    .map((o) => ({ name: stripPort(o.name), shape: shapeOf(o) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (outputs.length === 0) throw new Error(`${modelJsonPath}: the signature names no outputs`);
  return { nodes, constants, inputs, outputs };
}
