/**
 * Store-level events go through the same durable path as camera events: the real SQLite event
 * store (a file in a temp dir), the upstream outbox, and the published JSON schema — with no track
 * id and no camera anywhere in them.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PlanCounter } from '../../src/fusion/planCounting.js';
import { planSchema } from '../../src/fusion/planConfigSchema.js';
import { fusionOptions, StoreFuser } from '../../src/fusion/storeFuser.js';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { PLAN_SOURCE, type StoreEvent } from '../../src/kpi/events.js';
import { DataStore } from '../../src/store/dataStore.js';
import { envelope } from '../../src/upstream/messages.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';
import { upstreamValidators } from '../helpers/upstreamSchemas.js';

const T0 = Date.parse('2026-11-23T10:00:00+01:00');
const calibration = { image_points: [[0, 0], [1, 0], [1, 1], [0, 1]], plan_points: [[0, 0], [20, 0], [20, 10], [0, 10]] };

describe('store-level events', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('are stored, queued upstream and valid against the upstream schema, without track ids', async () => {
    dir = await tempDir('plan-events');
    const parsed = parseConfig(
      {
        data_dir: dir,
        timezone: 'Europe/Paris',
        cameras: [{ id: 'left', source: { kind: 'file', path: '/dev/null' }, calibration }, { id: 'right', source: { kind: 'file', path: '/dev/null' }, calibration }],
        plan: { lines: [{ name: 'door', points: [[5, 0], [5, 10]] }], zones: [{ name: 'promo', polygon: [[8, 0], [12, 0], [12, 10], [8, 10]] }] },
      },
      {},
    );
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const config = parsed.config;
    const plan = planSchema.parse(config.plan);
    const clock = { now: T0 };
    const store = DataStore.open({ ctx: { ...testContext(), now: () => clock.now }, config: () => config });
    try {
      // One person walking through the door line and the promo zone, seen by both cameras.
      const fuser = new StoreFuser(fusionOptions(plan.fusion));
      const counter = new PlanCounter(plan);
      const events: StoreEvent[] = [];
      for (let t = T0; t <= T0 + 15_000; t += 100) {
        const x = 2 + (t - T0) / 1000;
        fuser.ingest({ cameraId: 'left', tMs: t, observations: [{ localTrackId: 11, x, y: 5, sigmaM: 0.15 }] });
        fuser.ingest({ cameraId: 'right', tMs: t, observations: [{ localTrackId: 42, x: x + 0.1, y: 5.05, sigmaM: 0.15 }] });
        events.push(...counter.update(fuser.tick(t)));
      }
      events.push(...counter.update(fuser.flush()), ...counter.finish());
      expect(events.map((e) => e.type)).toEqual(['plan_line_crossing', 'plan_zone_visit']);
      for (const e of events) await store.record(e);

      const stored = store.events.query({ from: T0, to: T0 + 60_000, types: ['plan_line_crossing', 'plan_zone_visit'] });
      expect(stored.map((s) => s.event.type)).toEqual(['plan_line_crossing', 'plan_zone_visit']);
      expect(store.events.query({ from: T0, to: T0 + 60_000, source: PLAN_SOURCE, subject: 'promo' })).toHaveLength(1);

      const rows = store.outbox.next(0, 1000).filter((r) => r.kind === 'event');
      expect(rows.map((r) => r.topic)).toEqual(['events/plan_line_crossing', 'events/plan_zone_visit']);
      const { envelope: checkEnvelope } = upstreamValidators();
      const identity = { storeId: config.store_id, gatewayId: config.gateway_id };
      for (const r of rows) expect(checkEnvelope(JSON.parse(envelope(r, identity)))).toEqual([]);
      // Exactly these fields: nothing that follows a person (no track id), no camera.
      expect(rows.map((r) => Object.keys(JSON.parse(r.payload) as object).sort())).toEqual([
        ['direction', 'id', 'line', 'time', 'ts', 'type'],
        ['counted', 'dwell_ms', 'enter_ts', 'id', 'time', 'ts', 'type', 'zone'],
      ]);
      // The schema still rejects a plan event with a field missing.
      const broken = JSON.parse(envelope(rows[0]!, identity)) as { data: Record<string, unknown> };
      delete broken.data.direction;
      expect(checkEnvelope(broken)).not.toEqual([]);
    } finally {
      await store.close();
    }
  });
});
