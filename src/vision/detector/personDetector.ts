/**
 * Person detector on onnxruntime-node: preprocessing and decoding driven by the model manifest,
 * then person-class NMS. One instance owns one session and one reusable input buffer, so calls to
 * detect() must not overlap (the camera loop awaits each frame).
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { Detection, RgbFrame } from '../detection.js';
import { DECODERS, type OutputTensor } from './decoders.js';
import { inferManifest, loadManifest, resolveModelSpec, type ModelManifest } from './modelManifest.js';
import { nonMaxSuppression } from './nms.js';
import { fillInputTensor, scaleForModel } from './preprocess.js';
import { sourceScaleOf, sourceSizeOf } from './sourceScale.js';

export interface DetectorOptions {
  /** Shipped model name, manifest path or .onnx path (default: the shipped NanoDet). */
  model?: string;
  /** Intra-op threads; the store PCs have 2–4 cores. */
  threads?: number;
  scoreThreshold?: number;
  nmsIouThreshold?: number;
  maxDetections?: number;
  /** Inferences run at start-up so the first real frame is not slow (allocations, kernel selection). */
  warmupRuns?: number;
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface DetectionTimings {
  preprocessMs: number;
  inferenceMs: number;
  decodeMs: number;
}

export class ModelLoadError extends Error {}

function shapesOf(session: ort.InferenceSession): { inputName: string; inputShape: readonly (number | string)[]; outputShapes: Record<string, readonly (number | string)[]> } {
  const input = session.inputMetadata[0];
  if (!input?.isTensor) throw new ModelLoadError('the model has no tensor input');
  const outputShapes: Record<string, readonly (number | string)[]> = {};
  for (const o of session.outputMetadata) if (o.isTensor) outputShapes[o.name] = o.shape;
  return { inputName: input.name, inputShape: input.shape, outputShapes };
}

export class PersonDetector {
  private readonly inputBuffer: Float32Array;
  private readonly inputDims: number[];
  /** The session's feeds, built once: the tensor wraps inputBuffer, which prepare() refills in place. */
  private readonly feeds: Record<string, ort.Tensor>;
  private readonly maxDetections: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly manifest: ModelManifest,
    readonly modelPath: string,
    maxDetections: number,
  ) {
    const { width, height, layout } = manifest.input;
    this.inputBuffer = new Float32Array(3 * width * height);
    this.inputDims = layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
    this.feeds = { [manifest.input.name]: new ort.Tensor('float32', this.inputBuffer, this.inputDims) };
    this.maxDetections = maxDetections;
  }

  static async create(options: DetectorOptions = {}): Promise<PersonDetector> {
    const spec = resolveModelSpec(options.model);
    const resolved = spec.manifestPath ? loadManifest(spec.manifestPath) : undefined;
    const modelPath = resolved?.modelPath ?? (spec.onnxPath as string);
    let session: ort.InferenceSession;
    try {
      const bytes = await readFile(modelPath);
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.threads ?? 2,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: options.graphOptimization ?? 'all',
      });
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0];
      throw new ModelLoadError(`cannot load model ${modelPath}: ${reason}`);
    }
    const shapes = shapesOf(session);
    const base = resolved?.manifest ?? inferManifest(modelPath, shapes);
    const manifest: ModelManifest = {
      ...base,
      scoreThreshold: options.scoreThreshold ?? base.scoreThreshold,
      nmsIouThreshold: options.nmsIouThreshold ?? base.nmsIouThreshold,
    };
    checkInputShape(manifest, shapes.inputName, shapes.inputShape, modelPath);
    const detector = new PersonDetector(session, manifest, modelPath, options.maxDetections ?? 300);
    for (let i = 0; i < (options.warmupRuns ?? 2); i++) await detector.infer();
    return detector;
  }

  /** Runs the model on whatever is in the input buffer. */
  async infer(): Promise<Record<string, OutputTensor>> {
    const results = await this.session.run(this.feeds);
    const outputs: Record<string, OutputTensor> = {};
    for (const [name, tensor] of Object.entries(results)) {
      outputs[name] = { dims: tensor.dims, data: tensor.data as Float32Array };
    }
    return outputs;
  }

  /**
   * Fills the input buffer from a frame and returns how model pixels map back to the frame — to its
   * source video for a frame decoded smaller than its source (sourceScale.ts).
   */
  async prepare(frame: RgbFrame): Promise<{ scaleX: number; scaleY: number }> {
    const { image, geometry } = await scaleForModel(frame, this.manifest.input);
    fillInputTensor(image, this.manifest.input, this.inputBuffer);
    const toSource = sourceScaleOf(frame);
    return { scaleX: geometry.scaleX * toSource.x, scaleY: geometry.scaleY * toSource.y };
  }

  /** The preprocessed input of the last prepare() (for parity checks against other runtimes). */
  get inputTensor(): { data: Float32Array; dims: number[] } {
    return { data: this.inputBuffer, dims: this.inputDims };
  }

  /** Person boxes in the frame's pixels, or its source's for a scaled frame (sourceScale.ts). */
  async detect(frame: RgbFrame): Promise<Detection[]> {
    return (await this.detectTimed(frame)).detections;
  }

  async detectTimed(frame: RgbFrame): Promise<{ detections: Detection[]; timings: DetectionTimings }> {
    const t0 = performance.now();
    const geometry = await this.prepare(frame);
    const t1 = performance.now();
    const outputs = await this.infer();
    const t2 = performance.now();
    const bounds = sourceSizeOf(frame);
    const candidates = DECODERS[this.manifest.decoder.type](outputs, {
      manifest: this.manifest,
      geometry,
      frameWidth: bounds.width,
      frameHeight: bounds.height,
    });
    const detections = nonMaxSuppression(candidates, this.manifest.nmsIouThreshold, this.maxDetections);
    const t3 = performance.now();
    return { detections, timings: { preprocessMs: t1 - t0, inferenceMs: t2 - t1, decodeMs: t3 - t2 } };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function checkInputShape(manifest: ModelManifest, name: string, shape: readonly (number | string)[], modelPath: string): void {
  const { width, height, layout } = manifest.input;
  const expected = layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
  if (name !== manifest.input.name) {
    throw new ModelLoadError(`${modelPath}: the model's input is "${name}", the manifest says "${manifest.input.name}"`);
  }
  const fixed = shape.map((d) => (typeof d === 'number' ? d : -1));
  const mismatch = fixed.length !== 4 || fixed.some((d, i) => d !== -1 && d !== expected[i]);
  if (mismatch) {
    throw new ModelLoadError(`${modelPath}: input shape ${JSON.stringify(shape)} does not match the manifest's ${JSON.stringify(expected)}`);
  }
}
