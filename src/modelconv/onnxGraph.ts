/** In-memory ONNX graph used by the converter: built from a TF graph, rewritten by passes, then serialised. */

export const ONNX_DATA_TYPE = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, float16: 10 } as const;
export type OnnxDataType = keyof typeof ONNX_DATA_TYPE;

export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint16Array | Uint8Array | Int8Array;

export interface OnnxTensor {
  name: string;
  dataType: OnnxDataType;
  dims: number[];
  data: TensorData;
}

export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: OnnxTensor };

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  dataType: OnnxDataType;
  /** Numbers for fixed sizes, strings for symbolic ones; undefined: rank unknown (written without a shape). */
  shape: (number | string)[] | undefined;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  metadata: Record<string, string>;
  graph: OnnxGraph;
}

export const int = (value: number): OnnxAttribute => ({ kind: 'int', value });
export const ints = (value: number[]): OnnxAttribute => ({ kind: 'ints', value });
export const float = (value: number): OnnxAttribute => ({ kind: 'float', value });
export const str = (value: string): OnnxAttribute => ({ kind: 'string', value });

export function int64Tensor(name: string, values: number[], dims: number[] = [values.length]): OnnxTensor {
  return { name, dataType: 'int64', dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) };
}

/** Map from tensor name to the nodes that read it. */
export function consumersOf(graph: OnnxGraph): Map<string, OnnxNode[]> {
  const map = new Map<string, OnnxNode[]>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      const list = map.get(i) ?? [];
      list.push(n);
      map.set(i, list);
    }
  }
  return map;
}

export function producersOf(graph: OnnxGraph): Map<string, OnnxNode> {
  const map = new Map<string, OnnxNode>();
  for (const n of graph.nodes) for (const o of n.outputs) map.set(o, n);
  return map;
}

export function isGraphOutput(graph: OnnxGraph, name: string): boolean {
  return graph.outputs.some((o) => o.name === name);
}

/** Points every reader of `from` at `to`. */
export function replaceUses(graph: OnnxGraph, from: string, to: string): void {
  for (const n of graph.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
}

/** Drops nodes whose outputs nobody reads and initializers nobody uses. */
export function removeDeadCode(graph: OnnxGraph): void {
  let changed = true;
  while (changed) {
    changed = false;
    const used = new Set<string>(graph.outputs.map((o) => o.name));
    for (const n of graph.nodes) for (const i of n.inputs) used.add(i);
    const kept = graph.nodes.filter((n) => n.outputs.some((o) => used.has(o)));
    if (kept.length !== graph.nodes.length) {
      graph.nodes = kept;
      changed = true;
    }
  }
  const used = new Set<string>();
  for (const n of graph.nodes) for (const i of n.inputs) used.add(i);
  for (const name of [...graph.initializers.keys()]) if (!used.has(name)) graph.initializers.delete(name);
}
