/**
 * Reads the gateway's YAML config: parse, substitute secrets from the environment, validate.
 * Never throws for a bad file: the caller gets every problem with its path, so the daemon can
 * start in safe mode and show them to the installer instead of exiting.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { formatIssues } from '../../vision/scene.js';
import { gatewayConfigSchema, type GatewayConfig } from './configSchema.js';

export type ConfigResult = { ok: true; config: GatewayConfig } | { ok: false; errors: string[] };

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${NAME}` in every string with the environment variable NAME, so that camera passwords
 * and broker credentials live in the systemd EnvironmentFile, not in a file installers share.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, errors: string[], path: (string | number)[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_, name: string) => {
      const resolved = env[name];
      if (resolved === undefined) {
        errors.push(`${path.join('.') || '(root)'}: environment variable ${name} is not set`);
        return '';
      }
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, errors, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, errors, [...path, k])]));
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const errors: string[] = [];
  const substituted = substituteEnv(raw ?? {}, env, errors);
  const parsed = gatewayConfigSchema.safeParse(substituted);
  if (!parsed.success) errors.push(...formatIssues(parsed.error));
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, config: deepFreeze(parsed.data) };
}

/** The configuration used when none is given: API up, no cameras. */
export function defaultConfig(): GatewayConfig {
  const result = parseConfig({}, {});
  if (!result.ok) throw new Error(`the built-in default config is invalid: ${result.errors.join('; ')}`);
  return result.config;
}

/** Reads and parses a YAML config file; a missing file or bad YAML is one error line naming the file. */
export async function readYamlFile(file: string): Promise<{ ok: true; raw: unknown } | { ok: false; errors: string[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`cannot read ${file}: ${(err as Error).message}`] };
  }
  try {
    return { ok: true, raw: parseYaml(text) };
  } catch (err) {
    return { ok: false, errors: [`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
}

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ConfigResult> {
  const read = await readYamlFile(file);
  return read.ok ? parseConfig(read.raw, env) : read;
}
