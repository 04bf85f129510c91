/**
 * KPI bins of a gateway with a floor plan: the recorder stores them with their `plan` section and
 * queues them upstream, and those messages validate against schemas/upstream/v1/kpi.schema.json;
 * bins without a plan section (older gateways, stores without a plan) stay valid, and a malformed
 * plan section is refused.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import type { StoreEvent } from '../../src/kpi/events.js';
import type { KpiBin } from '../../src/kpi/kpiEngine.js';
import { DataStore } from '../../src/store/dataStore.js';
import { envelope } from '../../src/upstream/messages.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';
import { upstreamValidators } from '../helpers/upstreamSchemas.js';

const T0 = Date.parse('2026-11-23T09:00:00+01:00');

describe('upstream KPI messages with plan data', () => {
  it('are stored with the plan section and validate against the schema', async () => {
    const dir = await tempDir('plan-kpi-schema');
    const parsed = parseConfig(
      {
        store_id: 's1',
        gateway_id: 'g1',
        data_dir: dir,
        timezone: 'Europe/Paris',
        cameras: [
          {
            id: 'door',
            source: { kind: 'file', path: '/dev/null' },
            lines: [{ name: 'in', points: [[0, 0.5], [1, 0.5]] }],
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
        kpi: { entrances: [{ camera: 'door', line: 'in' }] },
      },
      {},
    );
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const config = parsed.config;
    const clock = { now: T0 + 1000 };
    const store = DataStore.open({ ctx: { ...testContext(), now: () => clock.now }, config: () => config });
    try {
      store.recorder.tick();
      const events: StoreEvent[] = [
        { type: 'line_crossing', ts: T0 + 2000, camera: 'door', line: 'in', direction: 'in' },
        { type: 'plan_line_crossing', ts: T0 + 2000, line: 'entrance', direction: 'in' },
        { type: 'plan_zone_visit', ts: T0 + 70_000, zone: 'promo', enter_ts: T0 + 10_000, dwell_ms: 60_000, counted: true },
        { type: 'plan_zone_visit', ts: T0 + 200_000, zone: 'till', enter_ts: T0 + 80_000, dwell_ms: 120_000, counted: true },
      ];
      for (const e of events) await store.record(e);
      // 01:00 the next day: closes the minutes, quarters, hours and the day, all within the recorder's
      // one day of lateness.
      clock.now = T0 + 16 * 3_600_000;
      store.recorder.tick();

      const hour = store.recorder.bins('1h', T0, T0 + 3_600_000)[0]!;
      expect(hour.kpis.plan).toMatchObject({
        lines: { entrance: { in: 1, out: 0 } },
        zones: { promo: { visits: 1, dwell_mean_s: 60 }, till: { visits: 1, dwell_mean_s: 120 } },
        queues: { till: { served: 1, wait_mean_s: 120 } },
      });

      const rows = store.outbox.next(0, 100_000).filter((r) => r.kind === 'kpi' || r.kind === 'metrics');
      const bodies = rows.map((r) => JSON.parse(envelope(r, { storeId: 's1', gatewayId: 'g1' })) as { data: { kpis: KpiBin } });
      expect(bodies.some((b) => b.data.kpis.plan?.zones['promo'] !== undefined)).toBe(true);
      expect(bodies.every((b) => b.data.kpis.plan !== undefined)).toBe(true);

      const { envelope: check } = upstreamValidators();
      expect(bodies.flatMap((b) => check(b))).toEqual([]);

      const withPlan = bodies.find((b) => b.data.kpis.plan?.zones['promo'])!;
      // An older gateway's bin (no plan section) is still valid …
      const { plan: _dropped, ...withoutPlan } = withPlan.data.kpis;
      expect(check({ ...withPlan, data: { ...withPlan.data, kpis: withoutPlan } })).toEqual([]);
      // … and a broken plan section is not.
      const broken = (plan: unknown) => check({ ...withPlan, data: { ...withPlan.data, kpis: { ...withPlan.data.kpis, plan } } });
      expect(broken({ lines: {}, zones: {} })).not.toEqual([]);
      expect(broken({ ...withPlan.data.kpis.plan, extra: 1 })).not.toEqual([]);
      expect(broken({ ...withPlan.data.kpis.plan, zones: { promo: { ...withPlan.data.kpis.plan!.zones['promo'], occupancy_max: -1 } } })).not.toEqual([]);
      expect(broken({ ...withPlan.data.kpis.plan, lines: { entrance: { in: 1 } } })).not.toEqual([]);
    } finally {
      await store.close();
    }
  });
});
