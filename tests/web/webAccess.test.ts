/**
 * Web UI access control, route by route: the server's own route table is walked, so a route added
 * later without a role is caught. Also accounts (scrypt), sessions (cookie flags), the login rate
 * limit, and scene edits written atomically with the previous config kept.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { apiTokens } from '../../src/gateway/http/apiAuth.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { hashPassword, SCRYPT_PARAMS, verifyPassword } from '../../src/web/auth/passwords.js';
import type { WebAuth } from '../../src/web/webAuth.js';
import { tempDir, testContext, writeConfig } from '../helpers/gatewayHarness.js';

const ADMIN_PASSWORD = 'correct horse battery';
const VIEWER_PASSWORD = 'viewer password 1';

describe('web UI access control', () => {
  let gateway: Gateway;
  let app: FastifyInstance;
  let configFile: string;
  let installerCookie = '';
  let viewerCookie = '';

  const cookieOf = (res: { headers: Record<string, unknown> }): string => String(res.headers['set-cookie']).split(';')[0]!;

  beforeAll(async () => {
    const dir = await tempDir('webui');
    configFile = path.join(dir, 'gateway.yaml');
    // A camera that will not connect is enough here: access control does not need frames.
    await writeConfig(
      configFile,
      `# installer comment that must survive edits\ndata_dir: ${dir}/data\ncameras:\n  - id: door\n    source: { kind: rtsp, url: "rtsp://127.0.0.1:1/none" }\n    lines: []\n`,
    );
    gateway = await Gateway.start({ ctx: testContext(), configPath: configFile });
    app = buildServer(gateway, testContext());
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await gateway?.stop();
  });

  it('asks for the admin password on first run, once, and stores only a scrypt hash', async () => {
    expect((await app.inject({ url: '/ui/api/session' })).json()).toMatchObject({ setup_needed: true, user: null });
    // The first run is claimed with the setup code from the box (tests/web/setupCode.test.ts has the details).
    expect((await app.inject({ method: 'POST', url: '/ui/api/setup', payload: { password: ADMIN_PASSWORD } })).statusCode).toBe(403);
    const setup_code = readFileSync(path.join(gateway.config.data_dir, 'setup-code'), 'utf8').trim();
    expect((await app.inject({ method: 'POST', url: '/ui/api/setup', payload: { setup_code, password: 'short' } })).statusCode).toBe(400);
    const res = await app.inject({ method: 'POST', url: '/ui/api/setup', payload: { setup_code, password: ADMIN_PASSWORD } });
    expect(res.statusCode).toBe(200);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    installerCookie = cookieOf(res);
    expect((await app.inject({ method: 'POST', url: '/ui/api/setup', payload: { setup_code, password: 'another password' } })).statusCode).toBe(409);
    const stored = readFileSync(path.join(gateway.config.data_dir, 'users.json'), 'utf8');
    expect(stored).not.toContain(ADMIN_PASSWORD);
    expect(stored).toMatch(new RegExp(`"hash": "scrypt\\$${SCRYPT_PARAMS.N}\\$8\\$1\\$`));
  });

  it('hashes with a salt and verifies only the right password', async () => {
    const a = await hashPassword('same password');
    const b = await hashPassword('same password');
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password', a)).toBe(true);
    expect(await verifyPassword('same passwore', a)).toBe(false);
  });

  it('creates a viewer; the viewer logs in with its own role', async () => {
    const created = await app.inject({ method: 'POST', url: '/ui/api/users', headers: { cookie: installerCookie }, payload: { username: 'manager', password: VIEWER_PASSWORD, role: 'viewer' } });
    expect(created.statusCode).toBe(200);
    const login = await app.inject({ method: 'POST', url: '/ui/api/login', payload: { username: 'manager', password: VIEWER_PASSWORD } });
    expect(login.json()).toEqual({ user: { username: 'manager', role: 'viewer' } });
    viewerCookie = cookieOf(login);
  });

  it('refuses every route without the role it needs', async () => {
    const routes = (app as unknown as { webAuth: WebAuth }).webAuth.routes;
    const protectedRoutes = routes.filter((r) => r.role !== 'open' && r.role !== 'public');
    expect(protectedRoutes.length).toBeGreaterThan(25);
    const token = apiTokens(gateway.config)[0]!.token;
    for (const route of protectedRoutes) {
      const url = route.url.replace(':id', 'door').replace(':username', 'nobody');
      const anonymous = await app.inject({ method: route.method as 'GET', url, payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : {} });
      expect(anonymous.statusCode, `${route.method} ${route.url} without credentials`).toBe(401);
      const asViewer = await app.inject({ method: route.method as 'GET', url, headers: { cookie: viewerCookie }, payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : {} });
      const viewerAllowed = route.role === 'viewer' || (route.role === 'token' && route.method === 'GET');
      if (viewerAllowed) expect(asViewer.statusCode, `${route.method} ${route.url} as viewer`).not.toBe(403);
      else expect([401, 403], `${route.method} ${route.url} as viewer`).toContain(asViewer.statusCode);
      // A forged cookie is nobody.
      const forged = await app.inject({ method: route.method as 'GET', url, headers: { cookie: 'storepulse_session=forged' } });
      expect(forged.statusCode).toBe(401);
    }
    // The REST API still takes its bearer token.
    expect((await app.inject({ url: '/api/status', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    // Viewers may not lower the pixelation.
    expect((await app.inject({ url: '/ui/api/cameras/door/frame.jpg?mode=people', headers: { cookie: viewerCookie } })).statusCode).toBe(403);
  });

  it('rate-limits failed logins per address', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await app.inject({ method: 'POST', url: '/ui/api/login', remoteAddress: '10.0.0.9', payload: { username: 'admin', password: `guess ${i}` } })).statusCode).toBe(401);
    }
    const locked = await app.inject({ method: 'POST', url: '/ui/api/login', remoteAddress: '10.0.0.9', payload: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not locked out.
    expect((await app.inject({ method: 'POST', url: '/ui/api/login', remoteAddress: '10.0.0.10', payload: { username: 'admin', password: ADMIN_PASSWORD } })).statusCode).toBe(200);
  });

  it('removes an account and ends its sessions, but never the last installer', async () => {
    const login = await app.inject({ method: 'POST', url: '/ui/api/login', payload: { username: 'manager', password: VIEWER_PASSWORD } });
    const managerCookie = cookieOf(login);
    expect((await app.inject({ url: '/ui/api/cameras', headers: { cookie: managerCookie } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/ui/api/users/manager', headers: { cookie: installerCookie } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/ui/api/cameras', headers: { cookie: managerCookie } })).statusCode).toBe(401);
    const last = await app.inject({ method: 'DELETE', url: '/ui/api/users/admin', headers: { cookie: installerCookie } });
    expect(last.statusCode).toBe(400);
    expect(last.json().error.message).toMatch(/at least one installer/);
  });

  it('saves a scene atomically, keeps the previous file and comments, applies it live, and refuses an invalid one', async () => {
    const before = readFileSync(configFile, 'utf8');
    const scene = { lines: [{ name: 'entrance', points: [[0.1, 0.5], [0.9, 0.5]] }], zones: [{ name: 'promo', polygon: [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]] }] };
    const saved = await app.inject({ method: 'PUT', url: '/ui/api/cameras/door/scene', headers: { cookie: installerCookie }, payload: scene });
    expect(saved.statusCode).toBe(200);
    expect(readFileSync(`${configFile}.prev`, 'utf8')).toBe(before);
    const after = readFileSync(configFile, 'utf8');
    expect(after).toContain('# installer comment that must survive edits');
    expect(after).toContain('entrance');
    expect(gateway.config.cameras[0]!.lines.map((l) => l.name)).toEqual(['entrance']);
    expect(existsSync(`${configFile}.${process.pid}.tmp`)).toBe(false);

    const bad = await app.inject({ method: 'PUT', url: '/ui/api/cameras/door/scene', headers: { cookie: installerCookie }, payload: { lines: [{ name: 'x', points: [[0.5, 0.5], [0.5, 0.505]] }], zones: [] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.join()).toMatch(/cameras\.0\.lines\.0\.points: degenerate line/);
    expect(readFileSync(configFile, 'utf8')).toBe(after);
  });

  it('computes a calibration with its reprojection error', async () => {
    const body = { image_points: [[0.1, 0.6], [0.9, 0.6], [0.95, 0.95], [0.05, 0.95]], plan_points: [[2, 2], [8, 2], [8, 6], [2, 6]] };
    const preview = await app.inject({ method: 'POST', url: '/ui/api/cameras/door/calibration/preview', headers: { cookie: installerCookie }, payload: body });
    expect(preview.json().error_m).toBeLessThan(1e-6);
    const folded = await app.inject({ method: 'POST', url: '/ui/api/cameras/door/calibration/preview', headers: { cookie: installerCookie }, payload: { ...body, plan_points: [[2, 2], [8, 6], [8, 2], [2, 6]] } });
    expect(folded.statusCode).toBe(400);
    const saved = await app.inject({ method: 'PUT', url: '/ui/api/cameras/door/calibration', headers: { cookie: installerCookie }, payload: body });
    expect(saved.statusCode).toBe(200);
    expect(gateway.config.cameras[0]!.calibration?.plan_points).toEqual(body.plan_points);
  });
});
