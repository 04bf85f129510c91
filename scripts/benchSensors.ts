/**
 * npm run bench:sensors [-- --clients 8 --messages 40000 --qos 1] [--json]
 *
 * Sensor ingest throughput: a gateway with the embedded broker on 127.0.0.1 and four profiles; a
 * separate process runs `clients` MQTT sensors (door counters, tills, feedback terminals,
 * thermometers, in turn) publishing `messages` readings in total at QoS 1 as fast as their
 * acknowledgements allow, 10 % of them malformed. Because the gateway acknowledges a reading only
 * once it is committed, messages/s here is "ingested and persisted". At the end every reading is
 * checked: events + dead letters in the SQLite file = messages sent.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Gateway } from '../src/gateway/gateway.js';
import { createMetrics } from '../src/gateway/metrics.js';
import { tempDir } from '../tests/helpers/gatewayHarness.js';

const { values } = parseArgs({
  options: { clients: { type: 'string', default: '8' }, messages: { type: 'string', default: '40000' }, qos: { type: 'string', default: '1' }, json: { type: 'boolean', default: false } },
});
const clients = Number(values.clients);
const total = Number(values.messages);
const qos = Number(values.qos);
const USER = { username: 'bench', password: 'bench-password' };

const dir = await tempDir('bench-sensors');
const metrics = createMetrics();
const gateway = await Gateway.start({
  ctx: { log: pino({ level: 'warn' }), metrics, now: Date.now },
  rawConfig: {
    data_dir: dir,
    // Plain HTTP/MQTT on loopback: the benchmark measures the gateway, not TLS.
    tls: { mode: 'off' },
    sensors: {
      broker: { mode: 'embedded', host: '127.0.0.1', port: 0, users: [USER] },
      mqtt: [
        { id: 'door', topic: 'bench/door/+', profile: 'door_counter', counting: 'delta' },
        { id: 'pos', topic: 'bench/pos/+', profile: 'pos' },
        { id: 'feedback', topic: 'bench/feedback/+', profile: 'feedback' },
        { id: 'temp', topic: 'bench/temp/+', profile: 'numeric' },
      ],
    },
  },
});
const port = gateway.sensors!.brokerPort!;

// The sensors run in their own process, as real devices would not share the gateway's event loop.
const publisher = `
import mqtt from 'mqtt';
const [port, clients, total, qos, user, password] = process.argv.slice(1);
const kinds = ['door', 'pos', 'feedback', 'temp'];
const body = (kind, i) => {
  if (i % 10 === 9) return '{"broken": ';
  if (kind === 'door') return JSON.stringify({ in: i % 3, out: 1 });
  if (kind === 'pos') return JSON.stringify({ amount: (i % 500) / 10, items: 1 + (i % 4) });
  if (kind === 'feedback') return String(1 + (i % 4));
  return JSON.stringify({ value: 20 + (i % 50) / 10 });
};
const perClient = Math.ceil(Number(total) / Number(clients));
const conns = await Promise.all(Array.from({ length: Number(clients) }, (_, c) => mqtt.connectAsync('mqtt://127.0.0.1:' + port, { username: user, password, clientId: 'bench-' + c })));
const start = performance.now();
await Promise.all(conns.map(async (client, c) => {
  const kind = kinds[c % kinds.length];
  const window = 64;
  let next = 0;
  const lane = async () => { while (next < perClient) { const i = next++; await client.publishAsync('bench/' + kind + '/' + c, body(kind, i), { qos: Number(qos) }); } };
  await Promise.all(Array.from({ length: window }, lane));
}));
const seconds = (performance.now() - start) / 1000;
await Promise.all(conns.map((c) => c.endAsync()));
console.log(JSON.stringify({ sent: perClient * Number(clients), seconds }));
`;
const child = spawn(process.execPath, ['--input-type=module', '-e', publisher, String(port), String(clients), String(total), String(qos), USER.username, USER.password], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (d: Buffer) => (out += d.toString()));
const cpuBefore = process.cpuUsage();
await new Promise((resolve) => child.on('exit', resolve));
const cpu = process.cpuUsage(cpuBefore);
const { sent, seconds } = JSON.parse(out) as { sent: number; seconds: number };

const store = gateway.store!;
store.events.flush();
const waitForQos0 = Date.now();
let stored = 0;
let deadLetters = 0;
// QoS 0 has no acknowledgement: give the last messages a moment to be committed.
do {
  stored = (store.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  deadLetters = store.deadLetters.count();
  if (stored + deadLetters >= sent || qos > 0) break;
  await new Promise((r) => setTimeout(r, 200));
} while (Date.now() - waitForQos0 < 5000);
await gateway.stop();

const result = {
  clients,
  qos,
  messages_sent: sent,
  seconds: Number(seconds.toFixed(2)),
  messages_per_s: Math.round(sent / seconds),
  events_stored: stored,
  dead_letters: deadLetters,
  lost: sent - stored - deadLetters,
  gateway_cpu_percent: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100),
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`sensor ingest: ${clients} clients, QoS ${qos}, ${sent} messages (10 % malformed)`);
  console.log(`  ${result.messages_per_s} messages/s ingested and persisted (${result.seconds} s), gateway process CPU ${result.gateway_cpu_percent} %`);
  console.log(`  stored: ${stored} events + ${deadLetters} dead letters; lost: ${result.lost}`);
}
if (result.lost !== 0) process.exitCode = 1;
