/**
 * The floor-plan page's API against a real gateway with a config file: plan lines and zones saved
 * by an installer through the config editor (validated with the config's schema, written atomically,
 * comments and fusion settings kept) and picked up by the running fusion; refused for viewers and
 * for invalid shapes, with the reason by path; camera footprints; store-level KPIs from plan events.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { hashPassword } from '../../src/web/auth/passwords.js';
import { tempDir, testContext, writeConfig } from '../helpers/gatewayHarness.js';

const INSTALLER = { username: 'admin', password: 'installer password 1' };
const VIEWER = { username: 'ana', password: 'viewer password 1' };
/** The camera sees the floor 2–8 m across and 2–6 m deep. */
const CALIBRATION = { image_points: [[0.1, 0.6], [0.9, 0.6], [0.95, 0.95], [0.05, 0.95]], plan_points: [[2, 2], [8, 2], [8, 6], [2, 6]] };

describe('floor-plan lines and zones in the web UI API', () => {
  let gateway: Gateway;
  let app: FastifyInstance;
  let configFile: string;
  const cookies: Record<string, string> = {};

  beforeAll(async () => {
    const dir = await tempDir('plan-routes');
    configFile = path.join(dir, 'gateway.yaml');
    // A camera that never connects is enough: the plan page needs its calibration, not its frames.
    await writeConfig(
      configFile,
      [
        '# installer comment that must survive edits',
        `data_dir: ${dir}/data`,
        'timezone: Etc/UTC',
        'floor_plan: { width_m: 12, height_m: 9 }',
        'cameras:',
        '  - id: door',
        '    source: { kind: rtsp, url: "rtsp://127.0.0.1:1/none" }',
        `    calibration: ${JSON.stringify(CALIBRATION)}`,
        'plan:',
        '  fusion: { gate_m: 0.8 }  # tuned on site',
        '',
      ].join('\n'),
    );
    gateway = await Gateway.start({ ctx: testContext(), configPath: configFile });
    const users = await Promise.all(
      [
        [INSTALLER, 'installer'],
        [VIEWER, 'viewer'],
      ].map(async ([u, role]) => ({ username: (u as typeof VIEWER).username, role, hash: await hashPassword((u as typeof VIEWER).password), created_at: new Date(0).toISOString() })),
    );
    writeFileSync(path.join(gateway.config.data_dir, 'users.json'), JSON.stringify({ users }));
    app = buildServer(gateway, testContext());
    await app.ready();
    for (const u of [INSTALLER, VIEWER]) {
      const res = await app.inject({ method: 'POST', url: '/ui/api/login', payload: u });
      expect(res.statusCode).toBe(200);
      cookies[u.username] = String(res.headers['set-cookie']).split(';')[0]!;
    }
  });
  afterAll(async () => {
    await app?.close();
    await gateway?.stop();
  });

  const putScene = (who: string, payload: unknown) => app.inject({ method: 'PUT', url: '/ui/api/plan/scene', headers: { cookie: cookies[who]! }, payload: payload as object });

  it('shows the plan with the camera footprint clipped to it, and no plan items yet', async () => {
    const res = await app.inject({ url: '/ui/api/plan/scene', headers: { cookie: cookies.ana! } });
    expect(res.statusCode).toBe(200);
    const scene = res.json();
    expect(scene.bounds).toEqual({ width_m: 12, height_m: 9 });
    expect(scene.lines).toEqual([]);
    expect(scene.fusion.enabled).toBe(false);
    const door = scene.cameras[0];
    expect(door).toMatchObject({ id: 'door', calibrated: true, error: null });
    // The calibrated floor quad is inside what the camera sees, and all of it lies on the plan.
    for (const [x, y] of door.footprint) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(12);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(9);
    }
    const ys = door.footprint.map((p: number[]) => p[1]);
    expect(Math.min(...ys)).toBeLessThan(2);
    expect(Math.max(...ys)).toBeGreaterThan(6);
  });

  it('saves plan lines and zones atomically, keeps comments and fusion settings, and starts store-level counting', async () => {
    const before = readFileSync(configFile, 'utf8');
    const scene = {
      lines: [{ name: 'entrance', points: [[3, 4], [7, 4]] }],
      zones: [{ name: 'promo', polygon: [[3, 2.5], [6, 2.5], [6, 5], [3, 5]], min_dwell_s: 2 }],
    };
    const res = await putScene('admin', scene);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().scene.zones[0]).toMatchObject({ name: 'promo', min_dwell_s: 2 });
    expect(readFileSync(`${configFile}.prev`, 'utf8')).toBe(before);
    const after = readFileSync(configFile, 'utf8');
    expect(after).toContain('# installer comment that must survive edits');
    expect(after).toContain('# tuned on site');
    expect(gateway.config.plan?.fusion.gate_m).toBe(0.8);
    expect(gateway.config.plan?.lines.map((l) => l.name)).toEqual(['entrance']);
    // The running gateway applied it: fusion is on with the new plan (no restart).
    expect(gateway.fusion.status()).toMatchObject({ enabled: true, cameras: ['door'], counts: { lines: { entrance: { in: 0, out: 0 } } } });
    const read = (await app.inject({ url: '/ui/api/plan/scene', headers: { cookie: cookies.ana! } })).json();
    expect(read.lines.map((l: { name: string }) => l.name)).toEqual(['entrance']);
    expect(read.fusion.occupancy).toEqual({ promo: 0 });
  });

  it('refuses viewers, and invalid shapes with every reason by path, writing nothing', async () => {
    const saved = readFileSync(configFile, 'utf8');
    expect((await putScene('ana', { lines: [], zones: [] })).statusCode).toBe(403);
    const bad = await putScene('admin', {
      lines: [{ name: 'stub', points: [[3, 3], [3.1, 3]] }],
      zones: [
        { name: 'bow-tie', polygon: [[3, 3], [5, 5], [5, 3], [3, 5]] },
        { name: 'far', polygon: [[10, 8], [14, 8], [14, 10]] },
      ],
    });
    expect(bad.statusCode).toBe(400);
    const details = bad.json().error.details.join('\n');
    expect(details).toMatch(/plan\.lines\.0\.points: degenerate line/);
    expect(details).toMatch(/plan\.zones\.0\.polygon: self-intersecting polygon/);
    expect(details).toMatch(/plan\.zones\.1\.polygon: outside the 12 × 9 m floor plan/);
    const duplicate = await putScene('admin', { lines: [{ name: 'a', points: [[3, 3], [5, 3]] }], zones: [{ name: 'a', polygon: [[3, 3], [5, 3], [5, 5]] }] });
    expect(duplicate.json().error.details.join()).toMatch(/duplicate name "a"/);
    expect((await putScene('admin', { lines: 'x', zones: [] })).statusCode).toBe(400);
    expect(readFileSync(configFile, 'utf8')).toBe(saved);
  });

  it('reports store-level KPIs of the plan lines and zones from the plan events', async () => {
    const store = gateway.store!;
    const t0 = Date.UTC(2026, 10, 2, 10);
    const s = 1000;
    await store.record({ type: 'plan_line_crossing', ts: t0, line: 'entrance', direction: 'in' });
    await store.record({ type: 'plan_line_crossing', ts: t0 + 5 * s, line: 'entrance', direction: 'in' });
    await store.record({ type: 'plan_line_crossing', ts: t0 + 60 * s, line: 'entrance', direction: 'out' });
    // Two visits overlapping 10 s, one pass-through; one visit that ended before the period.
    await store.record({ type: 'plan_zone_visit', ts: t0 + 40 * s, zone: 'promo', enter_ts: t0 + 10 * s, dwell_ms: 30 * s, counted: true });
    await store.record({ type: 'plan_zone_visit', ts: t0 + 50 * s, zone: 'promo', enter_ts: t0 + 30 * s, dwell_ms: 20 * s, counted: true });
    await store.record({ type: 'plan_zone_visit', ts: t0 + 70 * s, zone: 'promo', enter_ts: t0 + 69 * s, dwell_ms: 1 * s, counted: false });
    await store.record({ type: 'plan_zone_visit', ts: t0 - 10 * s, zone: 'promo', enter_ts: t0 - 20 * s, dwell_ms: 10 * s, counted: true });
    const res = await app.inject({ url: `/ui/api/plan/kpis?from=${t0}&to=${t0 + 100 * s}`, headers: { cookie: cookies.ana! } });
    expect(res.statusCode, res.body).toBe(200);
    const kpis = res.json();
    expect(kpis.from).toBe('2026-11-02T10:00:00+00:00');
    expect(kpis.lines).toEqual({ entrance: { in: 2, out: 1 } });
    expect(kpis.zones.promo).toEqual({ visits: 2, passes: 1, dwell_mean_s: 25, dwell_p50_s: 25, dwell_p90_s: 29, occupancy_max: 2, occupancy_mean: 0.51, occupancy_now: 0 });
    const wrong = await app.inject({ url: `/ui/api/plan/kpis?from=${t0}&to=${t0 - 1}`, headers: { cookie: cookies.ana! } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.message).toMatch(/`to` must be after `from`/);
  });
});
