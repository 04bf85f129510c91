/**
 * The JSON Schema files in schemas/upstream/v1 describe what the gateway really publishes: every
 * kind of message is built through the real store and checked, and the schemas reject a broken one.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import type { StoreEvent } from '../../src/kpi/events.js';
import { AnnotationStore } from '../../src/store/annotationStore.js';
import { DataStore } from '../../src/store/dataStore.js';
import { envelope } from '../../src/upstream/messages.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';
import { upstreamValidators } from '../helpers/upstreamSchemas.js';

const T0 = Date.parse('2026-11-23T09:00:00+01:00');

describe('upstream JSON schemas', () => {
  it('accept every message kind the gateway queues, and reject malformed ones', async () => {
    const dir = await tempDir('schemas');
    const parsed = parseConfig(
      {
        store_id: 's1',
        gateway_id: 'g1',
        data_dir: dir,
        timezone: 'Europe/Paris',
        cameras: [{ id: 'door', source: { kind: 'file', path: '/dev/null' }, lines: [{ name: 'in', points: [[0, 0.5], [1, 0.5]] }, { name: 'street', points: [[0, 0.9], [1, 0.9]] }], zones: [{ name: 'q', polygon: [[0, 0], [1, 0], [1, 1]] }] }],
        sensors: { mqtt: [{ id: 'side', topic: 'door/side', profile: 'door_counter' }] },
        kpi: { entrances: [{ camera: 'door', line: 'in' }, { sensor: 'side' }], outside_line: { camera: 'door', line: 'street' }, queue_zones: [{ camera: 'door', zone: 'q' }] },
      },
      {},
    );
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const config = parsed.config;
    const clock = { now: T0 + 1000 };
    const store = DataStore.open({ ctx: { ...testContext(), now: () => clock.now }, config: () => config });
    store.recorder.tick();
    const events: StoreEvent[] = [
      { type: 'line_crossing', ts: T0 + 2000, camera: 'door', line: 'in', direction: 'in' },
      { type: 'line_crossing', ts: T0 + 2500, camera: 'door', line: 'street', direction: 'out' },
      { type: 'zone_visit', ts: T0 + 9000, camera: 'door', zone: 'q', enter_ts: T0 + 3000, dwell_ms: 6000, counted: true },
      { type: 'door_count', ts: T0 + 3000, sensor: 'side', in: 2, out: 1 },
      { type: 'pos_transaction', ts: T0 + 4000, register: 'till-1', amount: 12.5, currency: 'EUR', items: 2 },
      { type: 'feedback_vote', ts: T0 + 5000, terminal: 'exit', zone: 'q', score: 3, scale: 4 },
      { type: 'staff_presence', ts: T0 + 6000, badge: 'badge-07', present: true },
      { type: 'beacon_presence', ts: T0 + 6500, beacon: 'promo-display', zone: 'promo', present: true },
      { type: 'sensor_reading', ts: T0 + 7000, sensor: 'co2', value: 612, unit: 'ppm' },
    ];
    for (const e of events) await store.record(e);
    const annotations = new AnnotationStore(store.db, { outbox: store.outbox, identity: () => store.identity() });
    const promo = annotations.add({ ts: T0 + 8000, text: 'Promo start', subject: 'zone:q', createdBy: 'installer-ann' }, T0 + 8000);
    annotations.add({ ts: T0 + 8500, text: 'Till moved' }, T0 + 8500);
    expect(annotations.remove(promo.id, T0 + 9500)).toBe(true);
    clock.now = T0 + 2 * 86_400_000; // closes minutes, quarters, hours and the day
    store.recorder.tick();
    const rows = store.outbox.next(0, 100_000);
    const kinds = new Set(rows.map((r) => `${r.kind}:${r.topic}`));
    for (const t of ['event:events/line_crossing', 'event:events/pos_transaction', 'metrics:metrics/1m', 'kpi:kpis/15m', 'kpi:kpis/1h', 'kpi:kpis/1d', 'annotation:annotations']) expect(kinds).toContain(t);

    const { envelope: checkEnvelope, status: checkStatus } = upstreamValidators();
    const identity = { storeId: 's1', gatewayId: 'g1' };
    const problems = rows.flatMap((r) => checkEnvelope(JSON.parse(envelope(r, identity))).map((p) => `${r.topic} ${p}`));
    expect(problems).toEqual([]);
    // Two annotations and one tombstone went up; the author never does, and the schema refuses it.
    const notes = rows.filter((r) => r.kind === 'annotation').map((r) => JSON.parse(envelope(r, identity)) as { data: Record<string, unknown> });
    expect(notes.map((n) => n.data.deleted)).toEqual([false, false, true]);
    expect(JSON.stringify(notes)).not.toContain('installer-ann');
    expect(checkEnvelope({ ...notes[0]!, data: { ...notes[0]!.data, created_by: 'installer-ann' } })).not.toEqual([]);
    expect(checkEnvelope({ ...notes[2]!, data: { ...notes[2]!.data, deleted: false } })).not.toEqual([]);
    expect(checkStatus({ v: 1, store_id: 's1', gateway_id: 'g1', state: 'online', at: new Date().toISOString() })).toEqual([]);

    const event = JSON.parse(envelope(rows[0]!, identity)) as { data: Record<string, unknown>; seq: number };
    expect(checkEnvelope({ ...event, seq: 0 })).not.toEqual([]);
    expect(checkEnvelope({ ...event, data: { ...event.data, direction: 'sideways' } })).not.toEqual([]);
    expect(checkEnvelope({ ...event, data: { ...event.data, trackId: undefined, type: 'face_seen' } })).not.toEqual([]);
    await store.close();
  });
});
