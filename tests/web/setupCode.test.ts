/**
 * The claimed first run: the admin password can only be set with the one-time setup code that the
 * gateway prints in its log and writes to data_dir/setup-code (mode 0600). Missing and wrong codes are
 * refused, wrong ones rate-limited per address; a restart before setup keeps the same code and prints
 * it again; the code works once and is erased after use.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../../src/gateway/context.js';
import { createMetrics } from '../../src/gateway/metrics.js';
import { generateSetupCode, normaliseSetupCode, SETUP_CODE_ALPHABET, SetupCode } from '../../src/web/auth/setupCode.js';
import { tempDir } from '../helpers/gatewayHarness.js';
import { startInProcess } from '../helpers/inProcessGateway.js';

const PASSWORD = 'correct horse battery';
const CODE_FORMAT = new RegExp(`^[${SETUP_CODE_ALPHABET}]{4}-[${SETUP_CODE_ALPHABET}]{4}-[${SETUP_CODE_ALPHABET}]{4}$`);

/** A context whose log lines the test can read. */
function loggingContext(): GatewayContext & { lines: { msg: string; level: number; [key: string]: unknown }[] } {
  const lines: { msg: string; level: number }[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as { msg: string; level: number }), done()) }));
  return { log, metrics: createMetrics(), now: Date.now, lines };
}

async function start(dataDir: string, ctx = loggingContext()) {
  return { ...(await startInProcess(dataDir, ctx)), ctx };
}

const setup = (app: FastifyInstance, payload: Record<string, unknown>, remoteAddress = '10.1.0.1') => app.inject({ method: 'POST', url: '/ui/api/setup', remoteAddress, payload });
const codeFile = (dataDir: string) => path.join(dataDir, 'setup-code');
const readCode = (dataDir: string) => readFileSync(codeFile(dataDir), 'utf8').trim();

describe('first-run setup code', () => {
  it('is generated on first start: printed in one log line and written to data_dir/setup-code with mode 0600', async () => {
    const dataDir = path.join(await tempDir('setup-code'), 'data');
    const { app, ctx } = await start(dataDir);
    const code = readCode(dataDir);
    expect(code).toMatch(CODE_FORMAT);
    expect(statSync(codeFile(dataDir)).mode & 0o777).toBe(0o600);
    const printed = ctx.lines.filter((l) => l.msg.includes(code));
    expect(printed).toHaveLength(1);
    expect(printed[0]!.msg).toContain(codeFile(dataDir));
    expect(printed[0]!.level).toBeGreaterThanOrEqual(40); // warn: visible even with log.level warn
    // Asking the session state (what the first-run page does) does not print it again.
    expect((await app.inject({ url: '/ui/api/session' })).json()).toMatchObject({ setup_needed: true });
    expect(ctx.lines.filter((l) => l.msg.includes(code))).toHaveLength(1);
  });

  it('refuses setup without the code, with a wrong code, and rate-limits wrong codes per address', async () => {
    const dataDir = path.join(await tempDir('setup-code'), 'data');
    const { app, ctx } = await start(dataDir);
    const code = readCode(dataDir);

    for (const payload of [{ password: PASSWORD }, { password: PASSWORD, setup_code: '' }, { password: PASSWORD, setup_code: '   ' }]) {
      const missing = await setup(app, payload);
      expect(missing.statusCode).toBe(403);
      expect(missing.json().error).toMatchObject({ code: 'setup_code_required' });
      expect(missing.json().error.message).toMatch(/data_dir\/setup-code/);
      expect(missing.json().error.message).toMatch(/log/);
    }

    // '1' is not in the alphabet: none of these can be the code.
    const wrongCodes = [`${code.slice(0, -1)}1`, code.slice(0, -1), `${code}A`, 'AAAA-AAAA-AAA1', 'wrong'];
    for (const wrong of wrongCodes) {
      const res = await setup(app, { password: PASSWORD, setup_code: wrong }, '10.1.0.9');
      expect(res.statusCode, `wrong code ${wrong}`).toBe(403);
      expect(res.json().error).toMatchObject({ code: 'bad_setup_code' });
      expect(res.json().error.message).toMatch(/data_dir\/setup-code/);
    }
    // The sixth try from that address is refused even with the right code.
    const locked = await setup(app, { password: PASSWORD, setup_code: code }, '10.1.0.9');
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('too_many_attempts');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(ctx.lines.filter((l) => l.msg === 'web UI: wrong first-run setup code')).toHaveLength(5);
    // Nothing was set up, and the code is still there for the installer.
    expect((await app.inject({ url: '/ui/api/session' })).json()).toMatchObject({ setup_needed: true });
    expect(existsSync(path.join(dataDir, 'users.json'))).toBe(false);
    expect(readCode(dataDir)).toBe(code);

    // Another address with the right code is not locked out.
    const ok = await setup(app, { password: PASSWORD, setup_code: code }, '10.1.0.10');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ user: { username: 'admin', role: 'installer' } });
  });

  it('works once with the right code, then is erased and the route closed', async () => {
    const dataDir = path.join(await tempDir('setup-code'), 'data');
    const { app } = await start(dataDir);
    const code = readCode(dataDir);
    // A password refused by the rules does not use the code up.
    expect((await setup(app, { password: 'short', setup_code: code })).statusCode).toBe(400);
    expect(existsSync(codeFile(dataDir))).toBe(true);

    // Typed in lower case, without the dashes: the same code.
    const res = await setup(app, { password: PASSWORD, setup_code: code.toLowerCase().replaceAll('-', ' ') });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['set-cookie'])).toMatch(/storepulse_session=/);
    expect(existsSync(codeFile(dataDir))).toBe(false);
    expect((await app.inject({ url: '/ui/api/session' })).json()).toMatchObject({ setup_needed: false });
    expect(existsSync(codeFile(dataDir))).toBe(false);

    const again = await setup(app, { password: 'another password', setup_code: code });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('already_set_up');
    const login = await app.inject({ method: 'POST', url: '/ui/api/login', payload: { username: 'admin', password: PASSWORD } });
    expect(login.statusCode).toBe(200);
  });

  it('a restart before setup keeps the same code and prints it again; after setup no code is made', async () => {
    const dataDir = path.join(await tempDir('setup-code'), 'data');
    const first = await start(dataDir);
    const code = readCode(dataDir);
    await first.stop();

    const second = await start(dataDir);
    expect(readCode(dataDir)).toBe(code);
    expect(statSync(codeFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(second.ctx.lines.filter((l) => l.msg.includes(code))).toHaveLength(1);
    expect((await setup(second.app, { password: PASSWORD, setup_code: code })).statusCode).toBe(200);
    expect(existsSync(codeFile(dataDir))).toBe(false);
    await second.stop();

    // With an admin, a restart makes no code and prints none.
    const third = await start(dataDir);
    expect(existsSync(codeFile(dataDir))).toBe(false);
    expect(third.ctx.lines.some((l) => /setup code:/.test(l.msg))).toBe(false);
    expect((await setup(third.app, { password: PASSWORD, setup_code: code })).statusCode).toBe(409);
  });

  it('replaces an unreadable code file and removes one left over once an admin exists', async () => {
    const dataDir = path.join(await tempDir('setup-code'), 'data');
    const first = await start(dataDir);
    const code = readCode(dataDir);
    await first.stop();
    writeFileSync(codeFile(dataDir), 'not a code\n', { mode: 0o644 });
    const second = await start(dataDir);
    const fresh = readCode(dataDir);
    expect(fresh).toMatch(CODE_FORMAT);
    expect(fresh).not.toBe(code);
    expect(statSync(codeFile(dataDir)).mode & 0o777).toBe(0o600);
    expect((await setup(second.app, { password: PASSWORD, setup_code: fresh })).statusCode).toBe(200);
    await second.stop();
    // A file left by a setup interrupted between the account and the erase is removed at the next start.
    writeFileSync(codeFile(dataDir), `${fresh}\n`, { mode: 0o600 });
    await start(dataDir);
    expect(existsSync(codeFile(dataDir))).toBe(false);
  });

  it('codes: 3 groups of 4 from the unambiguous alphabet, random, compared after normalising, zeroed when erased', async () => {
    const codes = new Set(Array.from({ length: 200 }, () => generateSetupCode()));
    expect(codes.size).toBe(200);
    for (const c of codes) expect(c).toMatch(CODE_FORMAT);
    expect(SETUP_CODE_ALPHABET).not.toMatch(/[01ILO]/);
    expect(normaliseSetupCode(' abcd-efgh jkmn ')).toBe('ABCDEFGHJKMN');

    const dataDir = path.join(await tempDir('setup-code'), 'data');
    const setupCode = new SetupCode(pino({ level: 'silent' }));
    setupCode.ensure(dataDir);
    const code = readCode(dataDir);
    expect(setupCode.matches(dataDir, code)).toBe(true);
    expect(setupCode.matches(dataDir, `${code}X`)).toBe(false);
    expect(setupCode.matches(path.join(dataDir, 'other'), code)).toBe(false);
    setupCode.erase(dataDir);
    expect(setupCode.matches(dataDir, code)).toBe(false);
    expect(existsSync(codeFile(dataDir))).toBe(false);
  });
});
