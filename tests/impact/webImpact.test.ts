/**
 * The impact features of the web UI in a real browser (Debian's chromium via playwright-core)
 * against a real gateway whose SQLite file holds ten weeks of a synthetic store (+20 % in zone promo
 * from 14 March 2026): a note posted with the API token shows as a mark under its hour on the
 * dashboard and in the list under the chart for a viewer, who may read notes but not write them;
 * the Before/after page compares the zone with its control; an installer notes a change there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticStoreBins } from '../../src/analytics/impact/syntheticStore.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { hashPassword } from '../../src/web/auth/passwords.js';
import { WEB_ROOT } from '../../src/web/webRoutes.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { DATABASE_FILE } from '../../src/store/dataStore.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';
import { writeHourlyAggregates } from './syntheticDatabase.js';

const TOKEN = 'dashboard-notes-token-0123456789';
// Screenshots go to a temp dir; `STOREPULSE_SCREENSHOTS=docs/screenshots` puts them with the README's.
const SHOTS = process.env.STOREPULSE_SCREENSHOTS ? path.resolve(process.env.STOREPULSE_SCREENSHOTS) : path.join(os.tmpdir(), 'storepulse-screenshots');
const VIEWER_PASSWORD = 'viewer password 1';
const INSTALLER_PASSWORD = 'installer password 1';

describe.skipIf(!hasChromium())('impact in the web UI', () => {
  let gateway: Gateway;
  let server: FastifyInstance;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    // The bundle in dist/web must hold the annotation marks (rebuilt when it predates them).
    const bundle = path.join(WEB_ROOT, 'app.js');
    if (!existsSync(bundle) || !['annotation-marks', 'impact-report'].every((id) => readFileSync(bundle, 'utf8').includes(id))) {
      spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'buildWeb.mjs')], { stdio: 'inherit' });
    }
    const dataDir = await tempDir('dashboard-notes');
    const users = [
      { username: 'viewer', role: 'viewer', hash: await hashPassword(VIEWER_PASSWORD), created_at: new Date(0).toISOString() },
      { username: 'installer', role: 'installer', hash: await hashPassword(INSTALLER_PASSWORD), created_at: new Date(0).toISOString() },
    ];
    writeFileSync(path.join(dataDir, 'users.json'), JSON.stringify({ users }), { mode: 0o600 });
    writeHourlyAggregates(path.join(dataDir, DATABASE_FILE), syntheticStoreBins({ seed: 5, change: Date.parse('2026-03-14T00:00:00+01:00'), weeks: 5, trafficLift: 0.2 }));
    gateway = await Gateway.start({
      ctx: testContext(),
      rawConfig: { data_dir: dataDir, tls: { mode: 'off' }, timezone: 'Europe/Paris', api: { tokens: [{ name: 'analyst', token: TOKEN }] } },
    });
    server = buildServer(gateway, testContext());
    await server.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await gateway?.stop();
  });

  it('marks the hour of a note and lists it; a viewer cannot add one', async () => {
    const posted = await server.inject({
      method: 'POST',
      url: '/api/v1/annotations',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { time: Date.now(), text: 'promo display moved to the end-cap', subject: 'zone:promo' },
    });
    expect(posted.statusCode).toBe(201);

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const login = await page.request.post(`${url}ui/api/login`, { data: { username: 'viewer', password: VIEWER_PASSWORD } });
    expect(login.status()).toBe(200);
    const refused = await page.request.post(`${url}api/v1/annotations`, { data: { time: Date.now(), text: 'viewer note' } });
    expect(refused.status()).toBe(401);

    await page.goto(`${url}#/dashboard`);
    const mark = page.locator('#annotation-marks .note-mark');
    await mark.waitFor();
    expect(await mark.count()).toBe(1);
    expect(await mark.getAttribute('title')).toMatch(/^\d\d:\d\d zone:promo: promo display moved to the end-cap$/);
    expect(await page.locator('#annotation-list li').allTextContents()).toEqual([expect.stringMatching(/zone:promo: promo display moved to the end-cap$/)]);
    // The mark sits under the bar of its hour: same column index in the axis as in the bars.
    const column = await page.locator('#annotation-marks span').evaluateAll((spans) => spans.findIndex((s) => s.textContent === '▲'));
    const hour = Number((await mark.getAttribute('title'))!.slice(0, 2));
    expect(Number(await page.locator('.axis:not(.notes) span').nth(column).textContent())).toBe(hour);
    await page.close();
  });

  it('compares a zone before and after a change, and lets an installer note one', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    expect((await page.request.post(`${url}ui/api/login`, { data: { username: 'installer', password: INSTALLER_PASSWORD } })).status()).toBe(200);
    await page.goto(`${url}#/impact`);
    await page.locator('#impact-subject').fill('zone:promo');
    await page.locator('#impact-change').fill('2026-03-14');
    await page.locator('#impact-control').fill('zone:aisle');
    await page.locator('#impact-form button[type=submit]').click();
    const rows = page.locator('#impact-report tbody tr');
    await rows.first().waitFor();
    expect(await rows.locator('td:first-child').allTextContents()).toEqual(['traffic', 'dwell', 'visit rate', 'conversion']);
    expect(await rows.first().locator('td').last().textContent()).toBe('increase');
    expect(await rows.first().locator('td').nth(4).textContent()).toMatch(/^\+\d+\.\d % \(\+\d+\.\d % to \+\d+\.\d %\)$/);

    // A subject the store does not have: the API's reason, on the page.
    await page.locator('#impact-subject').fill('zone:bakery');
    await page.locator('#impact-form button[type=submit]').click();
    await page.locator('#impact-form .error', { hasText: 'no zone bakery' }).waitFor();

    await page.locator('#note-form input[type=datetime-local]').fill('2026-03-14T08:00');
    await page.locator('#note-form input').nth(1).fill('promo display moved');
    await page.locator('#note-form input').nth(2).fill('zone:promo');
    await page.locator('#note-form button').click();
    await page.locator('#note-form', { hasText: 'Saved: 2026-03-14' }).waitFor();
    await page.locator('#impact-subject').fill('zone:promo');
    await page.locator('#impact-form button[type=submit]').click();
    await page.locator('#impact-report').waitFor();
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'impact.png'), fullPage: true });
    const notes = await server.inject({ url: '/api/v1/annotations?from=2026-03-14&to=2026-03-15', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(notes.json().annotations).toMatchObject([{ text: 'promo display moved', subject: 'zone:promo', created_by: 'installer' }]);
    await page.close();
  });
});
