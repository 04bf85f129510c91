/** The repo's JSON Schema files for upstream messages, compiled with ajv (tests check real messages against them). */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { PROJECT_ROOT } from '../../src/projectPaths.js';

const DIR = path.join(PROJECT_ROOT, 'schemas', 'upstream', 'v1');

export function upstreamValidators() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as object, file);
  }
  const check = (name: string) => (value: unknown): string[] => {
    const validate = ajv.getSchema(name)!;
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
  return { envelope: check('envelope.schema.json'), status: check('status.schema.json') };
}
