/**
 * The fleet REST API on a real PostgreSQL: simulated stores' KPI bins written by central's own batch
 * writer, read back as JSON and CSV; the token is required; bad periods are a 400 with the reason.
 */
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planBatch } from '../../src/central/batchPlan.js';
import { writeBatch } from '../../src/central/batchWriter.js';
import { createCentralMetrics } from '../../src/central/centralMetrics.js';
import { buildFleetApi, parsePeriod } from '../../src/central/fleetApi.js';
import { publications, simulatedFleet, simulateGateway } from '../../src/central/fleetSimulation.js';
import { migrate } from '../../src/central/migrations.js';
import { PartitionKeeper } from '../../src/central/monthPartitions.js';
import { postgresUnavailable, usePostgres } from '../helpers/postgres.js';

const START = Date.UTC(2026, 10, 16, 7, 0);
const TOKEN = 'head-office-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('parsePeriod', () => {
  it('needs from and to, in order, at most 400 days apart', () => {
    expect(parsePeriod({ from: '2026-09-01', to: '2026-10-01' })).toEqual({ ok: true, from: new Date('2026-09-01'), to: new Date('2026-10-01') });
    expect(parsePeriod({ to: '2026-10-01' })).toMatchObject({ ok: false, error: expect.stringMatching(/^from is required/) });
    expect(parsePeriod({ from: 'yesterday', to: '2026-10-01' })).toEqual({ ok: false, error: 'from is not a date: yesterday' });
    expect(parsePeriod({ from: '2026-10-01', to: '2026-09-01' })).toEqual({ ok: false, error: 'to must be after from' });
    expect(parsePeriod({ from: '2020-01-01', to: '2026-01-01' })).toEqual({ ok: false, error: 'at most 400 days per request' });
  });
});

describe.skipIf(postgresUnavailable() !== undefined)('fleet REST API (real PostgreSQL)', () => {
  const postgres = usePostgres();
  let pool: pg.Pool;
  let app: FastifyInstance;
  const fleet = simulatedFleet(3).map((gw, i) => ({ gw, traffic: simulateGateway(gw, { start: START, minutes: 6 * 60, seed: 40 + i, hourly: true }) }));

  beforeAll(async () => {
    const url = await postgres().createDatabase('fleet_api');
    pool = new pg.Pool({ connectionString: url, max: 2 });
    const client = await pool.connect();
    try {
      await migrate(client);
      const now = START + 7 * 3_600_000;
      const received = fleet.flatMap(({ gw, traffic }) => publications(gw, traffic.messages, START)).map((m) => ({ topic: m.topic, payload: Buffer.from(m.payload), receivedAt: now }));
      await writeBatch(client, planBatch(received, 'storepulse', now), new PartitionKeeper());
    } finally {
      client.release();
    }
    app = buildFleetApi({ db: pool, tokens: [{ name: 'office', token: TOKEN }], metrics: createCentralMetrics().registry });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await pool?.end();
  });

  it('refuses a request without the token, and serves /healthz without one', async () => {
    for (const url of ['/api/v1/fleet/gateways', '/api/v1/fleet/correlation?from=2026-11-16&to=2026-11-17', '/metrics']) {
      expect((await app.inject({ url })).statusCode, url).toBe(401);
      expect((await app.inject({ url, headers: { authorization: 'Bearer wrong-token-wrong-token-000' } })).statusCode, url).toBe(401);
    }
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ ok: true });
  });

  it('lists the gateways with their last sequence number', async () => {
    const res = await app.inject({ url: '/api/v1/fleet/gateways', headers: auth });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ store_id: string; last_seq: number; state: string | null }[]>();
    expect(body.map((g) => ({ store: g.store_id, lastSeq: g.last_seq, state: g.state }))).toEqual(
      fleet.map(({ gw, traffic }) => ({ store: gw.storeId, lastSeq: traffic.messages.length, state: null })),
    );
  });

  it('correlation and conversion as JSON and CSV, for the hours asked', async () => {
    const q = 'from=2026-11-16T07:00:00Z&to=2026-11-16T13:00:00Z';
    const correlation = (await app.inject({ url: `/api/v1/fleet/correlation?${q}`, headers: auth })).json<{ store_id: string; hours: number; pearson: number }[]>();
    // Hours with traffic or a sale; the simulated stores have quiet hours.
    const openHours = (storeId: string, from: number, to: number): number =>
      [...fleet.find((f) => f.gw.storeId === storeId)!.traffic.hourlyBins.entries()].filter(([at, h]) => at >= from && at < to && (h.trafficIn > 0 || h.transactions > 0)).length;
    expect(correlation.map((c) => c.store_id)).toEqual(fleet.map((f) => f.gw.storeId));
    for (const c of correlation) expect(c.hours).toBe(openHours(c.store_id, START, START + 6 * 3_600_000));
    expect(correlation.some((c) => c.hours >= 4)).toBe(true);

    const conversion = (await app.inject({ url: `/api/v1/fleet/conversion?${q}`, headers: auth })).json<{ rank: number; store_id: string; traffic_in: number; transactions: number }[]>();
    expect(conversion.map((c) => c.rank)).toEqual([1, 2, 3]);
    for (const c of conversion) {
      const hours = [...fleet.find((f) => f.gw.storeId === c.store_id)!.traffic.hourlyBins.values()];
      expect(c.traffic_in).toBe(hours.reduce((s, h) => s + h.trafficIn, 0));
      expect(c.transactions).toBe(hours.reduce((s, h) => s + h.transactions, 0));
    }

    const csv = await app.inject({ url: `/api/v1/fleet/conversion?${q}&format=csv`, headers: auth });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('rank,store_id,traffic_in,transactions,sales,conversion,sales_per_visitor');
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(conversion.map((c) => c.store_id));

    // Only the first two hours: fewer hours per store.
    const early = (await app.inject({ url: '/api/v1/fleet/correlation?from=2026-11-16T07:00:00Z&to=2026-11-16T09:00:00Z', headers: auth })).json<{ store_id: string; hours: number }[]>();
    expect(early.length).toBeGreaterThan(0);
    for (const c of early) expect(c.hours).toBe(openHours(c.store_id, START, START + 2 * 3_600_000));
  });

  it('a bad period is a 400 with the reason', async () => {
    const res = await app.inject({ url: '/api/v1/fleet/correlation?from=2026-11-17&to=2026-11-16', headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'to must be after from' });
  });
});
