/**
 * Bearer-token authentication for /api. Tokens come from the config (api.tokens, values usually
 * from the environment); with none configured, the gateway generates one on first start and keeps
 * it in data_dir/api-token (mode 0600), so the API is never open by default.
 */
import { timingSafeEqual } from 'node:crypto';
import { generatedSecret } from '../../common/secretFile.js';
import type { GatewayConfig } from '../config/configSchema.js';

export const TOKEN_FILE = 'api-token';

/** The tokens that open the API now (a config reload changes them). */
export function apiTokens(config: GatewayConfig): { name: string; token: string }[] {
  if (config.api.tokens.length > 0) return config.api.tokens;
  return [{ name: 'generated', token: generatedSecret(config.data_dir, TOKEN_FILE) }];
}

/** The name of the token presented in an Authorization header, or undefined. */
export function authenticate(header: string | undefined, tokens: readonly { name: string; token: string }[]): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const presented = Buffer.from(match[1]!);
  for (const t of tokens) {
    const expected = Buffer.from(t.token);
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) return t.name;
  }
  return undefined;
}
