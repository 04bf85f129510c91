/**
 * The live gateway with fusion on: the two vtest crops played as two file cameras at their own
 * pace (ffmpeg sources, the detector pool, the per-camera trackers), fused on the plan, and the
 * store-level events landing in the real SQLite file. Counts are checked against the single camera
 * in vtestTwoCameras.test.ts; this test checks the wiring. Skips without vtest.avi or ffmpeg.
 */
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { apiTokens } from '../../src/gateway/http/apiAuth.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { hasVtest, VTEST_PATH } from '../helpers/fixtures.js';
import { tempDir, testContext, until } from '../helpers/gatewayHarness.js';
import { CROPS, cropCalibration, cropVideo, vtestPlan } from './vtestSplit.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

describe.skipIf(!hasVtest || !hasFfmpeg)('the live gateway fusing two overlapping cameras', () => {
  let dir: string | undefined;
  let gateway: Gateway | undefined;
  afterAll(async () => {
    await gateway?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('records store-level line crossings from both cameras’ tracks, without camera or track ids', async () => {
    dir = await tempDir('gateway-fusion');
    const cameras = [];
    for (const c of CROPS) {
      const file = path.join(dir, `${c.id}.mkv`);
      await cropVideo(VTEST_PATH, c.offsetX, file);
      cameras.push({ id: c.id, source: { kind: 'file', path: file }, fps: 5, calibration: cropCalibration(c.offsetX) });
    }
    const { lines, zones } = vtestPlan();
    const ctx = testContext();
    gateway = await Gateway.start({ ctx, rawConfig: { data_dir: path.join(dir, 'data'), tls: { mode: 'off' }, cameras, plan: { lines, zones } } });
    expect(gateway.mode).toBe('running');
    expect(gateway.fusion.status()).toMatchObject({ enabled: true, cameras: ['left', 'right'] });

    const store = gateway.store!;
    const from = Date.now() - 60_000;
    const crossings = await until(
      () => store.events.query({ from, to: Date.now() + 60_000, types: ['plan_line_crossing'] }),
      (rows) => rows.length >= 5,
      180_000,
      'five store-level line crossings',
    );
    for (const { event } of crossings) {
      expect(event).toEqual({ type: 'plan_line_crossing', ts: expect.any(Number), line: expect.stringMatching(/^(cross|along)-/), direction: expect.stringMatching(/^(in|out)$/) });
    }
    const status = gateway.fusion.status();
    // People in the overlap were seen by both cameras and fused.
    expect(status.fusion!.associations).toBeGreaterThan(0);
    const metrics = await ctx.metrics.registry.getMetricsAsJSON();
    expect(metrics.find((m) => m.name === 'storepulse_plan_people')).toBeDefined();

    // The events API serves them like any other event, by type and by source.
    const app = buildServer(gateway, ctx);
    try {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/events?type=plan_line_crossing,plan_zone_visit&source=plan&from=${new Date(from).toISOString()}`,
        headers: { authorization: `Bearer ${apiTokens(gateway.config)[0]!.token}` },
      });
      expect(res.statusCode).toBe(200);
      const events = (res.json() as { events: { type: string }[] }).events;
      expect(events.filter((e) => e.type === 'plan_line_crossing').length).toBeGreaterThanOrEqual(crossings.length);
    } finally {
      await app.close();
    }
  }, 240_000);
});
