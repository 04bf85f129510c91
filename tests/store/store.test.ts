/**
 * The SQLite store on real files: pragmas and migrations, group commit with its outbox messages,
 * KPI bins that equal a recomputation from the events (late events bump the revision), retention,
 * the disk quota's pruning order and a full disk.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/config/configSchema.js';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import type { StoreEvent } from '../../src/kpi/events.js';
import { computeKpis, kpiHistoryStart } from '../../src/kpi/kpiEngine.js';
import { openDatabase, SCHEMA_VERSION, StoreError } from '../../src/store/database.js';
import { DataStore, kpiSettings } from '../../src/store/dataStore.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';

const T0 = Date.parse('2026-11-23T10:00:00+01:00');

function makeConfig(dataDir: string, extra: Record<string, unknown> = {}): GatewayConfig {
  const r = parseConfig(
    {
      store_id: 'lyon-02',
      gateway_id: 'gw-a',
      data_dir: dataDir,
      timezone: 'Europe/Paris',
      cameras: [
        {
          id: 'door',
          source: { kind: 'file', path: '/dev/null' },
          lines: [{ name: 'entrance', points: [[0.1, 0.5], [0.9, 0.5]] }],
          zones: [{ name: 'queue', polygon: [[0, 0], [1, 0], [1, 1]] }],
        },
      ],
      kpi: { entrances: [{ camera: 'door', line: 'entrance' }], queue_zones: [{ camera: 'door', zone: 'queue' }] },
      ...extra,
    },
    {},
  );
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.config;
}

async function openStore(extra: Record<string, unknown> = {}, clock = { now: T0 }) {
  const dir = await tempDir('store');
  const config = makeConfig(dir, extra);
  const ctx = { ...testContext(), now: () => clock.now };
  const store = DataStore.open({ ctx, config: () => config });
  return { store, config, ctx, clock, dir };
}

const crossing = (ts: number, direction: 'in' | 'out' = 'in'): StoreEvent => ({ type: 'line_crossing', ts, camera: 'door', line: 'entrance', direction });

describe('SQLite store', () => {
  it('uses WAL with durable commits and records its schema version', async () => {
    const { store } = await openStore();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    await store.close();
  });

  it('refuses a database from a newer storepulse instead of damaging it', async () => {
    const file = path.join(await tempDir('newer'), 'x.db');
    openDatabase(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(StoreError);
    expect(() => openDatabase(file)).toThrow(/newer than this storepulse/);
  });

  it('group-commits appends and queues one upstream message per event in the same transaction', async () => {
    const { store } = await openStore();
    const ids = await Promise.all(Array.from({ length: 500 }, (_, i) => store.record(crossing(T0 + i))));
    expect(new Set(ids).size).toBe(500);
    expect(store.outbox.backlog().count).toBe(500);
    const [first] = store.outbox.next(0, 1);
    expect(first).toMatchObject({ kind: 'event', topic: 'events/line_crossing' });
    expect(first!.key).toMatch(/^gw-a:[0-9a-f]{8}:e\d+$/);
    expect(JSON.parse(first!.payload)).toMatchObject({ type: 'line_crossing', camera: 'door', line: 'entrance', direction: 'in' });
    const rows = store.events.query({ from: T0, to: T0 + 1000, types: ['line_crossing'] });
    expect(rows).toHaveLength(500);
    await store.close();
  });

  it('stores KPI bins equal to a recomputation from the events, and revises a bin after a late event', async () => {
    const { store, config, clock } = await openStore();
    clock.now = T0 + 10_000;
    store.recorder.tick(); // first run: starts from the bin in progress (10:00)
    for (let i = 0; i < 30; i++) await store.record(crossing(T0 + i * 7_000, i % 3 ? 'in' : 'out'));
    await store.record({ type: 'zone_visit', ts: T0 + 200_000, camera: 'door', zone: 'queue', enter_ts: T0 + 20_000, dwell_ms: 180_000, counted: true });
    clock.now = T0 + 6 * 60_000;
    const stored = store.recorder.tick();
    expect(stored.filter((b) => b.size === '1m').length).toBe(5);

    const settings = kpiSettings(config);
    const recomputed = computeKpis(store.events.eventsForKpis(kpiHistoryStart(T0, settings), T0 + 5 * 60_000), settings, { from: T0, to: T0 + 5 * 60_000, size: '1m' });
    expect(store.recorder.bins('1m', T0, T0 + 5 * 60_000).map((b) => b.kpis)).toEqual(recomputed);
    expect(recomputed[0]!.traffic).toMatchObject({ in: 6, out: 3 });
    expect(recomputed[1]!.queues['door/queue']!.length_mean).toBe(1);

    // A late crossing at 10:00:30 changes the first minute (and the occupancy after it).
    await store.record(crossing(T0 + 30_000));
    clock.now = T0 + 6 * 60_000 + 10_000;
    const revised = store.recorder.tick().filter((b) => b.size === '1m');
    expect(revised[0]).toMatchObject({ bin: T0, revision: 2 });
    expect(revised[0]!.kpis.traffic.in).toBe(7);
    const messages = store.outbox.next(0, 10_000).filter((m) => m.kind === 'metrics');
    expect(messages.map((m) => m.key)).toContain(`gw-a:1m:${T0}:r2`);
    await store.close();
  });

  it('deletes rows past their retention period', async () => {
    const { store, clock } = await openStore({ storage: { retention_days: { events: 1, aggregates: 30 } } });
    await store.record(crossing(T0 - 2 * 86_400_000));
    await store.record(crossing(T0));
    clock.now = T0;
    expect(store.retention.applyRetention()).toEqual({ events: 1, aggregates: 0, dead_letters: 0 });
    expect(store.events.query({ from: 0, to: T0 + 1 })).toHaveLength(1);
    await store.close();
  });

  it('over the quota, deletes raw events first and undelivered messages last, and says so', async () => {
    const { store, ctx } = await openStore({ storage: { quota_mb: 16 } });
    const padding = 'x'.repeat(2_000);
    // ~20 MB of sensor readings, each with its outbox message.
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => store.record({ type: 'sensor_reading', ts: T0 + batch * 500 + i, sensor: 'probe', value: i, unit: padding })));
    }
    const backlogBefore = store.outbox.backlog().count;
    expect(store.retention.enforceQuota()).toBe(true);
    expect(store.status().used_bytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    const pruned = await ctx.metrics.storePruned.get();
    const byTable = Object.fromEntries(pruned.values.map((v) => [v.labels.table, v.value]));
    expect(byTable.events).toBe(5000); // every raw event went before any message
    expect(byTable.outbox).toBeGreaterThan(0);
    expect(store.outbox.backlog().count).toBe(backlogBefore - byTable.outbox!);
    // What is left is the newest, in order.
    const left = store.outbox.next(0, 1)[0]!;
    expect(left.seq).toBe(byTable.outbox! + 1);
    await store.close();
  });

  it('on a full disk, frees space and keeps writing; if it cannot, the error is reported, not swallowed', async () => {
    const { store, ctx } = await openStore();
    for (let i = 0; i < 200; i++) await store.record({ type: 'sensor_reading', ts: T0 + i, sensor: 'probe', value: i, unit: 'y'.repeat(1000) });
    // SQLite's max_page_count makes the file "full" exactly as a full file system does (SQLITE_FULL).
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages}`);
    const id = await store.record({ type: 'sensor_reading', ts: T0 + 500, sensor: 'probe', value: 1, unit: 'z'.repeat(20_000) });
    expect(id).toBeGreaterThan(200);
    expect((await ctx.metrics.storePruned.get()).values.find((v) => v.labels.table === 'events')?.value).toBeGreaterThan(0);

    // Nothing left to prune and still full: the append fails loudly and is counted.
    store.db.exec('DELETE FROM events');
    store.db.pragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
    await expect(store.record({ type: 'sensor_reading', ts: T0, sensor: 'probe', value: 2, unit: 'w'.repeat(200_000) })).rejects.toThrow(/disk_full/);
    expect((await ctx.metrics.storeWriteErrors.get()).values[0]).toMatchObject({ labels: { reason: 'disk_full' }, value: 1 });
    await store.close();
  });
});
