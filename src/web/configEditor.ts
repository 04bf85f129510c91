/**
 * Edits the gateway's YAML config from the web UI: the change is made on the parsed document (so
 * comments and ${ENV} references survive), the whole result validated with the one config schema,
 * written atomically (temp file + rename, previous version kept as `<file>.prev`) and applied by a
 * reload — no restart. An invalid edit is refused with every error by path and nothing is written.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument, type Document } from 'yaml';
import { writeFileAtomic } from '../common/atomicFile.js';
import { parseConfig } from '../gateway/config/loadConfig.js';
import type { Gateway } from '../gateway/gateway.js';

export class ConfigEditError extends Error {
  constructor(
    message: string,
    readonly errors: string[],
    readonly status = 400,
  ) {
    super(message);
  }
}

// One edit at a time: two installers saving together must not interleave read and write.
let queue: Promise<unknown> = Promise.resolve();

export function editConfig(gateway: Gateway, describe: string, edit: (doc: Document) => void): Promise<{ file: string; changes: string[] }> {
  const run = queue.then(async () => {
    const file = gateway.configPath;
    if (!file) throw new ConfigEditError('the gateway runs without a config file (start it with --config FILE or --demo) so nothing can be saved', [], 409);
    const doc = parseDocument(await readFile(file, 'utf8'));
    if (doc.errors.length) throw new ConfigEditError('the config file on disk does not parse', doc.errors.map((e) => e.message), 409);
    edit(doc);
    const result = parseConfig(doc.toJS(), gateway.configEnv);
    if (!result.ok) throw new ConfigEditError(`${describe}: invalid`, result.errors);
    await writeFileAtomic(file, doc.toString(), { keepPrevious: true });
    await gateway.reload();
    const last = gateway.status().config.last_reload;
    if (last && !last.ok) throw new ConfigEditError(`${describe}: written but not applied`, last.errors, 500);
    return { file, changes: last?.changes ?? [] };
  });
  queue = run.catch(() => undefined);
  return run;
}

/** The index of a camera in the document's `cameras` sequence. */
export function cameraIndex(doc: Document, id: string): number {
  const cameras = doc.toJS().cameras as { id: string }[] | undefined;
  const index = cameras?.findIndex((c) => c.id === id) ?? -1;
  if (index < 0) throw new ConfigEditError(`no camera "${id}" in the config file`, [], 404);
  return index;
}
