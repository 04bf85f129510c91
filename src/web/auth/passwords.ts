/**
 * Password hashing with scrypt (node:crypto): `scrypt$N$r$p$salt$hash`, the cost parameters kept
 * with each hash, so a hash made at an older (lower) cost still verifies and is replaced by one at
 * the current cost on the next successful login (`needsRehash`).
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

// The largest N whose login stays within 250 ms on the 2-vCPU reference machine (`npm run bench:scrypt`,
// docs/benchmarks.md): N = 2^15, r = 8, p = 1 — 32 MiB, ~170–185 ms per login; 2^16 took ~440 ms.
// Hashes keep their parameters: raising N here upgrades each account at its next login.
export const SCRYPT_PARAMS: Readonly<ScryptParams> = { N: 2 ** 15, r: 8, p: 1 };

/** Memory scrypt may use: 128·N·r bytes (128 MiB at N = 2^17, r = 8) plus a little; Node's default is 32 MiB. */
export const SCRYPT_MAXMEM = 256 * 1024 * 1024;
/** Stored hashes needing more memory than this are refused rather than computed. */
const MAX_MEMORY = 1024 * 1024 * 1024;
const KEYLEN = 32;

export const MIN_PASSWORD_LENGTH = 10;

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

/** The bytes scrypt allocates for these parameters (OpenSSL's count: 128·r·(N + p + 2)). */
export const memoryOf = ({ N, r, p }: ScryptParams): number => 128 * r * (N + p + 2);

export async function hashPassword(password: string, params: ScryptParams = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEYLEN, { N: params.N, r: params.r, p: params.p, maxmem: SCRYPT_MAXMEM });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** The cost parameters a stored hash was made with (undefined: not a hash this code understands). */
export function hashParams(stored: string): ScryptParams | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const powerOfTwo = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || !Number.isInteger(r) || r < 1 || !Number.isInteger(p) || p < 1 || p > 16 || memoryOf({ N, r, p }) > MAX_MEMORY) return undefined;
  return { N, r, p };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const params = hashParams(stored);
  if (!params) return false;
  const parts = stored.split('$');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (expected.length < 16) return false;
  const key = await scrypt(password, Buffer.from(parts[4]!, 'base64'), expected.length, { ...params, maxmem: Math.max(SCRYPT_MAXMEM, memoryOf(params) + 1024 * 1024) });
  return timingSafeEqual(key, expected);
}

/** A hash made at a lower cost than the current one (to be replaced after a successful login). */
export function needsRehash(stored: string, current: ScryptParams = SCRYPT_PARAMS): boolean {
  const params = hashParams(stored);
  return !params || params.N < current.N || params.r < current.r || params.p < current.p;
}
