/**
 * The input-validation bugs the HTTP fuzz test (httpFuzz.test.ts) found, one case each, so they stay
 * fixed whatever sequence the fuzzer's seed draws:
 * - access checks on the raw URL: `/%75i/api/users` and `GET http://host/api/status` reached
 *   protected routes without a session or token;
 * - a malformed %-escape in the session cookie was a 500;
 * - times beyond what a Date holds (`to=8640000000000001`) were a 500;
 * - the floor plan upload wrote any body (JSON, a string, random bytes) as the plan image, or failed
 *   with a 500 and left a temp file;
 * - deleting an account that does not exist answered 200 (and rewrote users.json).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { apiTokens } from '../../src/gateway/http/apiAuth.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { hashPassword } from '../../src/web/auth/passwords.js';
import { tempDir, testContext, writeConfig } from '../helpers/gatewayHarness.js';

const PASSWORD = 'installer password 1';

describe('input validation found by the HTTP fuzz test', () => {
  let gateway: Gateway;
  let app: FastifyInstance;
  let configFile: string;
  let dataDir: string;
  let cookie: string;
  let authorization: string;

  beforeAll(async () => {
    const dir = await tempDir('input-validation');
    dataDir = path.join(dir, 'data');
    configFile = path.join(dir, 'gateway.yaml');
    await writeConfig(configFile, `data_dir: ${dataDir}\ntls: { mode: "off" } # plain HTTP: these requests are raw\ncameras:\n  - id: door\n    enabled: false\n    source: { kind: rtsp, url: "rtsp://127.0.0.1:1/none" }\n`);
    gateway = await Gateway.start({ ctx: testContext(), configPath: configFile });
    writeFileSync(path.join(dataDir, 'users.json'), JSON.stringify({ users: [{ username: 'admin', role: 'installer', hash: await hashPassword(PASSWORD), created_at: new Date(0).toISOString() }] }));
    app = buildServer(gateway, testContext());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const login = await app.inject({ method: 'POST', url: '/ui/api/login', payload: { username: 'admin', password: PASSWORD } });
    cookie = String(login.headers['set-cookie']).split(';')[0]!;
    authorization = `Bearer ${apiTokens(gateway.config)[0]!.token}`;
  });
  afterAll(async () => {
    await app?.close();
    await gateway?.stop();
  });

  /** A request sent as written (inject and fetch would normalise the target). */
  const raw = (target: string, headers: Record<string, string> = {}): Promise<number> =>
    new Promise((resolve, reject) => {
      const port = (app.server.address() as { port: number }).port;
      const req = http.request({ host: '127.0.0.1', port, path: target, headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end();
    });

  it('checks access by the route reached, not by how the URL is spelled', async () => {
    for (const target of ['/%75i/api/users', '/ui/%61pi/users', '/%61pi/status', '/a%70i/v1/events', 'http://evil.example/ui/api/users', 'http://evil.example/api/status']) {
      expect(await raw(target), target).toBe(401);
      expect(await raw(target, { cookie }), `${target} with a session`).toBe(200);
    }
    // The API token opens /api only, however /ui/api is spelled.
    expect(await raw('/ui/%61pi/users', { authorization })).toBe(401);
    expect(await raw('/%61pi/status', { authorization })).toBe(200);
  });

  it('treats a session cookie with a malformed %-escape as no session', async () => {
    for (const value of ['%E0%A4%A', '%', '%zz']) {
      expect((await app.inject({ url: '/ui/api/users', headers: { cookie: `storepulse_session=${value}` } })).statusCode).toBe(401);
      expect((await app.inject({ url: '/api/status', headers: { cookie: `storepulse_session=${value}` } })).statusCode).toBe(401);
      expect((await app.inject({ method: 'POST', url: '/ui/api/logout', headers: { cookie: `storepulse_session=${value}` } })).statusCode).toBe(200);
    }
  });

  it('refuses times a Date cannot hold with 400', async () => {
    for (const q of ['to=8640000000000001', 'to=99999999999999999999', 'from=8639999999999999&to=8640000000000000', 'from=%2B275760-09-13T00:00:00.000Z']) {
      for (const route of ['/api/v1/events', '/api/v1/aggregates', '/api/v1/kpis']) {
        const res = await app.inject({ url: `${route}?${q}`, headers: { authorization } });
        expect(res.statusCode, `${route}?${q}`).toBe(400);
        expect(res.json().error.code).toBe('bad_time');
      }
    }
    expect((await app.inject({ url: '/api/v1/events?from=0&to=253402300799999', headers: { authorization } })).statusCode).toBe(200);
  });

  it('takes only a PNG or JPEG as the floor plan image, and writes nothing otherwise', async () => {
    const config = readFileSync(configFile, 'utf8');
    const files = readdirSync(dataDir).sort();
    const put = (payload: string | Buffer, contentType: string) => app.inject({ method: 'PUT', url: '/ui/api/plan/image?width_m=12&height_m=8', headers: { cookie, 'content-type': contentType }, payload });
    expect((await put('{"width_m":1}', 'application/json')).statusCode).toBe(415);
    expect((await put('"plan"', 'application/json')).statusCode).toBe(415);
    expect((await put('plan', 'text/plain')).statusCode).toBe(415);
    const notPng = await put(Buffer.from('not a png at all'), 'image/png');
    expect(notPng.statusCode).toBe(400);
    expect(notPng.json().error.code).toBe('not_an_image');
    expect((await put(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]), 'image/png')).statusCode).toBe(200); // a JPEG, whatever the header says
    expect(gateway.config.floor_plan?.image).toBe('floor-plan.jpg');
    expect(readFileSync(configFile, 'utf8')).not.toBe(config);
    expect(readdirSync(dataDir).filter((f) => !files.includes(f) && !/-(wal|shm)$/.test(f))).toEqual(['floor-plan.jpg']);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(8)]);
    expect((await put(png, 'image/jpeg')).statusCode).toBe(200);
    expect(gateway.config.floor_plan?.image).toBe('floor-plan.png');
  });

  it('answers 404 for deleting an account that does not exist, and leaves users.json alone', async () => {
    const before = readFileSync(path.join(dataDir, 'users.json'), 'utf8');
    const res = await app.inject({ method: 'DELETE', url: '/ui/api/users/nobody', headers: { cookie } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('unknown_user');
    expect(readFileSync(path.join(dataDir, 'users.json'), 'utf8')).toBe(before);
  });
});
