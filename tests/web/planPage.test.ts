/**
 * The floor-plan page in a real browser (Debian's chromium via playwright-core) against a real
 * gateway with a config file: an installer draws a plan zone and a plan line by clicking on the
 * plan, names them and saves; the config file holds them in metres, the running fusion counts on
 * them, and a reload shows them again. A shape the config schema refuses is refused with the reason
 * on the page; a viewer sees the plan but has no editor and the gateway refuses its save.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { hashPassword } from '../../src/web/auth/passwords.js';
import { buildWebBundle, hasChromium, launchChromium, noonTimeZone } from '../helpers/browser.js';
import { tempDir, testContext, writeConfig } from '../helpers/gatewayHarness.js';

const INSTALLER = { username: 'admin', password: 'installer password 1' };
const VIEWER = { username: 'ana', password: 'viewer password 1' };
const CALIBRATION = { image_points: [[0.1, 0.6], [0.9, 0.6], [0.95, 0.95], [0.05, 0.95]], plan_points: [[2, 2], [8, 2], [8, 6], [2, 6]] };
/** The plan is 12 × 9 m, without an image: the page draws a metre grid. */
const PLAN = { width_m: 12, height_m: 9 };


describe.skipIf(!hasChromium())('floor-plan page in a browser', () => {
  let gateway: Gateway;
  let server: FastifyInstance;
  let browser: Browser;
  let url: string;
  let configFile: string;

  beforeAll(async () => {
    buildWebBundle(); // the page is new: never trust an older dist/web
    const dir = await tempDir('plan-page');
    configFile = path.join(dir, 'gateway.yaml');
    await writeConfig(configFile, {
      data_dir: path.join(dir, 'data'),
      tls: { mode: 'off' },
      timezone: noonTimeZone(),
      floor_plan: PLAN,
      cameras: [{ id: 'door', source: { kind: 'rtsp', url: 'rtsp://127.0.0.1:1/none' }, calibration: CALIBRATION }],
    });
    gateway = await Gateway.start({ ctx: testContext(), configPath: configFile });
    const users = [];
    for (const [u, role] of [
      [INSTALLER, 'installer'],
      [VIEWER, 'viewer'],
    ] as const) {
      users.push({ username: u.username, role, hash: await hashPassword(u.password), created_at: new Date(0).toISOString() });
    }
    writeFileSync(path.join(gateway.config.data_dir, 'users.json'), JSON.stringify({ users }));
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

  async function openPlan(user: { username: string; password: string }): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    await page.goto(url);
    await page.fill('input[name=username]', user.username);
    await page.fill('input[name=password]', user.password);
    await page.click('button[type=submit]');
    await page.locator('header').getByText('Floor plan').click();
    await page.locator('#plan-editor').waitFor();
    return page;
  }

  /** Clicks the plan at a point in metres. */
  async function clickAt(page: Page, [x, y]: [number, number]): Promise<void> {
    const box = (await page.locator('#plan-editor').boundingBox())!;
    await page.mouse.click(box.x + (x / PLAN.width_m) * box.width, box.y + (y / PLAN.height_m) * box.height);
  }

  async function rename(page: Page, name: string): Promise<void> {
    await page.fill('#plan-item-name', name);
    await page.press('#plan-item-name', 'Enter');
  }

  it('lets an installer draw a zone and a line on the plan, save them, and see them after a reload', async () => {
    const page = await openPlan(INSTALLER);
    expect(await page.locator('#plan-cameras li[data-camera=door]').textContent()).toMatch(/sees \d+ m² of the plan/);
    await page.click('#plan-tool-zone');
    for (const p of [[3, 2.5], [6, 2.5], [6, 5], [3, 5]] as [number, number][]) await clickAt(page, p);
    await page.click('#plan-finish-zone');
    await rename(page, 'promo');
    await page.fill('#plan-min-dwell', '2');
    await page.press('#plan-min-dwell', 'Enter');
    await page.click('#plan-tool-line');
    await clickAt(page, [3, 5.5]);
    await clickAt(page, [7, 5.5]);
    await rename(page, 'entrance');
    await page.click('#plan-save');
    await page.locator('#plan-message.ok').waitFor();

    // In the config file, in metres (to the pixel the clicks landed on), and running.
    const plan = parse(readFileSync(configFile, 'utf8')).plan as { lines: { name: string; points: number[][] }[]; zones: { name: string; polygon: number[][]; min_dwell_s?: number }[] };
    expect(plan.zones.map((z) => z.name)).toEqual(['promo']);
    expect(plan.zones[0]).toMatchObject({ min_dwell_s: 2 });
    expect(plan.zones[0]!.polygon.flat().map((v, i) => v - [3, 2.5, 6, 2.5, 6, 5, 3, 5][i]!).every((d) => Math.abs(d) < 0.05)).toBe(true);
    expect(plan.lines.map((l) => l.name)).toEqual(['entrance']);
    expect(plan.lines[0]!.points.flat().map((v, i) => v - [3, 5.5, 7, 5.5][i]!).every((d) => Math.abs(d) < 0.05)).toBe(true);
    expect(gateway.fusion.status()).toMatchObject({ enabled: true, counts: { lines: { entrance: { in: 0, out: 0 } }, zones: { promo: { visits: 0 } } } });

    await page.reload();
    await page.locator('#plan-items li[data-name=promo]').waitFor();
    expect(await page.locator('#plan-items li[data-kind=zone][data-name=promo]').textContent()).toMatch(/4 corners/);
    expect(await page.locator('#plan-items li[data-kind=line][data-name=entrance]').textContent()).toMatch(/in 0 · out 0/);
    if (process.env.STOREPULSE_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.STOREPULSE_SCREENSHOTS, 'plan.png') });
    await page.context().close();
  }, 90_000);

  it('refuses a self-intersecting zone with the reason, and keeps the saved plan', async () => {
    const saved = readFileSync(configFile, 'utf8');
    const page = await openPlan(INSTALLER);
    await page.click('#plan-tool-zone');
    for (const p of [[8, 6.5], [10, 8], [10, 6.5], [8, 8]] as [number, number][]) await clickAt(page, p);
    await page.click('#plan-finish-zone');
    await page.click('#plan-save');
    await page.locator('#plan-message.error').waitFor();
    expect(await page.locator('#plan-message').textContent()).toMatch(/plan lines and zones: invalid[\s\S]*plan\.zones\.1\.polygon: self-intersecting polygon/);
    expect(readFileSync(configFile, 'utf8')).toBe(saved);
    // Discarding shows the saved plan again.
    await page.click('#plan-discard');
    expect(await page.locator('#plan-items li').count()).toBe(2);
    await page.context().close();
  }, 60_000);

  it('shows a viewer the plan without the editor, and the gateway refuses a viewer’s save', async () => {
    const page = await openPlan(VIEWER);
    await page.locator('#plan-items li[data-name=entrance]').waitFor();
    expect(await page.locator('#plan-save').count()).toBe(0);
    const status = await page.evaluate(async () => (await fetch('/ui/api/plan/scene', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lines: [], zones: [] }) })).status);
    expect(status).toBe(403);
    expect(gateway.config.plan?.zones.map((z) => z.name)).toEqual(['promo']);
    await page.context().close();
  }, 60_000);

  it('shows today’s store-level KPIs of the plan zones and lines on the dashboard', async () => {
    const store = gateway.store!;
    const t = Date.now() - 10 * 60_000;
    const s = 1000;
    await store.record({ type: 'plan_line_crossing', ts: t, line: 'entrance', direction: 'in' });
    await store.record({ type: 'plan_line_crossing', ts: t + 2 * s, line: 'entrance', direction: 'in' });
    await store.record({ type: 'plan_line_crossing', ts: t + 90 * s, line: 'entrance', direction: 'out' });
    await store.record({ type: 'plan_zone_visit', ts: t + 40 * s, zone: 'promo', enter_ts: t + 10 * s, dwell_ms: 30 * s, counted: true });
    await store.record({ type: 'plan_zone_visit', ts: t + 50 * s, zone: 'promo', enter_ts: t + 30 * s, dwell_ms: 20 * s, counted: true });
    const page = await openPlan(VIEWER);
    await page.locator('header').getByText('Dashboard').click();
    await page.locator('#store-level').waitFor();
    const cells = (row: string) => page.locator(`${row} td`).allTextContents();
    expect(await cells('#plan-zone-kpis tr[data-zone=promo]')).toEqual(['promo', '2', '25.0 s', '29.0 s', '0', '2', expect.stringMatching(/^0\.\d\d$/)]);
    expect(await cells('#plan-line-kpis tr[data-line=entrance]')).toEqual(['entrance', '2', '1']);
    if (process.env.STOREPULSE_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.STOREPULSE_SCREENSHOTS, 'dashboard-plan.png'), fullPage: true });
    await page.context().close();
  }, 60_000);
});
