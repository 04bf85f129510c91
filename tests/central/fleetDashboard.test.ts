/**
 * `storepulse central --demo` end to end, and the fleet dashboard in a real browser (Debian's
 * chromium via playwright-core): the demo's own PostgreSQL and mosquitto, its simulated gateways
 * (one offline, one delivering late), the ingest and the dashboard. The page must show what the API
 * says, refuse a wrong token, and the demo must stop cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDemoOptions } from '../../src/central/centralDemo.js';
import { DEMO_CHANGE, historyBins } from '../../src/central/demoFleet.js';
import { simulatedFleet, simulateGateway } from '../../src/central/fleetSimulation.js';
import { classifyMessage } from '../../src/central/incomingMessage.js';
import { mosquittoUnavailable } from '../../src/central/localMosquitto.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { envelope, topicPrefix, type OutboxMessage } from '../../src/upstream/messages.js';
import { ageText, changeText, lagText, periodOf } from '../../web/src/fleet/format.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { terminate } from '../helpers/childProcess.js';
import { expectOneLineError, runCli } from '../helpers/cli.js';
import { until } from '../helpers/gatewayHarness.js';
import { postgresUnavailable } from '../helpers/postgres.js';

describe('demo options and dashboard formatting', () => {
  it('--gateways, --days and --port are whole numbers in range', () => {
    expect(parseDemoOptions({ gateways: '20', days: '7', port: '0' })).toEqual({ gateways: 20, days: 7, port: 0 });
    expect(parseDemoOptions({ gateways: '0', days: '7', port: '8090' })).toBe('--gateways must be a whole number from 1 to 500, not "0"');
    expect(parseDemoOptions({ gateways: '5', days: '1.5', port: '8090' })).toMatch(/^--days must be/);
    expect(parseDemoOptions({ gateways: '5', days: '7', port: '70000' })).toMatch(/^--port must be/);
  });

  it('ages, lags and periods read as a person says them', () => {
    const now = Date.UTC(2026, 11, 2, 9, 30);
    expect(ageText(null, now)).toBe('never');
    expect(ageText(new Date(now - 12_000).toISOString(), now)).toBe('12 s ago');
    expect(ageText(new Date(now - 5 * 60_000).toISOString(), now)).toBe('5 min ago');
    expect(ageText(new Date(now - 3 * 3_600_000).toISOString(), now)).toBe('3 h ago');
    expect(lagText(null)).toBe('–');
    expect(lagText(1.2)).toBe('none');
    expect(lagText(905)).toBe('15 min behind');
    expect(periodOf(7, now)).toEqual({ from: '2026-11-25T10:00:00.000Z', to: '2026-12-02T10:00:00.000Z' });
    expect(changeText(null)).toBe('–');
    expect(changeText(0.2)).toBe('+20.0 %');
    expect(changeText(-0.1234)).toBe('−12.3 %');
    expect(changeText(-0.00001)).toBe('0.0 %');
  });

  it("the demo's history bins pass central's validation, with sales following footfall", () => {
    const [gw] = simulatedFleet(1);
    const start = Date.UTC(2026, 11, 1, 0, 0);
    const template = simulateGateway(gw!, { start, minutes: 60, seed: 1, hourly: true }).messages.find((m) => m.kind === 'kpi')!.body as { kpis: Parameters<typeof historyBins>[1] };
    const bins: OutboxMessage[] = historyBins(gw!, template.kpis, start, start + 48 * 3_600_000, 3);
    expect(bins).toHaveLength(48);
    const prefix = topicPrefix('storepulse', gw!);
    for (const [i, m] of bins.entries()) {
      const payload = envelope({ seq: i + 1, key: m.key, kind: m.kind, topic: m.topic, payload: JSON.stringify(m.body), created_at: start }, gw!);
      const result = classifyMessage(`${prefix}/${m.topic}`, Buffer.from(payload), 'storepulse', start + 49 * 3_600_000);
      expect(result.ok, JSON.stringify(result)).toBe(true);
    }
    const kpis = bins.map((b) => (b.body as { kpis: { traffic: { in: number }; sales: number } }).kpis);
    expect(kpis.filter((k) => k.traffic.in === 0).length).toBeGreaterThan(10); // closed at night
    expect(kpis.every((k) => k.traffic.in > 0 || k.sales === 0)).toBe(true);
  });

  it('refuses --config together with --demo, and neither', async () => {
    const both = await runCli(['central', '--demo', '--config', 'central.yaml']);
    expect(both.code).toBe(2);
    expectOneLineError(both.stderr, /^storepulse central: needs either --config FILE or --demo, not both/);
    expect((await runCli(['central'])).code).toBe(2);
    const bad = await runCli(['central', '--demo', '--gateways', 'many']);
    expect(bad.code).toBe(2);
    expectOneLineError(bad.stderr, /--gateways must be a whole number from 1 to 500, not "many"/);
  });
});

const GATEWAYS = 4;

describe.skipIf(postgresUnavailable() !== undefined || mosquittoUnavailable() !== undefined || !hasChromium())('storepulse central --demo and its dashboard in chromium', () => {
  let demo: ChildProcess;
  let output = '';
  let base = '';
  let token = '';
  let browser: Browser;

  beforeAll(async () => {
    demo = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'central', '--demo', '--gateways', String(GATEWAYS), '--days', '14', '--port', '0'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const line = await until(() => /open (http:\/\/127\.0\.0\.1:\d+)\/fleet\/#token=([\w-]+)/.exec(output) ?? (demo.exitCode !== null ? 'exited' : null), (m) => m !== null, 120_000, 'the demo printed its URL');
    if (line === 'exited') throw new Error(`the demo exited: ${output}`);
    const match = line as RegExpExecArray;
    base = match[1]!;
    token = match[2]!;
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await terminate(demo);
  });

  const api = async <T>(url: string): Promise<T> => {
    const res = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, url).toBe(200);
    return (await res.json()) as T;
  };

  it('shows the gateways online and offline with their backlog, and the stores ranked by conversion with their correlation', async () => {
    // Everything published at start has been ingested: the API lists every gateway, the lost one offline.
    await until(() => api<{ gateway_id: string; state: string | null }[]>('/api/v1/fleet/gateways'), (g) => g.length === GATEWAYS && g.filter((x) => x.state === 'offline').length === 1, 60_000, 'every gateway ingested');
    const page = await browser.newPage();
    await page.goto(`${base}/fleet/#token=${token}`);
    // The token leaves the address bar once kept.
    await page.locator('[data-testid=gateways] tbody tr').first().waitFor();
    expect(page.url()).toBe(`${base}/fleet/`);
    expect(await page.locator('[data-testid=gateways] tbody tr').count()).toBe(GATEWAYS);
    expect(await page.locator('[data-testid=offline-count]').textContent()).toBe('1 offline');
    expect(await page.locator('[data-testid=online-count]').textContent()).toBe(`${GATEWAYS - 1} online`);
    const lost = page.locator(`tr[data-gateway=gw-00${GATEWAYS}]`);
    expect(await lost.getAttribute('data-state')).toBe('offline');
    expect(await lost.textContent()).toContain('connection lost');
    // The late one: its newest message arrived about 15 minutes after it was queued.
    await until(() => page.locator(`tr[data-gateway=gw-00${GATEWAYS - 1}] td.lag`).textContent(), (t) => /^1[4-6] min behind$/.test(t ?? ''), 30_000, 'the late gateway shows its backlog');

    // The stores: as the API ranks them for the page's period (the last 7 days). The figures grow
    // when an hour closes, so the page is read between two reads of the API.
    const { from, to } = periodOf(7, Date.now());
    const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    type Ranked = { store_id: string; traffic_in: number; conversion: number };
    const before = await api<Ranked[]>(`/api/v1/fleet/conversion?${q}`);
    await page.reload();
    await page.locator('[data-testid=stores] tbody tr').first().waitFor();
    const rows = await page.locator('[data-testid=stores] tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ store: tr.getAttribute('data-store'), traffic: tr.querySelector('.traffic')!.textContent, pearson: tr.querySelector('.pearson')!.textContent })),
    );
    const after = await api<Ranked[]>(`/api/v1/fleet/conversion?${q}`);
    const correlation = await api<{ store_id: string; pearson: number }[]>(`/api/v1/fleet/correlation?${q}`);
    expect(after).toHaveLength(GATEWAYS);
    expect(rows.map((r) => r.store).sort()).toEqual(after.map((r) => r.store_id).sort());
    const unchanged = JSON.stringify(before) === JSON.stringify(after);
    if (unchanged) expect(rows.map((r) => r.store)).toEqual(after.map((r) => r.store_id));
    for (const r of rows) {
      const traffic = Number(r.traffic);
      expect(traffic).toBeGreaterThanOrEqual(before.find((b) => b.store_id === r.store)!.traffic_in);
      expect(traffic).toBeLessThanOrEqual(after.find((b) => b.store_id === r.store)!.traffic_in);
    }
    for (const r of rows) {
      const c = correlation.find((x) => x.store_id === r.store)!;
      expect(Number(r.pearson)).toBeCloseTo(c.pearson, 1);
      // The simulation makes sales follow footfall.
      expect(c.pearson).toBeGreaterThan(0.3);
    }
    // For a person to look at (not checked): outside the project tree.
    await page.screenshot({ path: path.join(os.tmpdir(), 'storepulse-fleet-dashboard.png'), fullPage: true }).catch(() => undefined);
    await page.close();
  }, 120_000);

  it("lists the gateways' annotations and shows the before/after of the stores that made the change", async () => {
    // The demo: every other well-behaved gateway (gw-001, and gw-003 with more gateways) annotated a
    // promotion six days ago, after which its footfall is a fifth higher.
    const { from, to } = periodOf(7, Date.now());
    const listed = await api<{ store_id: string; text: string }[]>(`/api/v1/fleet/annotations?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect(listed.map((a) => a.text)).toEqual([DEMO_CHANGE.text]);
    const page = await browser.newPage();
    await page.goto(`${base}/fleet/#token=${token}`);
    await page.locator('[data-testid=annotations] tbody tr').first().waitFor();
    expect(await page.locator('[data-testid=annotations] tbody tr').getAttribute('data-store')).toBe(listed[0]!.store_id);
    await page.locator('[data-testid=annotations] tbody tr button').click();
    await page.locator('[data-testid=impact] tbody tr').first().waitFor();
    const rows = await page.locator('[data-testid=impact] tbody tr').evaluateAll((trs) => trs.map((tr) => ({ store: tr.getAttribute('data-store'), change: tr.querySelector('.change.traffic')!.textContent })));
    type Report = { stores: { store_id: string; hours: number; change: { traffic: number | null } }[]; control_stores: number };
    const report = await api<Report>(`/api/v1/fleet/impact?match=${encodeURIComponent(DEMO_CHANGE.text)}&days=7`);
    expect(rows.map((r) => r.store)).toEqual(report.stores.map((s) => s.store_id));
    expect(report.stores.map((s) => s.store_id)).toEqual([listed[0]!.store_id]);
    expect(report.control_stores).toBeGreaterThan(0);
    expect(report.stores[0]!.hours).toBeGreaterThan(100);
    // +20 % by construction; the hourly noise and the live hour leave it within a few points.
    expect(report.stores[0]!.change.traffic).toBeGreaterThan(0.1);
    expect(report.stores[0]!.change.traffic).toBeLessThan(0.3);
    expect(rows[0]!.change).toBe(changeText(report.stores[0]!.change.traffic));
    // For a person to look at (not checked): outside the project tree.
    await page.screenshot({ path: path.join(os.tmpdir(), 'storepulse-fleet-impact.png'), fullPage: true }).catch(() => undefined);
    await page.close();
  }, 60_000);

  it('asks for the token, and refuses a wrong one', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/fleet/`);
    await page.locator('#token').fill('not-the-token-not-the-token');
    await page.click('button[type=submit]');
    await page.locator('[data-testid=login-error]').waitFor();
    expect(await page.locator('[data-testid=gateways]').count()).toBe(0);
    await page.locator('#token').fill(token);
    await page.click('button[type=submit]');
    await page.locator('[data-testid=gateways] tbody tr').first().waitFor();
    await page.close();
    // The data routes need the token; the page itself does not.
    expect((await fetch(`${base}/api/v1/fleet/gateways`)).status).toBe(401);
    expect((await fetch(`${base}/fleet/`)).status).toBe(200);
  }, 60_000);

  it('stops cleanly on SIGTERM', async () => {
    await terminate(demo);
    expect(demo.exitCode, output.slice(-2000)).toBe(0);
    expect(output).toContain('central demo: stopping');
  }, 60_000);
});
