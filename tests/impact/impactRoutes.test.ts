/**
 * /api/v1/annotations and /api/v1/impact through the real HTTP server of a gateway started on a
 * data_dir whose SQLite file holds ten weeks of hourly KPI bins of a synthetic store with a known
 * +20 % lift in the promotion zone from 14 March 2026 (Europe/Paris, across the spring DST change).
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticStoreBins } from '../../src/analytics/impact/syntheticStore.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { openDatabase } from '../../src/store/database.js';
import { DATABASE_FILE } from '../../src/store/dataStore.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';
import { writeHourlyAggregates } from './syntheticDatabase.js';

const TOKEN = 'impact-test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const CHANGE = Date.parse('2026-03-14T00:00:00+01:00');
const MISSING_DAY = Date.parse('2026-03-03T00:00:00+01:00');
const DAY = 86_400_000;

const running: { gateway: Gateway; app: FastifyInstance }[] = [];
afterEach(async () => {
  for (const { gateway, app } of running.splice(0)) {
    await app.close();
    await gateway.stop();
  }
});

async function start(): Promise<FastifyInstance> {
  const dataDir = await tempDir('impact-api');
  const file = path.join(dataDir, DATABASE_FILE);
  writeHourlyAggregates(file, syntheticStoreBins({ seed: 3, change: CHANGE, weeks: 5, trafficLift: 0.2 }));
  const db = openDatabase(file);
  // The gateway was off on 3 March: no bins that day.
  db.prepare("DELETE FROM aggregates WHERE size = '1h' AND bin >= ? AND bin < ?").run(MISSING_DAY, MISSING_DAY + DAY);
  db.close();
  const ctx = { ...testContext(), now: () => CHANGE + 6 * 7 * DAY };
  const gateway = await Gateway.start({ ctx, rawConfig: { data_dir: dataDir, timezone: 'Europe/Paris', api: { tokens: [{ name: 'analyst', token: TOKEN }] } } });
  const app = buildServer(gateway, ctx);
  await app.ready();
  running.push({ gateway, app });
  return app;
}

describe('annotations API', () => {
  it('adds, lists (JSON and CSV) and deletes annotations; refuses bad ones with a reason; needs a token', async () => {
    const app = await start();
    const noToken = await app.inject({ method: 'POST', url: '/api/v1/annotations', payload: { time: '2026-03-14T08:00', text: 'x' } });
    expect(noToken.statusCode).toBe(401);

    const added = await app.inject({ method: 'POST', url: '/api/v1/annotations', headers: AUTH, payload: { time: '2026-03-14T08:00:00+01:00', text: 'promo display moved to the end-cap', subject: 'zone:promo' } });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ id: 1, time: '2026-03-14T08:00:00+01:00', text: 'promo display moved to the end-cap', subject: 'zone:promo', created_by: 'token:analyst' });
    const sale = await app.inject({ method: 'POST', url: '/api/v1/annotations', headers: AUTH, payload: { time: Date.parse('2026-03-20T09:00:00+01:00'), text: 'spring sale, whole store' } });
    expect(sale.statusCode).toBe(201);

    const listed = await app.inject({ url: '/api/v1/annotations?from=2026-03-01T00:00:00%2B01:00&to=2026-04-01T00:00:00%2B02:00', headers: AUTH });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().annotations.map((a: { text: string }) => a.text)).toEqual(['promo display moved to the end-cap', 'spring sale, whole store']);
    const csv = await app.inject({ url: '/api/v1/annotations?from=2026-03-01&to=2026-04-01&format=csv', headers: AUTH });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body.split('\r\n')[0]).toBe('id,time,text,subject');
    expect(csv.body).toContain('1,2026-03-14T08:00:00+01:00,promo display moved to the end-cap,zone:promo');

    for (const [payload, message] of [
      [{ time: '2026-03-14', text: 'two\nlines' }, /one line/],
      [{ time: '2026-03-14', text: 'ok', subject: 'shelf 4' }, /subject must be/],
      [{ time: 'soon', text: 'ok' }, /time must be ISO 8601/],
      [{ time: '2026-03-14', text: '' }, /text must not be empty/],
      [{ time: '2026-03-14' }, /text/],
    ] as const) {
      const r = await app.inject({ method: 'POST', url: '/api/v1/annotations', headers: AUTH, payload });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(r.json().error.message).toMatch(message);
    }

    const metrics = (await app.inject({ url: '/metrics' })).body;
    // Counted: three refused by the annotation checks, one bad time (a missing text is the schema's own 400).
    expect(metrics).toMatch(/^storepulse_impact_requests_rejected_total\{route="annotations",code="bad_annotation"\} 3$/m);
    expect(metrics).toMatch(/^storepulse_impact_requests_rejected_total\{route="annotations",code="bad_time"\} 1$/m);

    expect((await app.inject({ method: 'DELETE', url: '/api/v1/annotations/2', headers: AUTH })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/annotations/2', headers: AUTH })).json().error.code).toBe('unknown_annotation');
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/annotations/abc', headers: AUTH })).statusCode).toBe(400);
  });
});

describe('impact API', () => {
  it('finds the injected lift relative to the control, lists the missing day and the annotations of the period', async () => {
    const app = await start();
    await app.inject({ method: 'POST', url: '/api/v1/annotations', headers: AUTH, payload: { time: '2026-03-14T08:00:00+01:00', text: 'promo display moved', subject: 'zone:promo' } });
    const r = await app.inject({ url: '/api/v1/impact?subject=zone:promo&change=2026-03-14&weeks=4&control=zone:aisle', headers: AUTH });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({
      subject: 'zone:promo',
      controls: ['zone:aisle'],
      time_zone: 'Europe/Paris',
      change: '2026-03-14T00:00:00+01:00',
      weeks: 4,
      before: { from: '2026-02-14T00:00:00+01:00', days: 27 },
      after: { to: '2026-04-11T00:00:00+02:00', days: 28 },
      excluded_days: [{ date: '2026-03-03', side: 'before', reason: 'no data' }],
      annotations: [{ time: '2026-03-14T08:00:00+01:00', text: 'promo display moved', subject: 'zone:promo' }],
    });
    const traffic = body.metrics.find((m: { metric: string }) => m.metric === 'traffic');
    expect(traffic.verdict).toBe('increase');
    expect(traffic.vs_control.low).toBeGreaterThan(0);
    expect(traffic.vs_control.low).toBeLessThanOrEqual(0.2);
    expect(traffic.vs_control.high).toBeGreaterThanOrEqual(0.2);
    expect(body.metrics.find((m: { metric: string }) => m.metric === 'dwell').verdict).toBe('no significant change');

    const csv = await app.inject({ url: '/api/v1/impact?subject=zone:promo&change=2026-03-14&control=zone:aisle&format=csv', headers: AUTH });
    expect(csv.statusCode).toBe(200);
    const [header, ...rows] = csv.body.trim().split('\r\n');
    expect(header).toMatch(/^subject,controls,change,weeks,metric,unit,before,after,change_lift/);
    expect(rows.map((row) => row.split(',')[4])).toEqual(['traffic', 'dwell', 'visit_rate', 'conversion']);
  });

  it('refuses bad questions with a coded error', async () => {
    const app = await start();
    const ask = async (query: string) => {
      const r = await app.inject({ url: `/api/v1/impact?${query}`, headers: AUTH });
      return { status: r.statusCode, code: r.json().error?.code as string, message: r.json().error?.message as string };
    };
    expect(await ask('subject=zone:bakery&change=2026-03-14')).toMatchObject({ status: 404, code: 'unknown_subject', message: expect.stringMatching(/known: zone:aisle, zone:promo/) });
    expect(await ask('subject=shelf&change=2026-03-14')).toMatchObject({ status: 400, code: 'bad_impact_query' });
    expect(await ask('subject=zone:promo&change=14.03.2026')).toMatchObject({ status: 400, code: 'bad_impact_query', message: expect.stringMatching(/YYYY-MM-DD/) });
    expect(await ask('subject=zone:promo&change=2026-03-14&control=zone:promo')).toMatchObject({ status: 400, message: expect.stringMatching(/subject itself/) });
    expect((await ask('subject=zone:promo&change=2026-03-14&weeks=52')).status).toBe(400);
    expect((await ask('change=2026-03-14')).status).toBe(400);
    expect((await app.inject({ url: '/api/v1/impact?subject=zone:promo&change=2026-03-14' })).statusCode).toBe(401);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^storepulse_impact_requests_rejected_total\{route="impact",code="unknown_subject"\} 1$/m);
    expect(metrics).toMatch(/^storepulse_impact_requests_rejected_total\{route="impact",code="bad_impact_query"\} 3$/m);
  });
});
