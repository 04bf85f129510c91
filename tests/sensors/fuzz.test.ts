/**
 * 10,000 random and malformed payloads per profile through the real ingest path (profile → dead
 * letters in a SQLite file): nothing throws, nothing is stored as an event, every one is refused
 * with a code and a reason, and the dead-letter table holds them all.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import type { GatewayConfig } from '../../src/gateway/config/configSchema.js';
import { getMeta, setMeta } from '../../src/store/database.js';
import { DataStore } from '../../src/store/dataStore.js';
import { SensorIngest } from '../../src/sensors/sensorIngest.js';
import { malformedPayloads, type ProfileShape } from '../helpers/malformedPayloads.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';

const PER_PROFILE = 10_000;

const shapes: Record<string, ProfileShape & { topic: string }> = {
  door_counter: { topic: 'door/1', valid: (r) => ({ in: Math.floor(r() * 50), out: Math.floor(r() * 50) }), required: ['in', 'out'], badNumbers: [-1, -1e6, 2.5, 1e300, 0.1] },
  feedback: { topic: 'fb/1', valid: (r) => ({ button: 1 + Math.floor(r() * 4) }), required: ['button'], badNumbers: [0, 5, -1, 2.5, 99, 1e9] },
  pos: { topic: 'pos/1', valid: (r) => ({ amount: Math.round(r() * 10000) / 100, register: 'till-1', items: 2 }), required: ['amount'], badNumbers: [-0.01, -100, 2e6, 1e300] },
  numeric: { topic: 'temp/1', valid: (r) => ({ value: 15 + r() * 10 }), required: ['value'], badNumbers: [-100, 1000, 1e300, -1e300] },
};

describe('fuzz: malformed sensor payloads', () => {
  let store: DataStore;
  let ingest: SensorIngest;
  let config: GatewayConfig;
  const ctx = testContext();

  beforeAll(async () => {
    const dir = await tempDir('fuzz');
    const parsed = parseConfig(
      {
        data_dir: dir,
        sensors: {
          mqtt: [
            { id: 'door-1', topic: 'door/1', profile: 'door_counter', counting: 'delta' },
            { id: 'fb-1', topic: 'fb/1', profile: 'feedback' },
            { id: 'pos-1', topic: 'pos/1', profile: 'pos' },
            { id: 'temp-1', topic: 'temp/1', profile: 'numeric', min: -40, max: 85 },
          ],
        },
      },
      {},
    );
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    config = parsed.config;
    store = DataStore.open({ ctx, config: () => config, file: path.join(dir, 'fuzz.db') });
    ingest = new SensorIngest(
      config.sensors.mqtt,
      {
        record: (e, w) => store.record(e, w),
        deadLetter: (l) => store.deadLetters.add(l),
        loadMemory: (s) => JSON.parse(getMeta(store.db, s) ?? '{}'),
        saveMemory: (s, m) => setMeta(store.db, s, JSON.stringify(m)),
      },
      ctx,
    );
  });
  afterAll(async () => {
    await store?.close();
  });

  it.each(Object.keys(shapes))(`refuses every one of ${PER_PROFILE} malformed %s payloads with a reason`, async (profile) => {
    const shape = shapes[profile]!;
    const now = Date.now();
    const before = store.deadLetters.count();
    const payloads = malformedPayloads(shape, PER_PROFILE, profile.length * 7919, now);
    const codes = new Map<string, number>();
    for (const payload of payloads) {
      const { result } = await ingest.handle(shape.topic, payload, now);
      expect(result).toBe('rejected');
    }
    const letters = store.deadLetters.list({ limit: 1000 });
    for (const l of letters) {
      expect(l.reason.length).toBeGreaterThan(5);
      codes.set(l.code, (codes.get(l.code) ?? 0) + 1);
    }
    expect(store.deadLetters.count() - before).toBe(PER_PROFILE);
    // The generators reach several distinct checks, not one.
    expect(codes.size).toBeGreaterThanOrEqual(4);
    store.events.flush();
    expect(store.events.query({ from: 0, to: now + 86_400_000, limit: 10 })).toHaveLength(0);
  }, 120_000);

  it('counts each refusal in the metrics by sensor and reason', async () => {
    const metric = await ctx.metrics.sensorRejected.get();
    const total = metric.values.reduce((sum, v) => sum + v.value, 0);
    expect(total).toBe(PER_PROFILE * Object.keys(shapes).length);
    expect(new Set(metric.values.map((v) => v.labels.sensor))).toEqual(new Set(['door-1', 'fb-1', 'pos-1', 'temp-1']));
  });
});
