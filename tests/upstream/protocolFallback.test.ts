/**
 * MQTT 5 with a 3.1.1 fallback. The broker here is a real mosquitto behind a small TCP front that
 * behaves like an MQTT 3.1.1-only broker: it refuses a CONNECT at protocol level 5 with "unsupported
 * protocol version" and passes level-4 connections through to mosquitto untouched.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { DataStore } from '../../src/store/dataStore.js';
import type { UplinkStatus } from '../../src/upstream/mqttUplink.js';
import { tempDir, testContext, until } from '../helpers/gatewayHarness.js';
import { hasMosquitto } from '../helpers/mosquitto.js';
import { useMosquitto } from '../helpers/mosquittoSuite.js';
import { UpstreamSubscriber } from '../helpers/upstreamSubscriber.js';

/** The protocol level byte of a CONNECT packet, once enough bytes have arrived. */
function protocolLevel(buf: Buffer): number | undefined {
  let i = 1;
  while (i < buf.length && (buf[i]! & 0x80) !== 0) i++; // variable-length "remaining length"
  const at = i + 1 + 2 + 4; // after it: protocol name length (2) and "MQTT" (4)
  return buf.length > at ? buf[at] : undefined;
}

function mqtt311Front(targetPort: number): Promise<{ server: net.Server; port: number; refusedV5: () => number }> {
  let refused = 0;
  const server = net.createServer((socket) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const level = protocolLevel(head);
      if (level === undefined) return;
      socket.off('data', onData);
      if (level === 5) {
        refused += 1;
        socket.end(Buffer.from([0x20, 0x03, 0x00, 0x84, 0x00])); // CONNACK: 0x84 unsupported protocol version
        return;
      }
      const upstream = net.connect(targetPort, '127.0.0.1', () => {
        upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    };
    socket.on('data', onData);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port, refusedV5: () => refused })));
}

describe.skipIf(!hasMosquitto())('MQTT protocol fallback', () => {
  const broker = useMosquitto();

  it('falls back to MQTT 3.1.1 when the broker refuses MQTT 5, and delivers', async () => {
    const front = await mqtt311Front(broker().ports.plain);
    const subscriber = await UpstreamSubscriber.connect(broker().url, 'storepulse/v1/s/g-311/#', 'analytics-311');
    const parsed = parseConfig({ store_id: 's', gateway_id: 'g-311', data_dir: await tempDir('mqtt311'), upstream: { mqtt: { url: `mqtt://127.0.0.1:${front.port}` } } }, {});
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const config = parsed.config;
    const store = DataStore.open({ ctx: testContext(), config: () => config });
    store.start();
    try {
      for (let k = 0; k < 10; k++) await store.record({ type: 'sensor_reading', ts: Date.now(), sensor: 'probe', value: k });
      await until(() => subscriber.unique().length, (n) => n >= 10, 30_000, 'deliveries over 3.1.1');
      expect(front.refusedV5()).toBe(1);
      expect(store.status().upstream as UplinkStatus).toMatchObject({ state: 'connected', protocol: '3.1.1' });
    } finally {
      await store.close();
      await subscriber.close();
      front.server.close();
    }
  }, 90_000);
});
