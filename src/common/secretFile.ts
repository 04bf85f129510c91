/**
 * A secret the gateway generates on first start when the config gives none (the API token, the
 * sensor broker password), kept in data_dir with mode 0600 so nothing is ever open by default.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const generated = new Map<string, string>();

export function generatedSecret(dataDir: string, fileName: string): string {
  const file = path.resolve(dataDir, fileName);
  let secret = generated.get(file);
  if (secret) return secret;
  if (existsSync(file)) secret = readFileSync(file, 'utf8').trim();
  if (!secret) {
    mkdirSync(path.dirname(file), { recursive: true });
    secret = randomBytes(24).toString('base64url');
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  generated.set(file, secret);
  return secret;
}
