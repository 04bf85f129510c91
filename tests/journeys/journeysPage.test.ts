/**
 * The web UI's journeys page in a real browser (Debian's chromium via playwright-core) against a real
 * gateway whose journey service was fed hand-made walks: the transition heat table, the funnel and the
 * top paths show the API's numbers, and nothing else.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { hashPassword } from '../../src/web/auth/passwords.js';
import { buildWebBundle, hasChromium, launchChromium, noonTimeZone } from '../helpers/browser.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';
import { offset, rawStoreConfig, SHOPPER, walk } from './trajectories.js';
import type { PlanTrackSample } from '../../src/analytics/journeys/planTrack.js';

const PASSWORD = 'viewer password 1';


describe.skipIf(!hasChromium())('journeys page in a browser', () => {
  let gateway: Gateway;
  let server: FastifyInstance;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    buildWebBundle(); // the page is new: never trust an older dist/web
    const dir = await tempDir('journeys-page');
    const raw = rawStoreConfig();
    gateway = await Gateway.start({
      ctx: testContext(),
      rawConfig: { ...raw, cameras: (raw.cameras as object[]).map((c) => ({ ...c, enabled: false })), data_dir: path.join(dir, 'data'), tls: { mode: 'off' }, timezone: noonTimeZone() },
    });
    writeFileSync(path.join(gateway.config.data_dir, 'users.json'), JSON.stringify({ users: [{ username: 'ana', role: 'viewer', hash: await hashPassword(PASSWORD), created_at: new Date(0).toISOString() }] }));
    // Six shoppers entrance → promo → till, one a minute, all within the last hour (today in the store's zone).
    const startS = Math.floor(Date.now() / 1000) - 1800;
    const frames = new Map<number, PlanTrackSample[]>();
    for (let i = 0; i < 6; i++) for (const s of walk(`w${i}`, offset(SHOPPER, 0, 0, startS + i * 60))) frames.set(s.tMs, [...(frames.get(s.tMs) ?? []), s]);
    for (const t of [...frames.keys()].sort((a, b) => a - b)) gateway.journeys.onPlanSamples('store', frames.get(t)!, t);
    gateway.journeys.flush();
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

  it('shows the transition heat table, the funnel and the top paths of today', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.fill('input[name=username]', 'ana');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.locator('header').getByText('Journeys').waitFor();
    await page.goto(`${url}#/journeys`);
    await page.locator('#journeys-count').waitFor();
    expect(await page.locator('#journeys-count').textContent()).toBe('6');
    const cell = (from: string, to: string) => page.locator(`#transition-table tr[data-from="${from}"] td[data-to="${to}"]`).textContent();
    expect(await cell('entry', 'entrance')).toBe('6');
    expect(await cell('entrance', 'promo')).toBe('6');
    expect(await cell('promo', 'till')).toBe('6');
    expect(await cell('till', 'exit')).toBe('6');
    expect(await cell('entrance', 'till')).toBe('');
    expect(await page.locator('#transition-table tr').count()).toBe(1 + 5); // header + entry and the 4 zones
    expect(await page.locator('#funnel-table tr[data-zone=till] td').nth(1).textContent()).toBe('6');
    expect(await page.locator('#top-paths li').allTextContents()).toEqual(['entrance → promo → till: 6']);
    expect(await page.content()).not.toMatch(/w[0-5]|store#/);
  }, 60_000);
});
