/**
 * One simulated gateway as its own process, for the central exactly-once test: the simulated store's
 * messages go through the gateway's real store-and-forward path (the SQLite outbox and the MQTT
 * uplink with its reconnection), with change annotations and their tombstones among them
 * (annotationStream.ts), enqueued a few at a time as a live gateway would. Prints one JSON
 * line when the broker has acknowledged everything, then exits.
 *
 *   node --import tsx tests/central/gatewayPublisher.ts BROKER_URL DATA_DIR INDEX SEED MINUTES START_MS
 */
import path from 'node:path';
import { pino } from 'pino';
import { simulatedFleet, simulateGateway } from '../../src/central/fleetSimulation.js';
import { createMetrics } from '../../src/gateway/metrics.js';
import { openDatabase } from '../../src/store/database.js';
import { Outbox } from '../../src/store/outbox.js';
import { MqttUplink } from '../../src/upstream/mqttUplink.js';
import { withAnnotations } from './annotationStream.js';

const [brokerUrl, dataDir, index, seed, minutes, start] = process.argv.slice(2);
const gw = simulatedFleet(Number(index))[Number(index) - 1]!;
const traffic = simulateGateway(gw, { start: Number(start), minutes: Number(minutes), seed: Number(seed), reviseEvery: 5 });
const stream = withAnnotations(gw, traffic.messages, Number(start)).messages;

const db = openDatabase(path.join(dataDir!, `${gw.gatewayId}.db`));
const outbox = new Outbox(db);
const ctx = { log: pino({ level: 'warn' }, pino.destination(2)), metrics: createMetrics(), now: Date.now };
const uplink = new MqttUplink(
  outbox,
  {
    url: brokerUrl!,
    clientId: `gateway-${gw.gatewayId}`,
    protocol: '5',
    topicRoot: 'storepulse',
    keepaliveS: 5,
    connectTimeoutS: 5,
    reconnect: { initialS: 0.2, maxS: 1 },
    window: 64,
  },
  () => gw,
  ctx,
);
uplink.start();

const enqueue = db.transaction((chunk: typeof stream) => {
  for (const message of chunk) outbox.enqueue(message, Date.now());
});
// Pacing: a few messages at a time, so that the stream lasts while the test kills workers.
const CHUNK = Number(process.env.PUBLISH_CHUNK ?? 25);
const PAUSE_MS = Number(process.env.PUBLISH_PAUSE_MS ?? 40);
for (let i = 0; i < stream.length; i += CHUNK) {
  enqueue(stream.slice(i, i + CHUNK));
  uplink.wake();
  await new Promise((r) => setTimeout(r, PAUSE_MS));
}
while (outbox.backlog().count > 0) await new Promise((r) => setTimeout(r, 100));
await uplink.stop();
db.close();
process.stdout.write(`${JSON.stringify({ gateway: gw.gatewayId, messages: stream.length, events: traffic.events, kpiBins: traffic.kpiBins })}\n`);
