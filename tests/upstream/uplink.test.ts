/**
 * Store-and-forward against a real mosquitto: the broker goes away while events keep coming, wrong
 * credentials and an untrusted certificate are refused with a clear reason, and in every case the
 * outbox keeps buffering and delivers everything, in order, once the broker is reachable.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/config/configSchema.js';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { DataStore } from '../../src/store/dataStore.js';
import type { UplinkStatus } from '../../src/upstream/mqttUplink.js';
import { tempDir, testContext, until } from '../helpers/gatewayHarness.js';
import { hasMosquitto, MQTT_PASSWORD, MQTT_USER } from '../helpers/mosquitto.js';
import { useMosquitto } from '../helpers/mosquittoSuite.js';
import { upstreamValidators } from '../helpers/upstreamSchemas.js';
import { sequenceProblems, UpstreamSubscriber } from '../helpers/upstreamSubscriber.js';

const runIf = hasMosquitto() ? describe : describe.skip;

function config(dataDir: string, mqtt: Record<string, unknown>, gatewayId = 'gw-1'): GatewayConfig {
  const result = parseConfig(
    { store_id: 'paris-01', gateway_id: gatewayId, data_dir: dataDir, timezone: 'Europe/Paris', upstream: { mqtt: { reconnect: { initial_s: 0.1, max_s: 0.5 }, ...mqtt } } },
    {},
  );
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
}

const reading = (n: number) => ({ type: 'sensor_reading' as const, ts: Date.now(), sensor: 'probe', value: n });

runIf('MQTT uplink with a real mosquitto', () => {
  const broker = useMosquitto();

  it('delivers everything in order with no sequence gap across a broker outage', async () => {
    const subscriber = await UpstreamSubscriber.connect(broker().url, 'storepulse/v1/paris-01/gw-1/#', 'analytics-outage');
    const dir = await tempDir('uplink-outage');
    const cfg = config(dir, { url: broker().url });
    const store = DataStore.open({ ctx: testContext(), config: () => cfg });
    store.start();
    try {
      const acked: number[] = [];
      let n = 0;
      const writeFor = async (ms: number): Promise<void> => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          const value = n++;
          await store.record(reading(value));
          acked.push(value);
          await new Promise((r) => setTimeout(r, 2));
        }
      };
      await writeFor(1000);
      await until(() => subscriber.received.length, (c) => c > 0, 30_000, 'first deliveries');
      await broker().stop();
      await writeFor(1500); // the broker is down: everything goes to the outbox only
      const during = store.status().upstream as UplinkStatus;
      expect(during.state).not.toBe('connected');
      expect(during.backlog).toBeGreaterThan(0);
      await broker().restart();
      await writeFor(1000);
      await until(() => store.status().upstream.backlog, (b) => b === 0, 30_000, 'outbox drained');
      await until(() => subscriber.unique().filter((r) => r.envelope.data.type === 'sensor_reading').length, (c) => c >= acked.length, 30_000, 'all readings received');

      const unique = subscriber.unique();
      const values = unique.filter((r) => r.envelope.data.type === 'sensor_reading').map((r) => r.envelope.data.value);
      expect(values).toEqual(acked); // every acknowledged event, once each, in order
      expect(sequenceProblems(unique)).toEqual([]);
      expect(subscriber.inconsistentDuplicates()).toEqual([]);
      expect(unique[0]!.topic).toBe('storepulse/v1/paris-01/gw-1/events/sensor_reading');
      expect(unique[0]!.envelope).toMatchObject({ v: 1, store_id: 'paris-01', gateway_id: 'gw-1', kind: 'event' });
      expect(JSON.parse(subscriber.retained.get('storepulse/v1/paris-01/gw-1/status')!)).toMatchObject({ state: 'online' });
      const schemas = upstreamValidators();
      expect(unique.flatMap((r) => schemas.envelope(r.envelope))).toEqual([]);
      expect(schemas.status(JSON.parse(subscriber.retained.get('storepulse/v1/paris-01/gw-1/status')!))).toEqual([]);
    } finally {
      await store.close();
      await subscriber.close();
    }
    // A clean stop replaces the retained status with "offline".
    const late = await UpstreamSubscriber.connect(broker().url, 'storepulse/v1/paris-01/gw-1/status');
    await until(() => late.retained.get('storepulse/v1/paris-01/gw-1/status'), (s) => s !== undefined, 30_000, 'retained status');
    expect(JSON.parse(late.retained.get('storepulse/v1/paris-01/gw-1/status')!)).toMatchObject({ state: 'offline', reason: 'shutdown' });
    await late.close();
  }, 240_000);

  it('refuses wrong credentials and an untrusted certificate clearly, and keeps buffering', async () => {
    const dir = await tempDir('uplink-auth');
    const cases = [
      { mqtt: { url: broker().authUrl, username: MQTT_USER, password: 'wrong' }, reason: 'auth', message: /refused the login/ },
      { mqtt: { url: broker().tlsUrl, username: MQTT_USER, password: MQTT_PASSWORD }, reason: 'tls', message: /not trusted.*upstream\.mqtt\.ca/ },
    ];
    for (const [i, c] of cases.entries()) {
      const cfg = config(path.join(dir, String(i)), c.mqtt, `gw-bad-${i}`);
      const store = DataStore.open({ ctx: testContext(), config: () => cfg });
      store.start();
      try {
        for (let k = 0; k < 20; k++) await store.record(reading(k));
        const status = await until(() => store.status().upstream as UplinkStatus, (s) => s.last_error !== undefined, 30_000, 'a connection error');
        expect(status.last_error!.reason).toBe(c.reason);
        expect(status.last_error!.message).toMatch(c.message);
        expect(status.state).not.toBe('connected');
        expect(status.backlog).toBe(20);
      } finally {
        await store.close();
      }
    }
  }, 120_000);

  it('publishes over TLS with the CA and a password (MQTT 5)', async () => {
    const subscriber = await UpstreamSubscriber.connect(broker().url, 'storepulse/v1/paris-01/gw-tls/#', 'analytics-tls');
    const cfg = config(await tempDir('uplink-tls'), { url: broker().tlsUrl, username: MQTT_USER, password: MQTT_PASSWORD, ca: broker().caFile }, 'gw-tls');
    const store = DataStore.open({ ctx: testContext(), config: () => cfg });
    store.start();
    try {
      for (let k = 0; k < 50; k++) await store.record(reading(k));
      await until(() => subscriber.unique().length, (n) => n >= 50, 30_000, 'TLS deliveries');
      const status = store.status().upstream as UplinkStatus;
      expect(status).toMatchObject({ state: 'connected', protocol: '5', last_error: undefined });
      expect(subscriber.unique().map((r) => r.envelope.data.value)).toEqual([...Array(50).keys()]);
    } finally {
      await store.close();
      await subscriber.close();
    }
  }, 90_000);
});
