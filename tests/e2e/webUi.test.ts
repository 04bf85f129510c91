/**
 * The installer's path through the web UI in a real browser (Debian's chromium via playwright-core)
 * against a real gateway playing the sample footage as a camera: claim the first run with the setup
 * code from data_dir and set the admin password, draw a counting line on the live view, save it, see
 * the config file change and the line's counts appear; validate the line by tapping; calibrate to a
 * floor plan; a viewer cannot edit. Takes screenshots of the main screens (the README's come from
 * STOREPULSE_SCREENSHOTS=docs/screenshots).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { WEB_ROOT } from '../../src/web/webRoutes.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { VTEST_PATH } from '../helpers/fixtures.js';
import { tempDir, testContext, until, writeConfig } from '../helpers/gatewayHarness.js';

// Screenshots go to a temp dir; `STOREPULSE_SCREENSHOTS=docs/screenshots` refreshes the README's.
const SHOTS = process.env.STOREPULSE_SCREENSHOTS ? path.resolve(process.env.STOREPULSE_SCREENSHOTS) : path.join(os.tmpdir(), 'storepulse-screenshots');
const PASSWORD = 'installer password 1';

describe.skipIf(!hasChromium() || !existsSync(VTEST_PATH))('web UI in a browser', () => {
  let gateway: Gateway;
  let server: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let url: string;
  let configFile: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    if (!existsSync(path.join(WEB_ROOT, 'app.js'))) spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'buildWeb.mjs')], { stdio: 'inherit' });
    const dir = await tempDir('webui-e2e');
    configFile = path.join(dir, 'gateway.yaml');
    await writeConfig(configFile, {
      store_id: 'paris-01',
      data_dir: path.join(dir, 'data'),
      tls: { mode: 'off' }, // plain HTTP/MQTT; the UI over HTTPS is checked in tests/tls
      timezone: 'Europe/Paris',
      cameras: [{ id: 'entrance', name: 'Entrance', source: { kind: 'file', path: VTEST_PATH, loop: true }, fps: 5, lines: [], zones: [] }],
      sensors: { broker: { mode: 'embedded', host: '127.0.0.1', port: 0 }, mqtt: [{ id: 'till', topic: 'pos/+', profile: 'pos' }] },
    });
    gateway = await Gateway.start({ ctx: testContext(), configPath: configFile, watchConfig: true });
    server = buildServer(gateway, testContext());
    await server.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await gateway?.stop();
  });

  const canvasClick = async (x: number, y: number): Promise<void> => {
    const box = (await page.locator('.stage canvas').first().boundingBox())!;
    await page.mouse.click(box.x + x * box.width, box.y + y * box.height);
  };

  it('first run: claims the gateway with its setup code, sets the admin password and lands on the dashboard', async () => {
    await page.goto(url);
    await page.getByText('Welcome: set the admin password').waitFor();
    await page.getByText("printed in the gateway's log and in data_dir/setup-code").waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'setup.png') });
    // The code only someone with access to the box has: the file the gateway wrote (also in its log).
    const setupCode = readFileSync(path.join(gateway.config.data_dir, 'setup-code'), 'utf8').trim();
    await page.fill('input[name=setup_code]', 'AAAA-AAAA-AAA1');
    await page.fill('input[name=password]', PASSWORD);
    await page.fill('input[name=confirm]', PASSWORD);
    await page.click('button[type=submit]');
    await page.locator('#login-error').getByText('wrong setup code').waitFor();
    await page.fill('input[name=setup_code]', setupCode);
    await page.click('button[type=submit]');
    await page.locator('#kpi-visitors').waitFor();
    expect(existsSync(path.join(gateway.config.data_dir, 'setup-code'))).toBe(false);
    expect(await page.locator('header').textContent()).toContain('admin (installer)');
  });

  it('draws a line on the live view, saves it to the config file, and its counts appear', async () => {
    await page.goto(`${url}#/live/entrance`);
    await until(() => page.locator('.pill').textContent(), (t) => t?.startsWith('live') ?? false, 30_000, 'camera live in the UI');
    await page.click('#tool-line');
    // The walkway of the sample footage: people cross this vertical line all the time.
    await canvasClick(0.52, 0.3);
    await canvasClick(0.52, 0.95);
    await page.fill('#item-name', 'walkway');
    await page.press('#item-name', 'Enter');
    await page.click('#save-scene');
    await page.getByText('Saved and applied').waitFor();
    const saved = readFileSync(configFile, 'utf8');
    expect(saved).toContain('walkway');
    expect(existsSync(`${configFile}.prev`)).toBe(true);
    expect(gateway.config.cameras[0]!.lines).toEqual([expect.objectContaining({ name: 'walkway', points: [[0.52, 0.3], [0.52, 0.95]] })]);
    // Counts on the new line, live, without a restart.
    await until(
      async () => Number(await page.locator('tr[data-line=walkway] .count-in').textContent()) + Number(await page.locator('tr[data-line=walkway] .count-out').textContent()),
      (n) => n > 0,
      60_000,
      'counts on the drawn line',
    );
    await page.click('#tool-zone');
    for (const [x, y] of [[0.6, 0.45], [0.9, 0.45], [0.9, 0.8], [0.6, 0.8]] as const) await canvasClick(x, y);
    await page.click('#finish-zone');
    await page.click('#save-scene');
    await page.getByText('Saved and applied').waitFor();
    expect(gateway.config.cameras[0]!.zones.map((z) => z.name)).toEqual(['zone-1']);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(SHOTS, 'live-view.png') });
  }, 120_000);

  it('validates the line: manual taps against automatic counts, kept', async () => {
    await page.goto(`${url}#/validate/entrance`);
    await page.click('#validation-start');
    await page.click('#tap-in');
    await page.click('#tap-in');
    await page.click('#tap-out');
    await until(() => page.locator('.manual-in').textContent(), (t) => t === '2', 30_000, 'manual taps');
    await page.waitForTimeout(4000);
    await page.click('#validation-finish');
    await page.getByText('(saved)').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'validation.png') });
    const stored = JSON.parse(readFileSync(path.join(gateway.config.data_dir, 'validations.json'), 'utf8')) as { validations: { line: string; manual: { in: number; out: number } }[] };
    expect(stored.validations[0]).toMatchObject({ line: 'walkway', manual: { in: 2, out: 1 } });
  }, 120_000);

  it('calibrates the camera to a floor plan and shows the reprojection error', async () => {
    await page.goto(`${url}#/calibrate/entrance`);
    await page.locator('#plan-canvas').waitFor();
    for (const [x, y] of [[0.2, 0.45], [0.8, 0.45], [0.95, 0.95], [0.05, 0.95]] as const) await canvasClick(x, y);
    const plan = (await page.locator('#plan-canvas').boundingBox())!;
    for (const [x, y] of [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]] as const) await page.mouse.click(plan.x + x * plan.width, plan.y + y * plan.height);
    await page.click('#save-calibration');
    await page.getByText(/Saved \(reprojection error/).waitFor();
    expect(gateway.config.cameras[0]!.calibration?.image_points).toHaveLength(4);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(SHOTS, 'calibration.png') });
  }, 120_000);

  it('shows the dashboard with traffic, zones, cameras and sensors', async () => {
    await page.goto(`${url}#/dashboard`);
    await page.locator('#traffic-bars').waitFor();
    expect(await page.locator('main').textContent()).toContain('Cameras');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
  });

  it('a viewer sees the live view but cannot edit', async () => {
    const created = await page.evaluate(async () => (await fetch('/ui/api/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'manager', password: 'viewer password 1', role: 'viewer' }) })).status);
    expect(created).toBe(200);
    const viewer = await browser.newPage();
    await viewer.goto(url);
    await viewer.fill('input[name=username]', 'manager');
    await viewer.fill('input[name=password]', 'viewer password 1');
    await viewer.click('button[type=submit]');
    await viewer.locator('#kpi-visitors').waitFor();
    await viewer.goto(`${url}#/live/entrance`);
    await viewer.getByText('installers can edit lines and zones').waitFor();
    expect(await viewer.locator('#save-scene').count()).toBe(0);
    const status = await viewer.evaluate(async () => (await fetch('/ui/api/cameras/entrance/scene', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lines: [], zones: [] }) })).status);
    expect(status).toBe(403);
    await viewer.close();
  }, 120_000);
});
