import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { GatewayContext } from '../../src/gateway/context.js';
import { createMetrics } from '../../src/gateway/metrics.js';

export function testContext(): GatewayContext {
  return { log: pino({ level: 'silent' }), metrics: createMetrics(), now: Date.now };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `storepulse-${prefix}-`));
}

/** Writes a config atomically, as the UI and careful editors do. */
export async function writeConfig(file: string, config: unknown): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, typeof config === 'string' ? config : stringify(config));
  await rename(tmp, file);
}

export async function until<T>(read: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}: last value ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
