/**
 * Annotations and long hourly histories in real SQLite files: the migration, validation with every
 * problem named, listing by period and subject; hourly bins read from the stored aggregates and,
 * for days without them, computed from the stored events by the KPI engine.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import type { StoreEvent } from '../../src/kpi/events.js';
import { computeKpis, kpiHistoryStart } from '../../src/kpi/kpiEngine.js';
import { AnnotationError, AnnotationStore } from '../../src/store/annotationStore.js';
import { openDatabase } from '../../src/store/database.js';
import { DataStore, kpiSettings } from '../../src/store/dataStore.js';
import { hourlyKpiHistory } from '../../src/store/hourlyKpiHistory.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('annotation store', () => {
  it('keeps annotations in the SQLite file across reopening, listed by period and subject', async () => {
    const file = path.join(await tempDir('annotations'), 'storepulse.db');
    const t = Date.parse('2026-03-14T08:00:00+01:00');
    let db = openDatabase(file);
    const store = new AnnotationStore(db);
    const moved = store.add({ ts: t, text: '  display moved to the end-cap ', subject: 'zone:promo', createdBy: 'token:analyst' }, t + 60_000);
    expect(moved).toEqual({ id: 1, ts: t, text: 'display moved to the end-cap', subject: 'zone:promo', created_by: 'token:analyst', created_at: t + 60_000 });
    store.add({ ts: t + DAY, text: 'spring sale starts' }, t);
    store.add({ ts: t + 2 * DAY, text: 'new shelf', subject: 'zone:bakery' }, t);
    db.close();

    db = openDatabase(file);
    const reopened = new AnnotationStore(db);
    expect(reopened.list({ from: t, to: t + 10 * DAY }).map((a) => a.text)).toEqual(['display moved to the end-cap', 'spring sale starts', 'new shelf']);
    // A subject also gets the store-wide notes: a sale moves every zone.
    expect(reopened.list({ from: t, to: t + 10 * DAY, subject: 'zone:promo' }).map((a) => a.text)).toEqual(['display moved to the end-cap', 'spring sale starts']);
    expect(reopened.list({ from: t + 1, to: t + 10 * DAY, limit: 1 }).map((a) => a.text)).toEqual(['spring sale starts']);
    expect(reopened.remove(1)).toBe(true);
    expect(reopened.remove(1)).toBe(false);
    db.close();
  });

  it('queues the annotations an older gateway kept on the box for central once, on the first start that publishes them', async () => {
    const dir = await tempDir('annotations-upgrade');
    const t = Date.parse('2026-03-14T08:00:00+01:00');
    // As an older version wrote them: stored, never queued upstream.
    const db = openDatabase(path.join(dir, 'storepulse.db'));
    new AnnotationStore(db).add({ ts: t, text: 'display moved', subject: 'zone:promo', createdBy: 'token:analyst' }, t);
    new AnnotationStore(db).add({ ts: t + DAY, text: 'spring sale starts' }, t + DAY);
    db.prepare("DELETE FROM meta WHERE key = 'annotations_queued_upstream_at'").run();
    db.close();
    const parsed = parseConfig({ store_id: 's1', gateway_id: 'g1', data_dir: dir, timezone: 'Europe/Paris', cameras: [{ id: 'door', source: { kind: 'file', path: '/dev/null' } }] }, {});
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const config = parsed.config;
    const queued = (): { key: string; body: string }[] => {
      const store = DataStore.open({ ctx: { ...testContext(), now: () => t + 2 * DAY }, config: () => config });
      const rows = store.outbox.next(0, 1000).filter((r) => r.kind === 'annotation').map((r) => ({ key: r.key, body: r.payload }));
      store.db.close();
      return rows;
    };
    const first = queued();
    expect(first.map((r) => JSON.parse(r.body).text)).toEqual(['display moved', 'spring sale starts']);
    expect(first.some((r) => r.body.includes('token:analyst'))).toBe(false);
    // Started again: nothing queued twice.
    expect(queued()).toEqual(first);
  });

  it('refuses a bad annotation with every problem named, storing nothing', async () => {
    const db = openDatabase(':memory:');
    const store = new AnnotationStore(db);
    expect(() => store.add({ ts: NaN, text: 'x\ny', subject: 'shelf 4' }, 0)).toThrow(AnnotationError);
    try {
      store.add({ ts: NaN, text: 'x\ny', subject: 'shelf 4' }, 0);
    } catch (err) {
      expect((err as Error).message).toBe('time must be a valid date; text must be one line without control characters; subject must be store, zone:NAME, line:NAME or camera:ID, got "shelf 4"');
    }
    expect(() => store.add({ ts: 0, text: '   ' }, 0)).toThrow(/text must not be empty/);
    expect(() => store.add({ ts: 0, text: 'a'.repeat(501) }, 0)).toThrow(/at most 500 characters, got 501/);
    expect(store.list({ from: -1, to: Infinity })).toEqual([]);
    db.close();
  });
});

describe('hourly KPI history', () => {
  it('reads stored hourly bins, computes days without them from the events (unless told not to), and leaves days with neither empty', async () => {
    const dir = await tempDir('history');
    const parsed = parseConfig(
      {
        data_dir: dir,
        timezone: 'Europe/Paris',
        cameras: [
          {
            id: 'door',
            source: { kind: 'file', path: '/dev/null' },
            lines: [{ name: 'entrance', points: [[0.1, 0.5], [0.9, 0.5]] }],
            zones: [{ name: 'promo', polygon: [[0, 0], [1, 0], [1, 1]] }],
          },
        ],
        kpi: { entrances: [{ camera: 'door', line: 'entrance' }] },
      },
      {},
    );
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const config = parsed.config;
    const settings = kpiSettings(config);
    const day1 = Date.parse('2026-03-10T00:00:00+01:00');
    const day2 = day1 + DAY;
    const day3 = day2 + DAY;
    const store = DataStore.open({ ctx: { ...testContext(), now: () => day3 + 5 * DAY }, config: () => config });

    // Day 1: the KPI recorder's hourly bins (from events written into a throwaway store).
    const day1Events: StoreEvent[] = [{ type: 'line_crossing', ts: day1 + 10 * HOUR, camera: 'door', line: 'entrance', direction: 'in' }];
    const day1Bins = computeKpis(day1Events, settings, { from: day1, to: day2, size: '1h' });
    const insert = store.db.prepare("INSERT INTO aggregates (size, bin, revision, data, computed_at) VALUES ('1h', ?, 1, ?, ?)");
    for (const b of day1Bins) insert.run(b.from, JSON.stringify(b), b.to);

    // Day 2: only raw events, through the real write path.
    const day2Events: StoreEvent[] = [];
    for (let i = 0; i < 30; i++) {
      const ts = day2 + 9 * HOUR + i * 10 * 60_000;
      day2Events.push({ type: 'line_crossing', ts, camera: 'door', line: 'entrance', direction: 'in' });
      if (i % 3 === 0) day2Events.push({ type: 'zone_visit', ts: ts + 60_000, camera: 'door', zone: 'promo', enter_ts: ts, dwell_ms: 60_000, counted: true });
    }
    await Promise.all(day2Events.map((e) => store.record(e)));

    const history = hourlyKpiHistory(store.db, { from: day1, to: day3 + DAY }, settings);
    expect(history.storedHours).toBe(24);
    expect(history.computedHours).toBe(24);
    expect(history.bins).toHaveLength(48);
    expect(history.bins.slice(0, 24)).toEqual(day1Bins);
    const expectedDay2 = computeKpis(day2Events, settings, { from: kpiHistoryStart(day2, settings), to: day3, size: '1h' }).filter((b) => b.from >= day2);
    expect(history.bins.slice(24)).toEqual(expectedDay2);
    const visits = history.bins.slice(24).reduce((n, b) => n + (b.zones['door/promo']?.visits ?? 0), 0);
    const entering = history.bins.slice(24).reduce((n, b) => n + b.traffic.in, 0);
    expect([visits, entering]).toEqual([10, 30]);
    // What the gateway's API asks for: stored bins only, the event-only day left without data.
    const storedOnly = hourlyKpiHistory(store.db, { from: day1, to: day3 + DAY }, settings, { fromEvents: false });
    expect([storedOnly.storedHours, storedOnly.computedHours, storedOnly.bins.length]).toEqual([24, 0, 24]);
    await store.close();
  });
});
