/**
 * A minimal, deterministic protobuf writer for the subset of onnx.proto that the TFJS → ONNX
 * converter emits. Written by hand (no protobuf dependency) so that the same graph always
 * serialises to the same bytes: `npm run model:build` must regenerate the committed model
 * byte-identically.
 *
 * Field numbers follow onnx/onnx.proto3 (IR version 8).
 */
import type { OnnxAttribute, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnxGraph.js';
import { ONNX_DATA_TYPE } from './onnxGraph.js';

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

/** Growable byte buffer with protobuf primitives. */
class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length > 0) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.scratch = [];
    }
  }

  private varint(value: bigint): void {
    // Negative int64 values are encoded as 10-byte two's complement varints.
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  int(field: number, value: number | bigint): void {
    this.tag(field, WIRE_VARINT);
    this.varint(BigInt(value));
  }

  float(field: number, value: number): void {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(BigInt(value.length));
    this.flushScratch();
    this.chunks.push(value);
  }

  string(field: number, value: string): void {
    this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    build(inner);
    this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    this.flushScratch();
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

function tensorBytes(t: OnnxTensor): Uint8Array {
  const d = t.data;
  // Typed arrays are little-endian on every platform Node supports (x86_64, arm64).
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  for (const dim of t.dims) w.int(1, dim);
  w.int(2, ONNX_DATA_TYPE[t.dataType]);
  w.string(8, t.name);
  w.bytes(9, tensorBytes(t));
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function writeAttribute(w: ProtoWriter, name: string, a: OnnxAttribute): void {
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      w.message(5, (m) => writeTensor(m, a.value));
      break;
    case 'floats':
      for (const f of a.value) w.float(7, f);
      break;
    case 'ints':
      for (const i of a.value) w.int(8, i);
      break;
  }
  w.int(20, ATTR_TYPE[a.kind]);
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  // Attribute order must not depend on insertion order for byte-identical output.
  for (const key of Object.keys(n.attributes).sort()) {
    const attr = n.attributes[key];
    if (attr) w.message(5, (m) => writeAttribute(m, key, attr));
  }
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, ONNX_DATA_TYPE[v.dataType]);
      // Calibration adds intermediate tensors as outputs without knowing their shapes.
      if (v.shape === undefined) return;
      const dims = v.shape;
      tensorType.message(2, (shape) => {
        for (const dim of dims) {
          shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
        }
      });
    }),
  );
}

function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of [...g.initializers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    w.message(5, (m) => writeTensor(m, t));
  }
  for (const i of g.inputs) w.message(11, (m) => writeValueInfo(m, i));
  for (const o of g.outputs) w.message(12, (m) => writeValueInfo(m, o));
}

/** Serialises a model to ONNX protobuf bytes. */
export function serializeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  w.string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph));
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, model.opsetVersion);
  });
  for (const key of Object.keys(model.metadata).sort()) {
    w.message(14, (m) => {
      m.string(1, key);
      m.string(2, model.metadata[key] ?? '');
    });
  }
  return w.finish();
}
