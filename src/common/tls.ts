/**
 * The certificate the gateway serves HTTPS (web UI, REST API) and MQTTS (embedded sensor broker)
 * with: either PEM files the installer provides, or a key and self-signed certificate created on
 * first start in data_dir/tls/ and reused afterwards, so its fingerprint stays the one the installer
 * pinned. Node has no X.509 generation API: the certificate is made by the openssl command (run
 * without a shell).
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export type TlsMode = 'self-signed' | 'files' | 'off';

export interface TlsSettings {
  mode: TlsMode;
  cert_file?: string | undefined;
  key_file?: string | undefined;
}

export interface TlsMaterial {
  mode: Exclude<TlsMode, 'off'>;
  /** PEM: the certificate (and chain, for `files`) and its private key. */
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  /** SHA-256 of the (first) certificate, colon-separated hex as browsers and openssl show it. */
  fingerprint256: string;
  /** True when this start created the self-signed certificate. */
  generated: boolean;
}

/** Where `self-signed` keeps its files, relative to data_dir. */
export const TLS_DIR = 'tls';
export const CERT_FILE = 'cert.pem';
export const KEY_FILE = 'key.pem';
const VALIDITY_DAYS = 3650;

export class TlsError extends Error {}

/** The SHA-256 fingerprint of a PEM certificate (the first one of a chain). */
export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** subjectAltName entries for this box: its host name, localhost and its non-internal IPv4 addresses. */
export function boxSubjectAltNames(hostname = os.hostname(), interfaces = os.networkInterfaces()): string[] {
  const names = new Set<string>(['DNS:localhost', 'IP:127.0.0.1']);
  if (/^[A-Za-z0-9.-]+$/.test(hostname) && hostname !== 'localhost') names.add(`DNS:${hostname}`);
  for (const list of Object.values(interfaces)) {
    for (const address of list ?? []) if (address.family === 'IPv4' && !address.internal) names.add(`IP:${address.address}`);
  }
  return [...names];
}

/** Reads a PEM file; the error names the config key and the path. */
async function readPem(file: string, key: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new TlsError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Checks that the certificate parses and that the key belongs to it. */
function checkPair(cert: string, key: string, certFile: string, keyFile: string, certKey: string, keyKey: string): string {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsError(`${certKey}: ${certFile} is not a PEM certificate (${(err as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new TlsError(`${keyKey}: ${keyFile} is not an unencrypted PEM private key (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new TlsError(`${keyKey}: ${keyFile} is not the key of the certificate ${certFile}`);
  return x509.fingerprint256;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new TlsError(`tls.mode: self-signed needs the "${command}" command to create the certificate (apt-get install openssl), or use tls.mode: files with cert_file and key_file`));
      }
      reject(new TlsError(`${command} could not create the certificate: ${String(stderr).trim() || err.message}`));
    });
  });
}

/**
 * Creates a P-256 key (mode 0600) and a self-signed certificate valid 10 years in `dir`. Both are
 * written in a temporary folder and renamed into place, so a crash never leaves half a pair.
 */
export async function createSelfSigned(dir: string, altNames = boxSubjectAltNames(), openssl = 'openssl'): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = await mkdtemp(path.join(dir, '.new-'));
  try {
    const keyTmp = path.join(tmp, KEY_FILE);
    const certTmp = path.join(tmp, CERT_FILE);
    const cn = altNames.find((n) => n.startsWith('DNS:') && n !== 'DNS:localhost')?.slice(4) ?? 'localhost';
    await run(openssl, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256',
      '-days', String(VALIDITY_DAYS), '-subj', `/O=storepulse/CN=${cn}`,
      '-addext', `subjectAltName=${altNames.join(',')}`,
      '-keyout', keyTmp, '-out', certTmp,
    ]);
    await chmod(keyTmp, 0o600);
    await rename(keyTmp, path.join(dir, KEY_FILE));
    await rename(certTmp, path.join(dir, CERT_FILE));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await readFile(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * The certificate and key for `settings` (undefined when TLS is off). Throws a TlsError naming the
 * setting and the file when they cannot be used: the gateway never falls back to plain HTTP.
 */
export async function loadTls(settings: TlsSettings, dataDir: string, options: { altNames?: string[]; openssl?: string } = {}): Promise<TlsMaterial | undefined> {
  if (settings.mode === 'off') return undefined;
  if (settings.mode === 'files') {
    if (!settings.cert_file || !settings.key_file) throw new TlsError('tls: mode files needs cert_file and key_file');
    const certFile = path.resolve(settings.cert_file);
    const keyFile = path.resolve(settings.key_file);
    const [cert, key] = await Promise.all([readPem(certFile, 'tls.cert_file'), readPem(keyFile, 'tls.key_file')]);
    const fingerprint256 = checkPair(cert, key, certFile, keyFile, 'tls.cert_file', 'tls.key_file');
    return { mode: 'files', cert, key, certFile, keyFile, fingerprint256, generated: false };
  }
  const dir = path.resolve(dataDir, TLS_DIR);
  const certFile = path.join(dir, CERT_FILE);
  const keyFile = path.join(dir, KEY_FILE);
  let generated = false;
  if (!(await exists(certFile)) || !(await exists(keyFile))) {
    await createSelfSigned(dir, options.altNames, options.openssl);
    generated = true;
  }
  const [cert, key] = await Promise.all([readPem(certFile, 'tls (self-signed)'), readPem(keyFile, 'tls (self-signed)')]);
  const fingerprint256 = checkPair(cert, key, certFile, keyFile, 'tls (self-signed)', 'tls (self-signed)');
  return { mode: 'self-signed', cert, key, certFile, keyFile, fingerprint256, generated };
}
