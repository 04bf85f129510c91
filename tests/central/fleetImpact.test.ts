/**
 * Change annotations at central, on a real PostgreSQL and a real mosquitto: a gateway's annotations
 * (its real outbox and uplink) land once, a republished copy changes nothing, a tombstone clears
 * one, a broken one becomes a dead letter. Then the fleet before/after API on a hand-made fleet:
 * three stores made a change (two rose, one fell), three did not (flat), and the figures are the
 * ones counted by hand.
 */
import type { FastifyInstance } from 'fastify';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planBatch, type ReceivedMessage } from '../../src/central/batchPlan.js';
import { writeBatch } from '../../src/central/batchWriter.js';
import { createCentralMetrics } from '../../src/central/centralMetrics.js';
import { buildFleetApi } from '../../src/central/fleetApi.js';
import type { FleetImpactReport } from '../../src/central/impactMaths.js';
import { migrate } from '../../src/central/migrations.js';
import { PartitionKeeper } from '../../src/central/monthPartitions.js';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { computeKpis, type KpiBin } from '../../src/kpi/kpiEngine.js';
import { AnnotationStore, type Annotation } from '../../src/store/annotationStore.js';
import { DataStore } from '../../src/store/dataStore.js';
import { annotationMessage, annotationTombstone, envelope, kpiMessage, topicPrefix, type GatewayIdentity, type OutboxMessage } from '../../src/upstream/messages.js';
import { tempDir, testContext, until } from '../helpers/gatewayHarness.js';
import { hasMosquitto } from '../helpers/mosquitto.js';
import { useMosquitto } from '../helpers/mosquittoSuite.js';
import { postgresUnavailable, usePostgres } from '../helpers/postgres.js';
import { UpstreamSubscriber } from '../helpers/upstreamSubscriber.js';
import { sql, startWorker, workerConfig } from './centralHarness.js';

const H = 3_600_000;
const D = 24 * H;

describe.skipIf(postgresUnavailable() !== undefined || !hasMosquitto())('annotations at central (real PostgreSQL and mosquitto)', () => {
  const broker = useMosquitto();
  const postgres = usePostgres();

  it('land exactly once, a republished copy changes nothing, a tombstone clears one, a broken one is a dead letter', async () => {
    const databaseUrl = await postgres().createDatabase('annotations_ingest');
    const worker = await startWorker(workerConfig({ brokerUrl: broker().url, databaseUrl, clientId: 'central-annotations' }));
    // Rows central wrote to the annotations table (inserted, or cleared by a tombstone).
    const written = async (): Promise<number> => (await worker.metrics.stored.get()).values.find((v) => v.labels.table === 'annotations')?.value ?? 0;
    const subscriber = await UpstreamSubscriber.connect(broker().url, 'storepulse/v1/lyon-02/#', 'copy-of-the-uplink');

    // The gateway: its real SQLite outbox and MQTT uplink.
    const parsed = parseConfig({ store_id: 'lyon-02', gateway_id: 'gw-1', data_dir: await tempDir('central-annotations'), timezone: 'Europe/Paris', upstream: { mqtt: { url: broker().url, reconnect: { initial_s: 0.1, max_s: 0.5 } } } }, {});
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const config = parsed.config;
    const store = DataStore.open({ ctx: testContext(), config: () => config });
    store.start();
    const publisher = await mqtt.connectAsync(broker().url, { clientId: 'republisher', protocolVersion: 5 });
    try {
      const notes = new AnnotationStore(store.db, { outbox: store.outbox, identity: () => store.identity() });
      const promo = notes.add({ ts: Date.parse('2026-11-30T09:30:00+01:00'), text: 'Promo start: end-cap display', subject: 'zone:promo', createdBy: 'anna' }, Date.now());
      notes.add({ ts: Date.parse('2026-12-01T08:00:00+01:00'), text: 'Display moved to the window' }, Date.now());
      type Row = { annotation_id: string; ts: Date | null; text: string | null; subject: string | null; deleted_at: Date | null; source: string };
      const rows = () => sql<Row>(databaseUrl, 'SELECT annotation_id, source, ts, text, subject, deleted_at FROM annotations ORDER BY annotation_id');
      await until(rows, (r) => r.length === 2, 30_000, 'both annotations ingested');
      const source = store.identity().databaseId.slice(0, 8);
      expect(await rows()).toEqual([
        { annotation_id: '1', source, ts: new Date('2026-11-30T08:30:00Z'), text: 'Promo start: end-cap display', subject: 'zone:promo', deleted_at: null },
        { annotation_id: '2', source, ts: new Date('2026-12-01T07:00:00Z'), text: 'Display moved to the window', subject: null, deleted_at: null },
      ]);
      // Central has no column for the author, and the message did not carry it.
      expect(await sql(databaseUrl, "SELECT 1 FROM information_schema.columns WHERE table_name = 'annotations' AND column_name = 'created_by'")).toEqual([]);

      // The broker re-delivers (or a gateway re-sends after a lost PUBACK): byte-identical copies.
      await until(() => subscriber.unique().length, (n) => n >= 2, 30_000, 'the copies');
      for (const r of subscriber.unique()) for (let k = 0; k < 2; k++) await publisher.publishAsync(r.topic, JSON.stringify(r.envelope), { qos: 1 });
      // A broken one after them: once it is a dead letter, the copies before it have been written.
      const broken = { ...subscriber.unique()[0]!.envelope, key: 'gw-1:broken:a9', seq: 99, data: { ...subscriber.unique()[0]!.envelope.data, id: 9, subject: 'aisle 4' } };
      await publisher.publishAsync('storepulse/v1/lyon-02/gw-1/annotations', JSON.stringify(broken), { qos: 1 });
      const dead = await until(() => sql<{ topic: string; reason: string; deliveries: number }>(databaseUrl, 'SELECT topic, reason, deliveries FROM dead_letters'), (d) => d.length === 1, 30_000, 'the dead letter');
      expect(dead[0]).toMatchObject({ topic: 'storepulse/v1/lyon-02/gw-1/annotations', reason: expect.stringMatching(/invalid envelope: data\.subject/), deliveries: 1 });
      expect((await rows()).map((r) => r.annotation_id)).toEqual(['1', '2']);
      expect(await written()).toBe(2); // four copies arrived, nothing was written for them

      // Removed on the gateway: a tombstone clears the row and keeps it, so a late copy of the
      // annotation cannot bring it back.
      expect(notes.remove(promo.id, Date.now())).toBe(true);
      await until(rows, (r) => r[0]!.deleted_at !== null, 30_000, 'the tombstone');
      const first = subscriber.unique().find((r) => r.envelope.data.id === 1 && r.envelope.data.deleted === false)!;
      await publisher.publishAsync(first.topic, JSON.stringify(first.envelope), { qos: 1 });
      await publisher.publishAsync('storepulse/v1/lyon-02/gw-1/annotations', JSON.stringify(broken), { qos: 1 });
      await until(() => sql<{ deliveries: number }>(databaseUrl, 'SELECT deliveries FROM dead_letters'), (d) => d[0]?.deliveries === 2, 30_000, 'the second dead letter delivery');
      expect(await written()).toBe(3); // the tombstone; the late copy changed nothing
      const [gone, kept] = await rows();
      expect(gone).toMatchObject({ annotation_id: '1', ts: null, text: null, subject: null, deleted_at: expect.any(Date) });
      expect(kept).toMatchObject({ annotation_id: '2', text: 'Display moved to the window', deleted_at: null });
    } finally {
      await publisher.endAsync();
      await store.close();
      await subscriber.close();
    }
  }, 120_000);
});

// ---- The hand-made fleet for the before/after API -------------------------------------------

/** A Monday. Every annotated store changes in the hour 09:00–10:00 UTC of its day; pairs start at 10:00. */
const CHANGE = Date.parse('2026-11-16T09:30:00Z');
const DATA_FROM = Date.parse('2026-11-08T00:00:00Z');
const DATA_TO = Date.parse('2026-11-26T00:00:00Z');
const OPEN_HOURS = [8, 19] as const; // UTC hours with customers, inclusive

interface Side {
  traffic: number;
  transactions: number;
  sales: number;
}
interface HandStore {
  id: string;
  /** Per open hour before and after `switchAt`. */
  before: Side;
  after: Side;
  switchAt: number;
  /** UTC days (start ms) without any bin: the gateway was off. */
  missingDays?: number[];
  annotations: { ts: number; text: string; subject?: string; deleted?: boolean }[];
}

const FLAT = Infinity;
const FLEET: HandStore[] = [
  // +20 % traffic, conversion 0.2 → 0.25, sales per visitor 5 → 6.25; its gateway was off on Wednesday 18th.
  {
    id: 'a1',
    before: { traffic: 10, transactions: 2, sales: 50 },
    after: { traffic: 12, transactions: 3, sales: 75 },
    switchAt: CHANGE + 30 * 60_000,
    missingDays: [Date.parse('2026-11-18T00:00:00Z')],
    annotations: [
      { ts: CHANGE, text: 'Promo start: end-cap display', subject: 'zone:promo' },
      { ts: CHANGE + 3 * D, text: 'promo extended' },
    ],
  },
  { id: 'a2', before: { traffic: 20, transactions: 4, sales: 80 }, after: { traffic: 30, transactions: 6, sales: 120 }, switchAt: CHANGE + 30 * 60_000, annotations: [{ ts: CHANGE, text: 'promo start' }] },
  // Changes a day later (its own window), and falls by half.
  {
    id: 'a3',
    before: { traffic: 10, transactions: 2, sales: 40 },
    after: { traffic: 5, transactions: 1, sales: 20 },
    switchAt: CHANGE + D + 30 * 60_000,
    annotations: [{ ts: CHANGE + D, text: 'Display moved for the PROMO', subject: 'store' }],
  },
  // Controls: flat. c2 has an unrelated note; c3's promo note was deleted on its gateway.
  { id: 'c1', before: { traffic: 15, transactions: 3, sales: 60 }, after: { traffic: 15, transactions: 3, sales: 60 }, switchAt: FLAT, annotations: [] },
  { id: 'c2', before: { traffic: 20, transactions: 4, sales: 100 }, after: { traffic: 20, transactions: 4, sales: 100 }, switchAt: FLAT, annotations: [{ ts: CHANGE, text: 'new lighting' }] },
  { id: 'c3', before: { traffic: 8, transactions: 2, sales: 30 }, after: { traffic: 8, transactions: 2, sales: 30 }, switchAt: FLAT, annotations: [{ ts: CHANGE, text: 'promo start', deleted: true }] },
];

const TEMPLATE: KpiBin = computeKpis([], { timeZone: 'UTC', openingTime: '00:00', entrances: [{ sensor: 'door' }], engagedDwellMs: 30_000, bounceMs: 5_000, queueZones: [] }, { from: DATA_FROM, to: DATA_FROM + H, size: '1h' })[0]!;

function hourBin(from: number, side: Side | undefined): KpiBin {
  const s = side ?? { traffic: 0, transactions: 0, sales: 0 };
  return {
    ...TEMPLATE,
    from,
    to: from + H,
    traffic: { ...TEMPLATE.traffic, in: s.traffic, out: s.traffic, by_entrance: { door: { in: s.traffic, out: s.traffic } } },
    transactions: s.transactions,
    sales: s.sales,
    conversion: s.traffic > 0 ? s.transactions / s.traffic : null,
    sales_per_visitor: s.traffic > 0 ? s.sales / s.traffic : null,
  };
}

/** Every message the fleet's gateways would have published: hourly bins and annotations (and tombstones). */
function fleetMessages(now: number): ReceivedMessage[] {
  const out: ReceivedMessage[] = [];
  for (const s of FLEET) {
    const id: GatewayIdentity = { storeId: s.id, gatewayId: `gw-${s.id}`, databaseId: `${s.id}000000`.slice(0, 8) };
    const messages: OutboxMessage[] = [];
    for (let from = DATA_FROM; from < DATA_TO; from += H) {
      if (s.missingDays?.some((d) => from >= d && from < d + D)) continue;
      const hour = new Date(from).getUTCHours();
      const open = hour >= OPEN_HOURS[0] && hour <= OPEN_HOURS[1];
      messages.push(kpiMessage('1h', hourBin(from, open ? (from >= s.switchAt ? s.after : s.before) : undefined), 1, 'UTC', id));
    }
    s.annotations.forEach((a, i) => {
      const note: Annotation = { id: i + 1, ts: a.ts, text: a.text, subject: a.subject ?? null, created_by: null, created_at: a.ts - H };
      messages.push(annotationMessage(note, id));
      if (a.deleted) messages.push(annotationTombstone(i + 1, a.ts + H, id));
    });
    messages.forEach((m, i) => {
      const payload = envelope({ seq: i + 1, key: m.key, kind: m.kind, topic: m.topic, payload: JSON.stringify(m.body), created_at: now - H }, id);
      out.push({ topic: `${topicPrefix('storepulse', id)}/${m.topic}`, payload: Buffer.from(payload), receivedAt: now });
    });
  }
  return out;
}

const TOKEN = 'head-office-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe.skipIf(postgresUnavailable() !== undefined)('fleet before/after API on a hand-made fleet (real PostgreSQL)', () => {
  const postgres = usePostgres();
  let pool: pg.Pool;
  let app: FastifyInstance;

  beforeAll(async () => {
    const url = await postgres().createDatabase('fleet_impact');
    pool = new pg.Pool({ connectionString: url, max: 2 });
    // pool.end() resolves before its idle connections have closed, and the server is stopped right
    // after: a connection still closing then sees "terminating connection", which the pool re-emits
    // as an 'error' event. Without a listener that event fails the whole run.
    pool.on('error', () => undefined);
    const client = await pool.connect();
    try {
      await migrate(client);
      const now = DATA_TO + H;
      const plan = planBatch(fleetMessages(now), 'storepulse', now);
      expect(plan.deadLetters).toEqual([]);
      await writeBatch(client, plan, new PartitionKeeper());
    } finally {
      client.release();
    }
    app = buildFleetApi({ db: pool, tokens: [{ name: 'office', token: TOKEN }], metrics: createCentralMetrics().registry });
    await app.ready();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await pool?.end();
  });

  const impact = async (q: string): Promise<FleetImpactReport> => {
    const res = await app.inject({ url: `/api/v1/fleet/impact?${q}`, headers: auth });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<FleetImpactReport>();
  };

  it('compares each annotated store with itself a week earlier, and with the stores that did not change', async () => {
    const report = await impact('match=promo&days=7');
    expect(report).toMatchObject({ match: 'promo', days: 7, shift_days: 7, control_stores: 3 });
    expect(report.stores.map((s) => s.store_id)).toEqual(['a1', 'a2', 'a3']);
    const [a1, a2, a3] = report.stores;

    // Open hours paired (08–19 UTC): Mon 16th 10–19 (10), Tue 12, Wed 18th none for a1 (off) or 12,
    // Thu–Sun 48, Mon 23rd 08 (1; its 09 pairs with the change hour, left out) → a1 71, a2 83.
    expect(a1).toMatchObject({
      annotation: { gateway_id: 'gw-a1', id: 1, time: '2026-11-16T09:30:00.000Z', text: 'Promo start: end-cap display', subject: 'zone:promo' },
      matching_annotations: 2,
      before: { from: '2026-11-09T10:00:00.000Z', to: '2026-11-16T09:00:00.000Z' },
      after: { from: '2026-11-16T10:00:00.000Z', to: '2026-11-23T10:00:00.000Z' },
      hours: 167 - 24,
      values_before: { traffic: 710, conversion: 0.2, sales_per_visitor: 5 },
      values_after: { traffic: 852, conversion: 0.25, sales_per_visitor: 6.25 },
      control_change: { traffic: 0, conversion: 0, sales_per_visitor: 0 },
    });
    expect(a1!.change.traffic).toBeCloseTo(0.2, 12);
    expect(a1!.change.conversion).toBeCloseTo(0.25, 12);
    expect(a1!.change.sales_per_visitor).toBeCloseTo(0.25, 12);
    expect(a1!.did.traffic).toBeCloseTo(0.2, 12);
    expect(a2).toMatchObject({ hours: 167, values_before: { traffic: 1660 }, values_after: { traffic: 2490 }, change: { traffic: 0.5, conversion: 0, sales_per_visitor: 0 } });
    // a3's own window, a day later: Tue 17th 10–19 (10), Wed–Mon 72, Tue 24th 08 (1).
    expect(a3).toMatchObject({ after: { from: '2026-11-17T10:00:00.000Z' }, hours: 167, values_before: { traffic: 830 }, values_after: { traffic: 415 }, change: { traffic: -0.5 }, control_change: { traffic: 0 } });

    expect(report.summary.traffic).toMatchObject({ stores: 3, up: 2, down: 1, unchanged: 0, mean_control_change: 0 });
    expect(report.summary.traffic.median_change).toBeCloseTo(0.2, 12);
    expect(report.summary.traffic.mean_change).toBeCloseTo((0.2 + 0.5 - 0.5) / 3, 12);
    expect(report.summary.traffic.mean_did).toBeCloseTo((0.2 + 0.5 - 0.5) / 3, 12);
    expect(report.summary.conversion).toMatchObject({ stores: 3, up: 1, down: 0, unchanged: 2 });
  });

  it('a subject matches exactly; the other annotated stores then count as controls', async () => {
    const report = await impact('match=zone:promo&days=7');
    expect(report.stores.map((s) => s.store_id)).toEqual(['a1']);
    // Controls in a1's window: a2 (+50 %), a3, c1, c2, c3 (flat). a3 changed a day into the window:
    // of its 83 open hours after, Mon 16th 10–19 and Tue 17th 08–09 are still 10 visitors an hour,
    // the other 71 are 5 → 475 against 830 before.
    expect(report.control_stores).toBe(5);
    const control = (0.5 + (475 / 830 - 1) + 0 + 0 + 0) / 5;
    expect(report.stores[0]!.control_change.traffic).toBeCloseTo(control, 12);
    expect(report.stores[0]!.did.traffic).toBeCloseTo(0.2 - control, 12);
  });

  it('CSV, the annotation list (without deleted ones), no match, and bad queries', async () => {
    const csv = await app.inject({ url: '/api/v1/fleet/impact?match=promo&days=7&format=csv', headers: auth });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toMatch(/^store_id,annotation_time,annotation_text,annotation_subject,hours,traffic_before,traffic_after,traffic_change,/);
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 7).join(','))).toEqual([
      'a1,2026-11-16T09:30:00.000Z,Promo start: end-cap display,zone:promo,143,710,852',
      'a2,2026-11-16T09:30:00.000Z,promo start,,167,1660,2490',
      'a3,2026-11-17T09:30:00.000Z,Display moved for the PROMO,store,167,830,415',
    ]);

    const listed = await app.inject({ url: '/api/v1/fleet/annotations?from=2026-11-01&to=2026-12-01', headers: auth });
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ store_id: string; text: string }[]>().map((a) => `${a.store_id}: ${a.text}`)).toEqual([
      'a1: Promo start: end-cap display',
      'a2: promo start',
      'c2: new lighting',
      'a3: Display moved for the PROMO',
      'a1: promo extended',
    ]);

    // Only the annotations from the 17th: a1's first one then is "promo extended" (19th).
    const later = await impact('match=promo&days=7&from=2026-11-17T00:00:00Z&to=2026-12-01T00:00:00Z');
    expect(later.stores.map((s) => [s.store_id, s.annotation.text, s.matching_annotations])).toEqual([
      ['a1', 'promo extended', 1],
      ['a3', 'Display moved for the PROMO', 1],
    ]);
    expect(await impact('match=nothing-like-this')).toMatchObject({ stores: [], control_stores: 0, summary: { traffic: { stores: 0, mean_change: null } } });
    const bad = await app.inject({ url: '/api/v1/fleet/impact?match=promo&days=400', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'days must be a whole number from 1 to 91, not "400"' });
    expect((await app.inject({ url: '/api/v1/fleet/impact?days=7', headers: auth })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/v1/fleet/impact?match=promo' })).statusCode).toBe(401);
  });
});
