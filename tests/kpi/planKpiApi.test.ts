/**
 * /api/v1/kpis with a floor plan: store-level events recorded in the gateway's real SQLite file show
 * up as the bins' `plan` section (JSON) and as plan_* rows (CSV). Stored bins and upstream messages:
 * tests/upstream/planKpiSchema.test.ts.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { apiTokens } from '../../src/gateway/http/apiAuth.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import type { StoreEvent } from '../../src/kpi/events.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';

// A Monday morning in the store's zone (UTC+1 in November), well in the past so every bin is closed.
const at = (hhmm: string): number => Date.parse(`2026-11-23T${hhmm}:00+01:00`);

describe('/api/v1/kpis with store-level plan lines and zones', () => {
  let dir: string;
  let gateway: Gateway;
  let app: FastifyInstance;
  let authorization: string;

  beforeAll(async () => {
    dir = await tempDir('plan-kpi-api');
    const rawConfig = {
      data_dir: path.join(dir, 'data'),
      tls: { mode: 'off' },
      timezone: 'Europe/Paris',
      cameras: [
        {
          id: 'door',
          enabled: false,
          source: { kind: 'rtsp', url: 'rtsp://127.0.0.1:1/none' },
          lines: [{ name: 'entrance', points: [[0, 0.5], [1, 0.5]] }],
          zones: [{ name: 'promo', polygon: [[0, 0], [1, 0], [1, 1]] }],
          calibration: { image_points: [[0, 0], [1, 0], [1, 1], [0, 1]], plan_points: [[0, 0], [10, 0], [10, 8], [0, 8]] },
        },
      ],
      plan: {
        lines: [{ name: 'entrance', points: [[1, 1], [1, 5]] }],
        zones: [
          { name: 'promo', polygon: [[3, 1], [6, 1], [6, 4], [3, 4]], min_dwell_s: 5 },
          { name: 'till', polygon: [[7, 1], [9, 1], [9, 4], [7, 4]], queue: true },
        ],
      },
      kpi: { entrances: [{ camera: 'door', line: 'entrance' }] },
    };
    gateway = await Gateway.start({ ctx: testContext(), rawConfig });
    expect(gateway.mode).toBe('running');
    const events: StoreEvent[] = [
      { type: 'line_crossing', ts: at('10:01'), camera: 'door', line: 'entrance', direction: 'in' },
      { type: 'line_crossing', ts: at('10:02'), camera: 'door', line: 'entrance', direction: 'in' },
      { type: 'zone_visit', ts: at('10:06'), camera: 'door', zone: 'promo', enter_ts: at('10:05'), dwell_ms: 60_000, counted: true },
      { type: 'plan_line_crossing', ts: at('10:01'), line: 'entrance', direction: 'in' },
      { type: 'plan_line_crossing', ts: at('10:02'), line: 'entrance', direction: 'in' },
      { type: 'plan_line_crossing', ts: at('10:50'), line: 'entrance', direction: 'out' },
      { type: 'plan_zone_visit', ts: at('10:06'), zone: 'promo', enter_ts: at('10:05'), dwell_ms: 60_000, counted: true },
      { type: 'plan_zone_visit', ts: at('10:20'), zone: 'promo', enter_ts: at('10:19') + 58_000, dwell_ms: 2_000, counted: false },
      { type: 'plan_zone_visit', ts: at('10:32'), zone: 'till', enter_ts: at('10:30'), dwell_ms: 120_000, counted: true },
    ];
    for (const e of events) await gateway.store!.record(e);
    app = buildServer(gateway, testContext());
    authorization = `Bearer ${apiTokens(gateway.config)[0]!.token}`;
  });
  afterAll(async () => {
    await app?.close();
    await gateway?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = (query: string) => app.inject({ url: `/api/v1/kpis?from=${encodeURIComponent('2026-11-23T10:00:00+01:00')}&to=${encodeURIComponent('2026-11-23T11:00:00+01:00')}&${query}`, headers: { authorization } });

  it('serves plan lines, zones and queues in a plan section of each bin (JSON)', async () => {
    const res = await get('bin=1h');
    expect(res.statusCode).toBe(200);
    const [bin] = res.json().bins;
    expect(bin.plan.lines).toEqual({ entrance: { in: 2, out: 1 } });
    expect(bin.plan.zones.promo).toMatchObject({ visits: 1, passes: 1, engaged: 1, dwell_mean_s: 60, bounce_rate: 0.5, visit_rate: 0.5, occupancy_max: 1 });
    expect(bin.plan.zones.till).toMatchObject({ visits: 1, dwell_mean_s: 120 });
    expect(bin.plan.queues.till).toMatchObject({ served: 1, wait_mean_s: 120, length_max: 1 });
    // The camera's own keys are untouched: the plan zone of the same name is not among them.
    expect(Object.keys(bin.zones)).toEqual(['door/promo']);
    expect(Object.keys(bin.lines)).toEqual(['door/entrance']);
    expect(bin.traffic.in).toBe(2);
  });

  it('filters the plan section like camera subjects', async () => {
    const [bin] = (await get('bin=1h&zone=till')).json().bins;
    expect(Object.keys(bin.plan.zones)).toEqual(['till']);
    expect(bin.plan.lines).toEqual({});
  });

  it('exports plan_* rows with the plan name as subject (CSV)', async () => {
    const res = await get('bin=1h&format=csv');
    expect(res.statusCode).toBe(200);
    const lines = res.body.trim().split('\r\n');
    expect(lines[0]).toBe('bin_start,bin_end,metric,subject,value');
    const row = (metric: string, subject: string) => lines.find((l) => l.split(',')[2] === metric && l.split(',')[3] === subject)?.split(',')[4];
    expect(row('plan_line_in', 'entrance')).toBe('2');
    expect(row('plan_line_out', 'entrance')).toBe('1');
    expect(row('plan_zone_visits', 'promo')).toBe('1');
    expect(row('plan_zone_dwell_p90_s', 'promo')).toBe('60');
    expect(row('plan_zone_occupancy_max', 'till')).toBe('1');
    expect(row('plan_queue_served', 'till')).toBe('1');
    expect(row('zone_visits', 'door/promo')).toBe('1');
  });

  it('serves 15-minute bins with the plan zone where its visit ended', async () => {
    const bins = (await get('bin=15m')).json().bins as { plan: { zones: Record<string, { visits: number }> } }[];
    expect(bins.map((b) => b.plan.zones['promo']?.visits ?? null)).toEqual([1, 0, null, null]);
  });

  it('reads a period that starts inside a bin from the bin\'s start: bins are whole, never cut', async () => {
    const from = encodeURIComponent('2026-11-23T10:30:00+01:00');
    const res = await app.inject({ url: `/api/v1/kpis?from=${from}&to=${encodeURIComponent('2026-11-23T11:00:00+01:00')}&bin=1h`, headers: { authorization } });
    expect(res.statusCode).toBe(200);
    const [bin] = res.json().bins;
    expect(bin.from).toBe('2026-11-23T10:00:00+01:00');
    // The crossings of 10:01 and 10:02 are in the hour, though before the period's start.
    expect(bin.traffic.in).toBe(2);
    expect(bin.plan.lines).toEqual({ entrance: { in: 2, out: 1 } });
  });
});
