/**
 * The whole chain in the live gateway on real footage: vtest.avi played as a camera (real ffmpeg,
 * detector workers and tracker), calibrated onto the PETS09-S2L1 ground plane, fused (src/fusion),
 * journeys over five plan zones, served by GET /api/v1/journeys and saved to SQLite at shutdown.
 * The annotations (../shared) only provide the calibration and the zones: skipped without them.
 * Takes a minute or two (the footage plays in real time).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { JourneyReport } from '../../src/analytics/journeys/journeyAggregate.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { apiTokens } from '../../src/gateway/http/apiAuth.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { DATABASE_FILE } from '../../src/store/dataStore.js';
import { hasPets09, hasVtest, VTEST_PATH } from '../helpers/fixtures.js';
import { tempDir, testContext, until } from '../helpers/gatewayHarness.js';
import { PETS_FUNNEL, PETS_ZONES, petsCalibration, petsRows } from './petsPlan.js';

describe.skipIf(!hasVtest || !hasPets09)('journeys in the live gateway on vtest.avi', () => {
  let gateway: Gateway | undefined;
  afterAll(async () => {
    await gateway?.stop();
  });

  it('counts journeys from the camera through fusion, serves them without track ids and saves them', async () => {
    const dir = await tempDir('journeys-vtest');
    const dataDir = path.join(dir, 'data');
    const ctx = testContext();
    const startedAt = Date.now();
    gateway = await Gateway.start({
      ctx,
      rawConfig: {
        data_dir: dataDir,
        tls: { mode: 'off' },
        cameras: [{ id: 'vtest', source: { kind: 'file', path: VTEST_PATH }, fps: 5, calibration: petsCalibration(petsRows()) }],
        plan: { zones: PETS_ZONES },
        journeys: { funnel: PETS_FUNNEL },
      },
    });
    expect(gateway.mode).toBe('running');
    expect(gateway.fusion.status()).toMatchObject({ enabled: true, cameras: ['vtest'] });
    const today = () => gateway!.journeys.report(startedAt - 86_400_000, Date.now() + 86_400_000, '1d')!.reduce((n, b) => n + b.report.journeys, 0);
    // People leave the scene from 15 s into the video on; each journey ends 10 s after its last sighting.
    await until(today, (n) => n >= 6, 200_000, 'six finished journeys');

    const app = buildServer(gateway, ctx);
    let report: JourneyReport;
    try {
      const res = await app.inject({ method: 'GET', url: '/api/v1/journeys?bin=1d', headers: { authorization: `Bearer ${apiTokens(gateway.config)[0]!.token}` } });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toMatch(/store-\d|vtest#|trackId/);
      const bins = (res.json() as { bins: JourneyReport[] }).bins;
      report = bins.find((b) => b.journeys > 0)!;
    } finally {
      await app.close();
    }
    const total = (side: 'from' | 'to', state: string) => report.transitions.filter((t) => t[side] === state).reduce((s, t) => s + t.count, 0);
    expect(report.journeys).toBeGreaterThanOrEqual(6);
    expect(total('from', 'entry')).toBe(report.journeys);
    expect(total('to', 'exit')).toBe(report.journeys);
    expect(report.top_paths.reduce((s, p) => s + p.count, 0) + report.other_paths.journeys).toBe(report.journeys);
    // People really walked through the zones (in truth: north 21, centre 23, south 15 visits over the video).
    expect(report.zones.filter((z) => z.visits > 0).length).toBeGreaterThanOrEqual(2);
    expect(report.buying_units.persons).toBe(report.journeys);

    const counted = today();
    await gateway.stop();
    gateway = undefined;
    // Shutdown ended the journeys in progress and saved every minute bin.
    const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    try {
      const saved = db.prepare('SELECT counts FROM journey_bins').all() as { counts: string }[];
      const journeys = saved.reduce((n, r) => n + (JSON.parse(r.counts) as { journeys: number }).journeys, 0);
      expect(journeys).toBeGreaterThanOrEqual(counted);
    } finally {
      db.close();
    }
  }, 300_000);
});
