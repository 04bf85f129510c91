/**
 * A gateway process reduced to its durable path, for the SIGKILL test: it records sensor readings
 * as fast as the store commits them and publishes through the uplink, printing "ACK <value>" only
 * once an event's transaction has committed. The test kills it with SIGKILL at random moments.
 * usage: tsx tests/peers/outboxWriter.ts DATA_DIR BROKER_URL FIRST_VALUE
 */
import { pino } from 'pino';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { createMetrics } from '../../src/gateway/metrics.js';
import { DataStore } from '../../src/store/dataStore.js';

const [dataDir, url, first] = process.argv.slice(2);
const parsed = parseConfig({ store_id: 'kill-store', gateway_id: 'gw-kill', data_dir: dataDir, upstream: { mqtt: { url, reconnect: { initial_s: 0.1, max_s: 0.2 } } } }, {});
if (!parsed.ok) throw new Error(parsed.errors.join('; '));
const config = parsed.config;
const store = DataStore.open({ ctx: { log: pino({ level: 'silent' }), metrics: createMetrics(), now: Date.now }, config: () => config });
store.start();
const writes = process.argv.includes('--no-writes') ? 0 : Infinity;

let value = Number(first);
async function writeBatch(): Promise<void> {
  // A few appends per tick share one commit, like camera and sensor events arriving together.
  const batch = Array.from({ length: 5 }, () => value++);
  await Promise.all(batch.map((v) => store.record({ type: 'sensor_reading', ts: Date.now(), sensor: 'probe', value: v })));
  process.stdout.write(batch.map((v) => `ACK ${v}\n`).join(''));
}

process.stdout.write('READY\n');
for (let i = 0; i < writes; i++) {
  await writeBatch();
  await new Promise((r) => setTimeout(r, 1));
}
