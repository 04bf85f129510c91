/**
 * TLS everywhere the gateway is reachable: the web UI and REST API over HTTPS (Secure cookies, HSTS,
 * /metrics), the embedded sensor broker over MQTTS, with a self-signed certificate made on first
 * start and kept across restarts, or the installer's own PEM files. Real clients only: https with
 * the certificate as CA, mqtt.js over mqtts://, Debian's chromium.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Writable } from 'node:stream';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createSelfSigned, loadTls } from '../../src/common/tls.js';
import type { GatewayContext } from '../../src/gateway/context.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { createMetrics } from '../../src/gateway/metrics.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { WEB_ROOT } from '../../src/web/webRoutes.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { tempDir, until } from '../helpers/gatewayHarness.js';

const DEVICE = { username: 'till-1', password: 'till password 1' };
const ADMIN_PASSWORD = 'installer password 1';

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

function loggingContext(): GatewayContext & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as LogLine), done()) }));
  return { log, metrics: createMetrics(), now: Date.now, lines };
}

const running: { gateway: Gateway; app: FastifyInstance }[] = [];
afterEach(async () => {
  for (const { gateway, app } of running.splice(0)) {
    await app.close();
    await gateway.stop();
  }
});

async function start(rawConfig: Record<string, unknown>, ctx = loggingContext()) {
  const gateway = await Gateway.start({ ctx, rawConfig });
  const app = buildServer(gateway, ctx);
  running.push({ gateway, app });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return { gateway, app, port, ctx };
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  fingerprint: string;
}

/** An HTTPS request that trusts only `ca` (the gateway's certificate). */
function httpsRequest(port: number, ca: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, ca, method: options.method ?? 'GET', path: options.path, headers: options.headers, agent: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, fingerprint }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A plain HTTP request: resolves with the status or the error it ended with. */
function plainRequest(port: number, pathName: string): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      resolve({ status: res.statusCode });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

/** Connects and resolves whether the broker accepted the MQTT session. */
function tryMqtt(url: string, options: mqtt.IClientOptions): Promise<'connected' | 'failed'> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { ...options, reconnectPeriod: 0, connectTimeout: 5_000 });
    const done = (result: 'connected' | 'failed'): void => {
      client.end(true);
      resolve(result);
    };
    client.once('connect', () => done('connected'));
    client.once('error', () => done('failed'));
    client.once('close', () => done('failed'));
  });
}

const sensors = (extra: Record<string, unknown> = {}) => ({
  broker: { mode: 'embedded', host: '127.0.0.1', port: 0, users: [DEVICE], ...extra },
  mqtt: [{ id: 'till', topic: 'store/pos/+', profile: 'pos', currency: 'EUR' }],
});

describe('TLS by default (self-signed)', () => {
  it('serves the UI and API over HTTPS only, with the generated certificate, HSTS and Secure session cookies', async () => {
    const dataDir = await tempDir('tls-https');
    const { gateway, port, ctx } = await start({ data_dir: dataDir });
    const certFile = path.join(dataDir, 'tls', 'cert.pem');
    const ca = readFileSync(certFile, 'utf8');
    const fingerprint = new X509Certificate(ca).fingerprint256;
    expect(statSync(path.join(dataDir, 'tls', 'key.pem')).mode & 0o777).toBe(0o600);
    const san = new X509Certificate(ca).subjectAltName ?? '';
    expect(san).toContain('DNS:localhost');
    expect(san).toContain('IP Address:127.0.0.1');

    // One log line with the fingerprint, and the same in the API for the dashboard.
    const logged = ctx.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes(fingerprint));
    expect(logged).toHaveLength(1);
    expect(gateway.tls?.fingerprint256).toBe(fingerprint);
    const token = readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
    const status = await httpsRequest(port, ca, { path: '/api/status', headers: { authorization: `Bearer ${token}` } });
    expect(status.status).toBe(200);
    expect(status.fingerprint).toBe(fingerprint);
    expect((JSON.parse(status.body) as { tls: unknown }).tls).toEqual({ mode: 'self-signed', fingerprint_sha256: fingerprint, cert_file: certFile });
    expect(status.headers['strict-transport-security']).toBe('max-age=31536000');

    // Prometheus scrapes over HTTPS too.
    const metrics = await httpsRequest(port, ca, { path: '/metrics' });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/storepulse_/);

    // First-run setup over HTTPS: the session cookie is Secure.
    const setupCode = readFileSync(path.join(dataDir, 'setup-code'), 'utf8').trim();
    const setup = await httpsRequest(port, ca, { method: 'POST', path: '/ui/api/setup', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setup_code: setupCode, password: ADMIN_PASSWORD }) });
    expect(setup.status).toBe(200);
    const cookie = String(setup.headers['set-cookie']);
    expect(cookie).toMatch(/storepulse_session=/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/HttpOnly/);

    // Plain HTTP to the same port gets no HTTP response.
    const plain = await plainRequest(port, '/healthz');
    expect(plain.status).toBeUndefined();
    expect(plain.error).toBeDefined();
  });

  it('keeps the key and certificate across a restart (same fingerprint)', async () => {
    const dataDir = await tempDir('tls-restart');
    const first = await start({ data_dir: dataDir });
    const fingerprint = first.gateway.tls!.fingerprint256;
    expect(first.gateway.tls!.generated).toBe(true);
    const keyBefore = readFileSync(path.join(dataDir, 'tls', 'key.pem'), 'utf8');
    for (const { gateway, app } of running.splice(0)) {
      await app.close();
      await gateway.stop();
    }
    const second = await start({ data_dir: dataDir });
    expect(second.gateway.tls!.generated).toBe(false);
    expect(second.gateway.tls!.fingerprint256).toBe(fingerprint);
    expect(readFileSync(path.join(dataDir, 'tls', 'key.pem'), 'utf8')).toBe(keyBefore);
    const res = await httpsRequest(second.port, readFileSync(path.join(dataDir, 'tls', 'cert.pem'), 'utf8'), { path: '/healthz' });
    expect(res.status).toBe(200);
    expect(res.fingerprint).toBe(fingerprint);
  });

  it('runs the sensor broker as MQTTS: a reading over mqtts:// is stored, plain mqtt:// to that port is refused', async () => {
    const dataDir = await tempDir('tls-mqtts');
    const { gateway } = await start({ data_dir: dataDir, sensors: sensors() });
    const ca = readFileSync(path.join(dataDir, 'tls', 'cert.pem'), 'utf8');
    const port = gateway.sensors!.brokerPort!;

    expect(await tryMqtt(`mqtt://127.0.0.1:${port}`, { ...DEVICE })).toBe('failed');

    const device = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, { ...DEVICE, ca, reconnectPeriod: 0 });
    try {
      expect(((device.stream as TLSSocket).getPeerCertificate() as { fingerprint256: string }).fingerprint256).toBe(gateway.tls!.fingerprint256);
      await device.publishAsync('store/pos/till-1', JSON.stringify({ amount: 12.5, ts: new Date().toISOString() }), { qos: 1 });
    } finally {
      await device.endAsync();
    }
    const till = await until(() => gateway.status().sensors?.sensors.find((s) => s.id === 'till'), (s) => (s?.accepted ?? 0) === 1, 10_000, 'the reading to be accepted');
    expect(till?.rejected).toBe(0);
  });

  it('opens a plain MQTT listener next to MQTTS only when plain_port is configured', async () => {
    const dataDir = await tempDir('tls-plain-port');
    const { gateway, ctx } = await start({ data_dir: dataDir, sensors: sensors({ plain_port: 0 }) });
    const line = ctx.lines.find((l) => l.msg.startsWith('sensor broker listening'));
    expect(line).toMatchObject({ tls: true, port: gateway.sensors!.brokerPort });
    const plainPort = line!.plain_port as number;
    expect(plainPort).toBeGreaterThan(0);
    expect(await tryMqtt(`mqtt://127.0.0.1:${plainPort}`, { ...DEVICE })).toBe('connected');
  });
});

describe('tls.mode files and off', () => {
  it('serves the given certificate and key', async () => {
    const dir = await tempDir('tls-files');
    await createSelfSigned(path.join(dir, 'pki'), ['DNS:localhost', 'IP:127.0.0.1']);
    const certFile = path.join(dir, 'pki', 'cert.pem');
    const ca = readFileSync(certFile, 'utf8');
    const { gateway, port } = await start({ data_dir: path.join(dir, 'data'), tls: { mode: 'files', cert_file: certFile, key_file: path.join(dir, 'pki', 'key.pem') } });
    expect(existsSync(path.join(dir, 'data', 'tls'))).toBe(false);
    const res = await httpsRequest(port, ca, { path: '/healthz' });
    expect(res.status).toBe(200);
    expect(res.fingerprint).toBe(new X509Certificate(ca).fingerprint256);
    expect(gateway.status().tls).toEqual({ mode: 'files', fingerprint_sha256: res.fingerprint, cert_file: certFile });
  });

  it('refuses to start with unreadable files, naming the setting and the path', async () => {
    const dir = await tempDir('tls-missing');
    const missing = path.join(dir, 'nope.pem');
    await expect(Gateway.start({ ctx: loggingContext(), rawConfig: { data_dir: dir, tls: { mode: 'files', cert_file: missing, key_file: missing } } })).rejects.toThrow(`tls.cert_file: cannot read ${missing}`);
  });

  it('says what to do when openssl is missing', async () => {
    const dir = await tempDir('tls-no-openssl');
    await expect(loadTls({ mode: 'self-signed' }, dir, { openssl: path.join(dir, 'no-such-openssl') })).rejects.toThrow(/needs the ".*no-such-openssl" command.*apt-get install openssl/);
    expect(existsSync(path.join(dir, 'tls', 'cert.pem'))).toBe(false);
  });

  it('validates the section: files needs both paths', async () => {
    const { parseConfig } = await import('../../src/gateway/config/loadConfig.js');
    const result = parseConfig({ tls: { mode: 'files', cert_file: '/x.pem' } }, {});
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.join(' ')).toMatch(/tls\.key_file/);
    const defaults = parseConfig({}, {});
    expect(defaults.ok && defaults.config.tls.mode).toBe('self-signed');
  });

  it('speaks plain HTTP only when tls.mode off is written', async () => {
    const dataDir = await tempDir('tls-off');
    const { port, gateway } = await start({ data_dir: dataDir, tls: { mode: 'off' } });
    expect(await plainRequest(port, '/healthz')).toEqual({ status: 200 });
    expect(gateway.status().tls).toEqual({ mode: 'off', fingerprint_sha256: null, cert_file: null });
    expect(existsSync(path.join(dataDir, 'tls'))).toBe(false);
  });
});

describe.skipIf(!hasChromium())('the web UI in chromium over HTTPS', () => {
  it('loads, keeps its Secure session after setup and shows the certificate fingerprint on the dashboard', async () => {
    if (!existsSync(path.join(WEB_ROOT, 'app.js'))) spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'buildWeb.mjs')], { stdio: 'inherit' });
    const dataDir = await tempDir('tls-browser');
    const { gateway, port } = await start({ data_dir: dataDir });
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const response = await page.goto(`https://127.0.0.1:${port}/`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['strict-transport-security']).toBe('max-age=31536000');
      await page.getByText('Welcome: set the admin password').waitFor();
      await page.fill('input[name=setup_code]', readFileSync(path.join(dataDir, 'setup-code'), 'utf8').trim());
      await page.fill('input[name=password]', ADMIN_PASSWORD);
      await page.fill('input[name=confirm]', ADMIN_PASSWORD);
      await page.click('button[type=submit]');
      await page.locator('#kpi-visitors').waitFor();
      const cookie = (await context.cookies()).find((c) => c.name === 'storepulse_session');
      expect(cookie?.secure).toBe(true);
      expect(await page.locator('#tls-fingerprint').textContent()).toContain(gateway.tls!.fingerprint256);
    } finally {
      await browser.close();
    }
  });
});
