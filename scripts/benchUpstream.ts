/**
 * npm run bench:upstream [-- --events N] [--json]
 *
 * Store-and-forward throughput against a real mosquitto on 127.0.0.1, with the default config
 * (synchronous=FULL commits, QoS 1, 256 messages in flight):
 *  1. outage: N events (default 50,000 — a busy store's day) are recorded while the broker is
 *     unreachable; reports the outbox write rate (events committed with their message per second)
 *     and the database size against the default quota;
 *  2. drain: the broker comes up; reports how fast the backlog is published and acknowledged, and
 *     checks that a subscriber received every message, in order, without a sequence gap.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseConfig } from '../src/gateway/config/loadConfig.js';
import { createMetrics } from '../src/gateway/metrics.js';
import type { StoreEvent } from '../src/kpi/events.js';
import { DataStore } from '../src/store/dataStore.js';
import { tempDir, until } from '../tests/helpers/gatewayHarness.js';
import { freePort, hasMosquitto, Mosquitto } from '../tests/helpers/mosquitto.js';
import { sequenceProblems, UpstreamSubscriber } from '../tests/helpers/upstreamSubscriber.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '50000' }, json: { type: 'boolean', default: false } } });
if (!hasMosquitto()) throw new Error('needs mosquitto and openssl: deploy/setup.sh --test');
const total = Number(values.events);

const broker = await Mosquitto.start();
const dir = await tempDir('bench-upstream');
const deadPort = await freePort();
const base = { store_id: 'bench-store', gateway_id: 'gw-bench', data_dir: dir };
const parse = (raw: object) => {
  const r = parseConfig(raw, {});
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.config;
};
// Phase 1: the uplink points at a port nobody listens on — the broker is "down".
let config = parse({ ...base, upstream: { mqtt: { url: `mqtt://127.0.0.1:${deadPort}`, reconnect: { initial_s: 0.2, max_s: 0.5 } } } });
const metrics = createMetrics();
const store = DataStore.open({ ctx: { log: pino({ level: 'silent' }), metrics, now: Date.now }, config: () => config });
store.start();

const subscriber = await UpstreamSubscriber.connect(broker.url, 'storepulse/v1/bench-store/gw-bench/#', 'bench-analytics');

function event(i: number, ts: number): StoreEvent {
  // A store's mix: mostly crossings, some zone visits.
  return i % 4 === 3
    ? { type: 'zone_visit', ts, camera: 'floor', zone: `zone-${i % 7}`, enter_ts: ts - 20_000, dwell_ms: 20_000, counted: true }
    : { type: 'line_crossing', ts, camera: `cam-${i % 3}`, line: 'entrance', direction: i % 2 ? 'in' : 'out' };
}

// Events arrive in small bursts, as from several cameras and sensors.
const writeStart = performance.now();
const BURST = 50;
for (let i = 0; i < total; i += BURST) {
  const now = Date.now();
  await Promise.all(Array.from({ length: Math.min(BURST, total - i) }, (_, k) => store.record(event(i + k, now))));
}
const writeS = (performance.now() - writeStart) / 1000;
// One event at a time (each waits for its own fsync): the worst case, a quiet sensor.
const SEQUENTIAL = 2000;
const seqStart = performance.now();
for (let i = 0; i < SEQUENTIAL; i++) await store.record(event(i, Date.now()));
const sequentialPerS = Math.round(SEQUENTIAL / ((performance.now() - seqStart) / 1000));
const buffered = store.outbox.backlog().count;
const usedMb = store.status().used_bytes / 1024 / 1024;

// Phase 2: the broker is reachable.
const drainStart = performance.now();
config = parse({ ...base, upstream: { mqtt: { url: broker.url } } });
store.applyUpstreamConfig();
await until(() => store.outbox.backlog().count, (n) => n === 0, 600_000, 'backlog drained');
const drainS = (performance.now() - drainStart) / 1000;
await until(() => subscriber.unique().length, (n) => n >= buffered, 60_000, 'subscriber received everything');
const unique = subscriber.unique();
const gaps = sequenceProblems(unique);

const result = {
  events: total + SEQUENTIAL,
  outbox_write_rate_per_s: Math.round(total / writeS),
  sequential_commits_per_s: sequentialPerS,
  buffered_messages: buffered,
  database_mb: Math.round(usedMb * 10) / 10,
  default_quota_mb: config.storage.quota_mb,
  drain_rate_per_s: Math.round(buffered / drainS),
  drain_s: Math.round(drainS * 10) / 10,
  delivered_unique: unique.length,
  redeliveries: subscriber.received.length - unique.length,
  sequence_gaps: gaps.length,
  in_order: gaps.length === 0,
};
await store.close();
await subscriber.close();
await broker.stop();

if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`outbox write rate: ${result.outbox_write_rate_per_s} events/s (each with its message, synchronous=FULL, group commit)`);
  console.log(`one event per commit: ${result.sequential_commits_per_s} commits/s`);
  console.log(`outage backlog: ${buffered} messages in ${result.database_mb} MB (default quota ${result.default_quota_mb} MB)`);
  console.log(`drain to mosquitto (loopback, QoS 1): ${result.drain_rate_per_s} messages/s (${result.drain_s} s)`);
  console.log(`delivered: ${result.delivered_unique} unique, ${result.redeliveries} re-deliveries, sequence gaps: ${result.sequence_gaps}`);
}
