/**
 * Journeys through the real gateway: config → journey service → GET /api/v1/journeys (JSON and CSV),
 * and closed bins → the real SQLite outbox → the upstream JSON schema. Samples are fed where the
 * fused store-level tracks would come in (onPlanSamples) and, for a calibrated camera, as tracker
 * boxes through the same path the camera pipeline uses.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { GatewayJourneys } from '../../src/gateway/gatewayJourneys.js';
import { apiTokens } from '../../src/gateway/http/apiAuth.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { createMetrics } from '../../src/gateway/metrics.js';
import { DataStore } from '../../src/store/dataStore.js';
import { LiveFusion } from '../../src/fusion/liveFusion.js';
import { setupDigest } from '../../src/store/journeyBins.js';
import { JourneyService } from '../../src/analytics/journeys/journeyService.js';
import { envelope } from '../../src/upstream/messages.js';
import { tempDir, writeConfig } from '../helpers/gatewayHarness.js';
import { upstreamValidators } from '../helpers/upstreamSchemas.js';
import { offset, rawStoreConfig, SHOPPER, walk, type Waypoint } from './trajectories.js';
import type { PlanTrackSample } from '../../src/analytics/journeys/planTrack.js';

/** 09:30 in Paris (UTC+1 in March): counting starts in the 09:00 bin, so the first full bin is 10:00–11:00. */
const START = Date.parse('2026-03-14T09:30:00+01:00');
const START_S = START / 1000;
const TEN = '2026-03-14T10:00:00+01:00';
const ELEVEN = '2026-03-14T11:00:00+01:00';
const TO_AISLE: Waypoint[] = [[0, 1, 2], [3, 1, 2], [5, 7, 8], [12, 7, 8], [15, 1, 9]];

/** 8 people entrance → promo → till (6 alone, 1 couple) and 2 alone entrance → aisle, all between 10:10 and 10:35. */
function morning(): PlanTrackSample[][] {
  const walks: PlanTrackSample[][] = [];
  for (let i = 0; i < 6; i++) walks.push(walk(`walker-${i}`, offset(SHOPPER, 0, 0, START_S + 2400 + i * 60)));
  walks.push(walk('walker-a', offset(SHOPPER, 0, 0, START_S + 3000)), walk('walker-b', offset(SHOPPER, 0, 0.6, START_S + 3000.3)));
  for (let i = 0; i < 2; i++) walks.push(walk(`walker-aisle-${i}`, offset(TO_AISLE, 0, 0, START_S + 3600 + i * 120)));
  return walks;
}

function feed(service: JourneyService, walks: PlanTrackSample[][]): void {
  const frames = new Map<number, PlanTrackSample[]>();
  for (const s of walks.flat()) frames.set(s.tMs, [...(frames.get(s.tMs) ?? []), s]);
  for (const t of [...frames.keys()].sort((a, b) => a - b)) service.onPlanSamples('store', frames.get(t)!, t);
  service.flush();
}

const handles: { app: FastifyInstance; gateway: Gateway }[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) {
    await h.app.close();
    await h.gateway.stop();
  }
});

async function startGateway(extra: Record<string, unknown>) {
  const dir = await tempDir('journeys-api');
  const clock = { now: START };
  const ctx = { log: pino({ level: 'silent' }), metrics: createMetrics(), now: () => clock.now };
  const gateway = await Gateway.start({ ctx, rawConfig: { data_dir: path.join(dir, 'data'), tls: { mode: 'off' }, timezone: 'Europe/Paris', ...extra } });
  const app = buildServer(gateway, ctx);
  await app.ready();
  handles.push({ app, gateway });
  const authorization = `Bearer ${apiTokens(gateway.config)[0]!.token}`;
  const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization } });
  return { gateway, app, get, clock, ctx };
}

/** The test store with its camera disabled (no detector needed: samples are fed directly). */
const storeWithJourneys = () => {
  const raw = rawStoreConfig();
  return { ...raw, cameras: (raw.cameras as object[]).map((c) => ({ ...c, enabled: false })) };
};

describe('GET /api/v1/journeys', () => {
  it('reports the matrix, the paths over the minimum count, the funnel and buying units per bin, and no track ids', async () => {
    const { gateway, get } = await startGateway(storeWithJourneys());
    feed(gateway.journeys, morning());
    const res = await get(`/api/v1/journeys?from=${encodeURIComponent(TEN)}&to=${encodeURIComponent(ELEVEN)}&bin=1h`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { bin: string; time_zone: string; bins: Record<string, unknown>[] };
    expect(body.bin).toBe('1h');
    expect(body.time_zone).toBe('Europe/Paris');
    expect(body.bins).toHaveLength(1);
    const bin = body.bins[0]!;
    expect(bin).toMatchObject({
      from: TEN,
      to: ELEVEN,
      journeys: 10,
      top_paths: [{ zones: ['entrance', 'promo', 'till'], continues: false, count: 8 }],
      other_paths: { paths: 1, journeys: 2 }, // entrance → aisle: only 2 people, under the minimum of 5
      min_path_count: 5,
      funnel: [
        { zone: 'entrance', persons: 10, person_conversion: 1, units: 9, unit_conversion: 1 },
        { zone: 'promo', persons: 8, person_conversion: 0.8, units: 7, unit_conversion: 0.7778 },
        { zone: 'till', persons: 8, person_conversion: 1, units: 7, unit_conversion: 1 },
      ],
      buying_units: { units: 9, persons: 10, mean_size: 1.1111, sizes: [{ size: 1, units: 8 }, { size: 2, units: 1 }] },
      conversion: { persons: 0.8, units: 0.7778 },
    });
    expect(bin.transitions).toContainEqual({ from: 'entry', to: 'entrance', count: 10 });
    expect(bin.transitions).toContainEqual({ from: 'entrance', to: 'aisle', count: 2 });
    expect(bin.transitions).toContainEqual({ from: 'aisle', to: 'exit', count: 2 });
    expect(res.body).not.toMatch(/walker|trackId|store#/);
    // Outside the bin: nothing.
    const before = (await get(`/api/v1/journeys?from=${encodeURIComponent('2026-03-14T09:00:00+01:00')}&to=${encodeURIComponent(TEN)}`)).json() as { bins: { journeys: number }[] };
    expect(before.bins.map((b) => b.journeys)).toEqual([0]);
  });

  it('exports CSV in long format', async () => {
    const { gateway, get } = await startGateway(storeWithJourneys());
    feed(gateway.journeys, morning());
    const res = await get(`/api/v1/journeys?from=${encodeURIComponent(TEN)}&to=${encodeURIComponent(ELEVEN)}&format=csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = res.body.trim().split(/\r?\n/);
    expect(lines[0]).toBe('bin_start,bin_end,section,subject,metric,value');
    expect(lines).toContain(`${TEN},${ELEVEN},path,entrance > promo > till,journeys,8`);
    expect(lines).toContain(`${TEN},${ELEVEN},transition,entry > entrance,count,10`);
    expect(lines).toContain(`${TEN},${ELEVEN},funnel,till,units,7`);
    expect(lines).toContain(`${TEN},${ELEVEN},path,other,journeys,2`);
  });

  it.each([
    ['a bad time', 'from=yesterday', 400, 'bad_time'],
    ['an empty period', `from=${encodeURIComponent(ELEVEN)}&to=${encodeURIComponent(TEN)}`, 400, 'bad_period'],
    ['too many bins', `from=2026-03-01T00:00:00Z&to=2026-03-14T00:00:00Z&bin=1m`, 400, 'too_many_bins'],
    ['a period over 31 days', `from=2026-01-01T00:00:00Z&to=2026-03-14T00:00:00Z&bin=1d`, 400, 'period_too_long'],
    ['an unknown bin size', 'bin=2h', 400, 'FST_ERR_VALIDATION'],
  ])('answers %s with a coded error', async (_name, query, status, code) => {
    const { get } = await startGateway(storeWithJourneys());
    const res = await get(`/api/v1/journeys?${query}`);
    expect(res.statusCode).toBe(status);
    expect((res.json() as { error: { code: string; message: string } }).error.code).toBe(code);
  });

  it('turns journeys on when a config reload adds them, without a restart', async () => {
    const dir = await tempDir('journeys-reload');
    const file = path.join(dir, 'gateway.yaml');
    const base = { data_dir: path.join(dir, 'data'), tls: { mode: 'off' }, timezone: 'Europe/Paris' };
    await writeConfig(file, base);
    const ctx = { log: pino({ level: 'silent' }), metrics: createMetrics(), now: () => START };
    const gateway = await Gateway.start({ ctx, configPath: file });
    const app = buildServer(gateway, ctx);
    handles.push({ app, gateway });
    const get = () => app.inject({ method: 'GET', url: '/api/v1/journeys', headers: { authorization: `Bearer ${apiTokens(gateway.config)[0]!.token}` } });
    expect((await get()).statusCode).toBe(404);
    await writeConfig(file, { ...base, ...storeWithJourneys() });
    await gateway.reload();
    expect(gateway.status().config.last_reload).toMatchObject({ ok: true });
    expect((await get()).statusCode).toBe(200);
  });

  it('needs a token and says when journeys are not configured', async () => {
    const { app, get } = await startGateway({});
    expect((await app.inject({ method: 'GET', url: '/api/v1/journeys' })).statusCode).toBe(401);
    const res = await get('/api/v1/journeys');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'journeys_off', message: expect.stringContaining('journeys are not configured') as string } });
  });
});

describe('journeys from a calibrated camera through fusion, and upstream', () => {
  it('turns tracker boxes into fused journeys as the gateway wires them, ends them in a quiet store, and queues each closed hour once', async () => {
    const dir = await tempDir('journeys-upstream');
    const parsed = parseConfig({ ...rawStoreConfig(), store_id: 's1', gateway_id: 'g1', data_dir: dir, timezone: 'Europe/Paris' }, {});
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const config = parsed.config;
    const clock = { now: START };
    const ctx = { log: pino({ level: 'silent' }), metrics: createMetrics(), now: () => clock.now };
    const store = DataStore.open({ ctx, config: () => config });
    // The same wiring as Gateway: fusion releases store-level samples to the journeys.
    const link = new GatewayJourneys(ctx, () => store, () => config);
    const fusion = new LiveFusion({ ctx, record: () => undefined, onSamples: (samples, tMs) => link.onFusedSamples(samples, tMs) });
    fusion.apply(config);
    link.apply(config);
    expect(fusion.enabled).toBe(true);
    // The camera sees the whole 20 m × 10 m plan on a 1000 × 500 frame (50 px per metre); the foot point is the box's bottom centre.
    const box = (s: PlanTrackSample, id: number) => ({ id, box: { x1: s.x * 50 - 10, x2: s.x * 50 + 10, y1: s.y * 50 - 80, y2: s.y * 50, score: 0.9 } });
    const frames = new Map<number, { sample: PlanTrackSample; id: number }[]>();
    for (const [i, w] of morning().entries()) for (const s of w) frames.set(s.tMs, [...(frames.get(s.tMs) ?? []), { sample: s, id: i + 1 }]);
    const times = [...frames.keys()];
    // A camera delivers frames all the time, with no track while the store is empty (here 5 frames/s).
    for (let t = Math.min(...times); t <= Math.max(...times) + 30_000; t += 200) {
      fusion.onTracks('cam', { timestampMs: t, width: 1000, height: 500 }, (frames.get(t) ?? []).map((f) => box(f.sample, f.id)));
      fusion.tick();
    }
    // No flush: the last shopper's journey ended because the empty store's time moved on.
    expect(link.service.report(Date.parse(TEN), Date.parse(ELEVEN), '1h')![0]!.report.journeys).toBe(10);
    expect(link.service.status().journeys_in_progress).toBe(0);
    expect(link.publish()).toBe(0); // nothing closed yet at 09:30
    clock.now = Date.parse('2026-03-14T11:01:30+01:00'); // 10:00–11:00 closed and settled
    expect(link.publish()).toBe(1);
    expect(link.publish()).toBe(0); // never twice
    const rows = store.outbox.next(0, 100).filter((r) => r.kind === 'journeys');
    expect(rows.map((r) => [r.topic, r.key])).toEqual([['journeys/1h', `g1:journeys:1h:${Date.parse(TEN)}`]]);
    const message = JSON.parse(envelope(rows[0]!, { storeId: 's1', gatewayId: 'g1' })) as { data: { journeys: { journeys: number; top_paths: unknown[]; conversion: unknown } } };
    expect(upstreamValidators().envelope(message)).toEqual([]);
    expect(message.data.journeys.journeys).toBe(10);
    expect(message.data.journeys.top_paths).toEqual([{ zones: ['entrance', 'promo', 'till'], continues: false, count: 8 }]);
    expect(message.data.journeys.conversion).toEqual({ persons: 0.8, units: 0.7778 });
    expect(rows[0]!.payload).not.toMatch(/store-|trackId/);
    // The schema refuses what must never go up: a track id in a path entry.
    const leaked = structuredClone(message) as { data: { journeys: { top_paths: Record<string, unknown>[] } } };
    leaked.data.journeys.top_paths[0]!.track_ids = ['store-1'];
    expect(upstreamValidators().envelope(leaked)).not.toEqual([]);
    fusion.stop();
    link.stop();
    await store.close();
  });

  it('ends the journeys of the old track numbering when a plan change restarts fusion', () => {
    const parsed = parseConfig(rawStoreConfig(), {});
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const link = new GatewayJourneys({ log: pino({ level: 'silent' }), metrics: createMetrics(), now: () => START }, () => undefined, () => parsed.config);
    link.apply(parsed.config);
    // Fused track "store-1" stands at the promotion …
    for (let t = 0; t <= 5000; t += 200) link.onFusedSamples([{ trackId: 'store-1', tMs: t, x: 7, y: 2 }], t + 1500);
    expect(link.service.status().journeys_in_progress).toBe(1);
    // … a plan line is added: fusion restarts and its next "store-1" is somebody else at the till.
    const plan = parsed.config.plan!;
    link.apply({ ...parsed.config, plan: { ...plan, lines: [{ name: 'door', points: [[0, 5], [3, 5]], hysteresis: 0.15 }] } });
    for (let t = 6000; t <= 12_000; t += 200) link.onFusedSamples([{ trackId: 'store-1', tMs: t, x: 14, y: 2 }], t + 1500);
    link.service.flush();
    const report = link.service.report(0, 3_600_000, '1h')![0]!.report;
    expect(report.journeys).toBe(2);
    expect(report.top_paths.length + report.other_paths.paths).toBe(2); // promo alone, till alone: not one walk promo → till
    expect(report.transitions).not.toContainEqual(expect.objectContaining({ from: 'promo', to: 'till' }));
  });
});

describe('journey bins across a restart', () => {
  it('saves the minute bins in SQLite and restores them for the same settings only', async () => {
    const dir = await tempDir('journeys-restart');
    const configOf = (journeys: Record<string, unknown> = {}) => {
      const parsed = parseConfig({ ...rawStoreConfig(journeys), data_dir: dir, timezone: 'Europe/Paris' }, {});
      if (!parsed.ok) throw new Error(parsed.errors.join('; '));
      return parsed.config;
    };
    const config = configOf();
    const ctx = { log: pino({ level: 'silent' }), metrics: createMetrics(), now: () => START + 3_600_000 };
    const journeysIn = (link: GatewayJourneys) => link.service.report(Date.parse(TEN), Date.parse(ELEVEN), '1h')![0]!.report;

    let store = DataStore.open({ ctx, config: () => config });
    const before = new GatewayJourneys(ctx, () => store, () => config);
    before.apply(config);
    feed(before.service, morning());
    const counted = journeysIn(before);
    expect(counted.journeys).toBe(10);
    before.stop(); // saves
    await store.close();

    // A power cut later: a new process on the same file.
    store = DataStore.open({ ctx, config: () => config });
    const bad = store.db.prepare('INSERT INTO journey_bins (setup, minute, counts, saved_at) VALUES (?, ?, ?, 0)');
    const probe = new JourneyService(() => START);
    probe.apply(config);
    bad.run(setupDigest(probe.countsKey!), Date.parse(TEN) + 50 * 60_000, '{"journeys": "many"}'); // a damaged row: skipped
    const after = new GatewayJourneys(ctx, () => store, () => config);
    after.apply(config);
    expect(journeysIn(after)).toEqual(counted);

    // Other settings (another funnel): their counts start from nothing, the saved ones are not mixed in.
    const other = configOf({ funnel: ['entrance', 'till'] });
    const changed = new GatewayJourneys(ctx, () => store, () => other);
    changed.apply(other);
    expect(journeysIn(changed).journeys).toBe(0);
    after.stop();
    changed.stop();
    await store.close();
  });
});
