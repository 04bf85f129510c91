/** TFJS graph model → ONNX bytes: load, convert, optimise, serialise. */
import type { OnnxModel } from './onnxGraph.js';
import { optimizeGraph, storeExactWeightsAsFloat16 } from './graphPasses.js';
import { serializeModel } from './onnxProto.js';
import { loadTfjsGraphModel } from './tfjsGraph.js';
import { convertTfGraph } from './tfjsToOnnx.js';

export const CONVERTER_VERSION = '1';
const OPSET = 17;
const IR_VERSION = 8;

export interface ConvertOptions {
  graphName: string;
  /** Recorded in the model's metadata_props (provenance travels with the file). */
  metadata?: Record<string, string>;
  /** Skip the layout/fusion passes (used to check that they change nothing numerically). */
  optimize?: boolean;
  float16Weights?: boolean;
}

export interface ConversionResult {
  bytes: Uint8Array;
  nodeCount: number;
  opCounts: Record<string, number>;
}

export async function convertTfjsModel(modelJsonPath: string, options: ConvertOptions): Promise<ConversionResult> {
  const tf = await loadTfjsGraphModel(modelJsonPath);
  const graph = convertTfGraph(tf, options.graphName);
  if (options.optimize !== false) optimizeGraph(graph);
  if (options.float16Weights !== false) storeExactWeightsAsFloat16(graph);
  const model: OnnxModel = {
    irVersion: IR_VERSION,
    opsetVersion: OPSET,
    producerName: 'storepulse-tfjs2onnx',
    producerVersion: CONVERTER_VERSION,
    docString: `Converted from a TensorFlow.js graph model by storepulse's converter (src/modelconv).`,
    metadata: options.metadata ?? {},
    graph,
  };
  const opCounts: Record<string, number> = {};
  for (const n of graph.nodes) opCounts[n.opType] = (opCounts[n.opType] ?? 0) + 1;
  return { bytes: serializeModel(model), nodeCount: graph.nodes.length, opCounts };
}
