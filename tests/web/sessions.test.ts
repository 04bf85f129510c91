/**
 * Web UI sessions kept in the gateway's SQLite file: they survive a restart of the gateway and its
 * HTTP server on the same data_dir, expire after 8 h idle, end on a password change (all but the
 * session that made it) and on account removal, and the database holds only SHA-256 of the tokens.
 * Also: a password hash made at an older scrypt cost still logs in and is upgraded at that login.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/dataStore.js';
import { hashParams, hashPassword, SCRYPT_PARAMS, verifyPassword } from '../../src/web/auth/passwords.js';
import { IDLE_MS, SESSION_COOKIE } from '../../src/web/auth/sessions.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';
import { startInProcess } from '../helpers/inProcessGateway.js';

const ADMIN_PASSWORD = 'correct horse battery';
const VIEWER_PASSWORD = 'viewer password 1';

interface Clock {
  now: number;
}

/** The gateway and its HTTP server on this data_dir, with a clock the test moves. */
function start(dataDir: string, clock: Clock) {
  return startInProcess(dataDir, { ...testContext(), now: () => clock.now });
}

/** users.json with these accounts (hashes made here, so no setup round trip is needed). */
async function writeUsers(dataDir: string, users: { username: string; role: 'installer' | 'viewer'; password: string; params?: typeof SCRYPT_PARAMS }[]) {
  const stored = await Promise.all(
    users.map(async (u) => ({ username: u.username, role: u.role, hash: await hashPassword(u.password, u.params), created_at: new Date(0).toISOString() })),
  );
  writeFileSync(path.join(dataDir, 'users.json'), `${JSON.stringify({ users: stored }, null, 2)}\n`, { mode: 0o600 });
}

const readUsers = (dataDir: string) => (JSON.parse(readFileSync(path.join(dataDir, 'users.json'), 'utf8')) as { users: { username: string; hash: string }[] }).users;

async function newDataDir(prefix: string): Promise<string> {
  const dir = path.join(await tempDir(prefix), 'data');
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function login(app: FastifyInstance, username: string, password: string, remoteAddress = '10.2.0.1') {
  const res = await app.inject({ method: 'POST', url: '/ui/api/login', remoteAddress, payload: { username, password } });
  const cookie = String(res.headers['set-cookie'] ?? '').split(';')[0]!;
  return { res, cookie, token: cookie.slice(SESSION_COOKIE.length + 1) };
}

const whoIs = async (app: FastifyInstance, cookie: string) => (await app.inject({ url: '/ui/api/session', headers: { cookie } })).json().user as { username: string; role: string } | null;
const usersStatus = async (app: FastifyInstance, cookie: string) => (await app.inject({ url: '/ui/api/users', headers: { cookie } })).statusCode;

function sessionRows(dataDir: string) {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare('SELECT * FROM web_sessions').all() as { token_hash: Buffer; username: string; role: string; created_at: number; last_seen_at: number; expires_at: number }[];
  } finally {
    db.close();
  }
}

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);

describe('web UI sessions in the database', () => {
  it('survive a restart of the gateway and its server on the same data_dir', async () => {
    const dataDir = await newDataDir('sessions-restart');
    await writeUsers(dataDir, [{ username: 'admin', role: 'installer', password: ADMIN_PASSWORD }]);
    const clock = { now: T0 };
    const first = await start(dataDir, clock);
    const { res, cookie } = await login(first.app, 'admin', ADMIN_PASSWORD);
    expect(res.statusCode).toBe(200);
    expect(await usersStatus(first.app, cookie)).toBe(200);
    await first.stop();

    clock.now += 3_600_000;
    const second = await start(dataDir, clock);
    expect(await whoIs(second.app, cookie)).toEqual({ username: 'admin', role: 'installer' });
    expect(await usersStatus(second.app, cookie)).toBe(200);
    // The REST API takes the same session.
    expect((await second.app.inject({ url: '/api/status', headers: { cookie } })).statusCode).toBe(200);
    // Logging out ends it for good, restart or not.
    expect((await second.app.inject({ method: 'POST', url: '/ui/api/logout', headers: { cookie } })).statusCode).toBe(200);
    await second.stop();
    const third = await start(dataDir, clock);
    expect(await whoIs(third.app, cookie)).toBeNull();
    expect(await usersStatus(third.app, cookie)).toBe(401);
  });

  it('stores only the SHA-256 of the token, with user, role and created / last-seen / expiry times', async () => {
    const dataDir = await newDataDir('sessions-hash');
    await writeUsers(dataDir, [{ username: 'admin', role: 'installer', password: ADMIN_PASSWORD }]);
    const clock = { now: T0 };
    const { app, stop } = await start(dataDir, clock);
    const { token } = await login(app, 'admin', ADMIN_PASSWORD);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await stop(); // closes the database: everything is in the files now

    const rows = sessionRows(dataDir);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash.equals(createHash('sha256').update(token).digest())).toBe(true);
    expect(rows[0]).toMatchObject({ username: 'admin', role: 'installer', created_at: T0, last_seen_at: T0, expires_at: T0 + IDLE_MS });
    // Not in any column, nor anywhere in the database's files (WAL included), in any encoding.
    const raw = Buffer.from(token, 'base64url');
    for (const file of readdirSync(dataDir).filter((f) => f.startsWith(DATABASE_FILE))) {
      const bytes = readFileSync(path.join(dataDir, file));
      expect(bytes.includes(token), file).toBe(false);
      expect(bytes.includes(raw), file).toBe(false);
    }
  });

  it('expire after 8 h without use, also across a restart, and expired rows are pruned', async () => {
    const dataDir = await newDataDir('sessions-expiry');
    await writeUsers(dataDir, [{ username: 'admin', role: 'installer', password: ADMIN_PASSWORD }]);
    const clock = { now: T0 };
    const first = await start(dataDir, clock);
    const active = await login(first.app, 'admin', ADMIN_PASSWORD);
    const idle = await login(first.app, 'admin', ADMIN_PASSWORD);
    // Used after 7 h: its expiry moves on; the other one is left alone.
    clock.now = T0 + 7 * 3_600_000;
    expect(await usersStatus(first.app, active.cookie)).toBe(200);
    clock.now = T0 + IDLE_MS + 1;
    expect(await usersStatus(first.app, idle.cookie)).toBe(401);
    expect(await usersStatus(first.app, active.cookie)).toBe(200);
    expect(sessionRows(dataDir).map((r) => r.expires_at)).toEqual([T0 + IDLE_MS + 1 + IDLE_MS]);
    await first.stop();

    // Down for longer than the idle time: the session is over after the restart, and its row is gone.
    clock.now = T0 + IDLE_MS + 1 + IDLE_MS + 1;
    const second = await start(dataDir, clock);
    expect(await usersStatus(second.app, active.cookie)).toBe(401);
    expect(await whoIs(second.app, active.cookie)).toBeNull();
    expect(sessionRows(dataDir)).toHaveLength(0);
    // A new login still works.
    expect(await usersStatus(second.app, (await login(second.app, 'admin', ADMIN_PASSWORD)).cookie)).toBe(200);
  });

  it('a password change ends the user’s other sessions but not the one that made it, nor other users’', async () => {
    const dataDir = await newDataDir('sessions-password');
    await writeUsers(dataDir, [
      { username: 'admin', role: 'installer', password: ADMIN_PASSWORD },
      { username: 'manager', role: 'viewer', password: VIEWER_PASSWORD },
    ]);
    const clock = { now: T0 };
    const { app, stop } = await start(dataDir, clock);
    const laptop = await login(app, 'manager', VIEWER_PASSWORD);
    const phone = await login(app, 'manager', VIEWER_PASSWORD);
    const admin = await login(app, 'admin', ADMIN_PASSWORD);
    const change = (cookie: string, current: string, next: string) =>
      app.inject({ method: 'POST', url: '/ui/api/account/password', remoteAddress: '10.2.0.7', headers: { cookie }, payload: { current_password: current, new_password: next } });

    // A wrong current password changes nothing and ends nothing.
    const wrong = await change(laptop.cookie, 'not my password', 'new viewer password');
    expect(wrong.statusCode).toBe(403);
    expect(await whoIs(app, phone.cookie)).toMatchObject({ username: 'manager' });
    // Too short: refused, nothing ends.
    expect((await change(laptop.cookie, VIEWER_PASSWORD, 'short')).statusCode).toBe(400);
    expect(await whoIs(app, phone.cookie)).toMatchObject({ username: 'manager' });

    const ok = await change(laptop.cookie, VIEWER_PASSWORD, 'new viewer password');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ ok: true, ended_sessions: 1 });
    expect(await whoIs(app, laptop.cookie)).toEqual({ username: 'manager', role: 'viewer' });
    expect(await whoIs(app, phone.cookie)).toBeNull();
    expect(await whoIs(app, admin.cookie)).toEqual({ username: 'admin', role: 'installer' });
    expect((await login(app, 'manager', VIEWER_PASSWORD, '10.2.0.8')).res.statusCode).toBe(401);
    expect((await login(app, 'manager', 'new viewer password', '10.2.0.8')).res.statusCode).toBe(200);
    // And it stays so after a restart.
    await stop();
    const again = await start(dataDir, clock);
    expect(await whoIs(again.app, laptop.cookie)).toEqual({ username: 'manager', role: 'viewer' });
    expect(await whoIs(again.app, phone.cookie)).toBeNull();
  });

  it('an installer setting a user’s password ends all of that user’s sessions; removing a user ends theirs', async () => {
    const dataDir = await newDataDir('sessions-reset');
    await writeUsers(dataDir, [
      { username: 'admin', role: 'installer', password: ADMIN_PASSWORD },
      { username: 'manager', role: 'viewer', password: VIEWER_PASSWORD },
    ]);
    const { app } = await start(dataDir, { now: T0 });
    const admin = await login(app, 'admin', ADMIN_PASSWORD);
    const manager = await login(app, 'manager', VIEWER_PASSWORD);
    const reset = await app.inject({ method: 'PUT', url: '/ui/api/users/manager/password', headers: { cookie: admin.cookie }, payload: { password: 'a new password 2' } });
    expect(reset.statusCode).toBe(200);
    expect(await whoIs(app, manager.cookie)).toBeNull();
    expect(await whoIs(app, admin.cookie)).toMatchObject({ username: 'admin' });
    // A viewer may not set passwords; an unknown account is 404.
    const again = await login(app, 'manager', 'a new password 2');
    expect((await app.inject({ method: 'PUT', url: '/ui/api/users/admin/password', headers: { cookie: again.cookie }, payload: { password: 'a new password 3' } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'PUT', url: '/ui/api/users/nobody/password', headers: { cookie: admin.cookie }, payload: { password: 'a new password 3' } })).statusCode).toBe(404);

    expect((await app.inject({ method: 'DELETE', url: '/ui/api/users/manager', headers: { cookie: admin.cookie } })).statusCode).toBe(200);
    expect(await whoIs(app, again.cookie)).toBeNull();
    expect(sessionRows(dataDir).map((r) => r.username)).toEqual(['admin']);
  });

  it('a session whose account is gone after a restart (users.json reset) is not honoured', async () => {
    const dataDir = await newDataDir('sessions-reset-users');
    await writeUsers(dataDir, [{ username: 'admin', role: 'installer', password: ADMIN_PASSWORD }]);
    const clock = { now: T0 };
    const first = await start(dataDir, clock);
    const { cookie } = await login(first.app, 'admin', ADMIN_PASSWORD);
    await first.stop();
    await writeUsers(dataDir, [{ username: 'other', role: 'installer', password: ADMIN_PASSWORD }]);
    const second = await start(dataDir, clock);
    expect(await usersStatus(second.app, cookie)).toBe(401);
    expect(sessionRows(dataDir)).toHaveLength(0);
  });

  it('ignores malformed and forged cookies', async () => {
    const dataDir = await newDataDir('sessions-forged');
    await writeUsers(dataDir, [{ username: 'admin', role: 'installer', password: ADMIN_PASSWORD }]);
    const { app } = await start(dataDir, { now: T0 });
    const { token } = await login(app, 'admin', ADMIN_PASSWORD);
    const hash = createHash('sha256').update(token).digest();
    for (const value of ['%E0%A4%A', '%', 'x'.repeat(5000), hash.toString('hex'), hash.toString('base64url'), `${token}x`, token.slice(1)]) {
      const cookie = `${SESSION_COOKIE}=${value}`;
      expect((await app.inject({ url: '/ui/api/users', headers: { cookie } })).statusCode, value).toBe(401);
      expect((await app.inject({ url: '/api/status', headers: { cookie } })).statusCode, value).toBe(401);
      expect((await app.inject({ url: '/ui/api/session', headers: { cookie } })).statusCode, value).toBe(200);
    }
  });
});

describe('password hashes at an older scrypt cost', () => {
  it('still log in, and are re-hashed at the current cost at that login', async () => {
    const dataDir = await newDataDir('sessions-upgrade');
    const old = { N: 2 ** 14, r: 8, p: 1 };
    await writeUsers(dataDir, [
      { username: 'admin', role: 'installer', password: ADMIN_PASSWORD, params: old },
      { username: 'manager', role: 'viewer', password: VIEWER_PASSWORD, params: old },
    ]);
    const before = readUsers(dataDir);
    expect(before.map((u) => hashParams(u.hash))).toEqual([old, old]);
    const { app } = await start(dataDir, { now: T0 });

    // A failed login does not touch the hash.
    expect((await login(app, 'admin', 'wrong password!')).res.statusCode).toBe(401);
    expect(readUsers(dataDir)[0]!.hash).toBe(before[0]!.hash);

    const { res, cookie } = await login(app, 'admin', ADMIN_PASSWORD);
    expect(res.statusCode).toBe(200);
    expect(await usersStatus(app, cookie)).toBe(200);
    const after = readUsers(dataDir);
    expect(hashParams(after[0]!.hash)).toEqual(SCRYPT_PARAMS);
    expect(after[0]!.hash).toMatch(new RegExp(`^scrypt\\$${SCRYPT_PARAMS.N}\\$8\\$1\\$`));
    expect(await verifyPassword(ADMIN_PASSWORD, after[0]!.hash)).toBe(true);
    // The other account keeps its old hash until it logs in.
    expect(after[1]!.hash).toBe(before[1]!.hash);
    // The upgraded hash logs in (and is not rewritten again).
    expect((await login(app, 'admin', ADMIN_PASSWORD)).res.statusCode).toBe(200);
    expect(readUsers(dataDir)[0]!.hash).toBe(after[0]!.hash);
  });

  it('hashes carry their parameters; absurd or malformed ones are refused, not computed', async () => {
    expect(SCRYPT_PARAMS.N).toBeGreaterThanOrEqual(2 ** 15);
    const hash = await hashPassword('same password');
    expect(hashParams(hash)).toEqual(SCRYPT_PARAMS);
    expect(hashParams('scrypt$1000$8$1$c2FsdA==$a2V5')).toBeUndefined(); // N not a power of two
    expect(await verifyPassword('x', 'scrypt$1073741824$8$1$c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5')).toBe(false); // absurd cost: refused, not computed
  });
});
