/**
 * MQTT sensors end to end with real peers: real mqtt.js clients against the embedded (aedes) broker,
 * and the external-broker mode against a real mosquitto. Readings become stored events, flow
 * upstream (mosquitto) with valid envelopes, bad ones land in the dead letters, and nothing is lost
 * across a gateway restart.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { apiTokens } from '../../src/gateway/http/apiAuth.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import type { GatewayContext } from '../../src/gateway/context.js';
import { tempDir, testContext, until } from '../helpers/gatewayHarness.js';
import { hasMosquitto, MQTT_PASSWORD, MQTT_USER } from '../helpers/mosquitto.js';
import { useMosquitto } from '../helpers/mosquittoSuite.js';
import { upstreamValidators } from '../helpers/upstreamSchemas.js';
import { UpstreamSubscriber } from '../helpers/upstreamSubscriber.js';

const SENSORS = [
  { id: 'door-main', topic: 'store/door/main', profile: 'door_counter', wrap_at: 65536 },
  { id: 'till', topic: 'store/pos/+', profile: 'pos', currency: 'EUR' },
  { id: 'exit-smiley', topic: 'store/feedback', profile: 'feedback', zone: 'exit' },
  { id: 'fridge', topic: 'store/fridge', profile: 'numeric', field: 'temp', unit: '°C', min: -40, max: 60 },
];
const SENSOR_USER = { username: 'door-counter', password: 'door-secret-1' };

const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.stop()));
});

async function startGateway(ctx: GatewayContext, dataDir: string, extra: Record<string, unknown>): Promise<Gateway> {
  const gateway = await Gateway.start({
    ctx,
    rawConfig: { data_dir: dataDir, tls: { mode: 'off' }, store_id: 'paris-01', timezone: 'Europe/Paris', kpi: { entrances: [{ sensor: 'door-main' }] }, ...extra },
  });
  gateways.push(gateway);
  return gateway;
}

function storedEvents(gateway: Gateway, type?: string) {
  const store = gateway.store!;
  store.events.flush();
  return store.events.query({ from: 0, to: Date.now() + 60_000, types: type ? [type as never] : undefined, limit: 1000 }).map((e) => e.event);
}

describe.skipIf(!hasMosquitto())('MQTT sensors', () => {
  const broker = useMosquitto();

  it('embedded broker: authenticated sensors, ACK after storage, dead letters, upstream, counter totals kept across a restart', async () => {
    const dataDir = await tempDir('sensors-embedded');
    const ctx = testContext();
    const upstream = await UpstreamSubscriber.connect(broker().url, 'storepulse/#', `analytics-sensors-${Date.now()}`);
    const sensorsConfig = { broker: { mode: 'embedded', host: '127.0.0.1', port: 0, users: [SENSOR_USER] }, mqtt: SENSORS };
    const config = { sensors: sensorsConfig, upstream: { mqtt: { url: broker().url, reconnect: { initial_s: 0.1, max_s: 0.5 } } } };
    let gateway = await startGateway(ctx, dataDir, config);
    const port = gateway.sensors!.brokerPort!;
    const url = `mqtt://127.0.0.1:${port}`;

    // Without credentials or with a wrong password: refused, counted.
    await expect(mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 30_000 })).rejects.toThrow();
    await expect(mqtt.connectAsync(url, { username: SENSOR_USER.username, password: 'wrong-password', reconnectPeriod: 0, connectTimeout: 30_000 })).rejects.toThrow(/username or password|Not authorized/i);
    expect((await ctx.metrics.brokerAuthFailures.get()).values[0]!.value).toBe(2);

    const device = await mqtt.connectAsync(url, { ...SENSOR_USER, reconnectPeriod: 0 });
    const send = async (topic: string, body: unknown) => device.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });

    await send('store/door/main', { in: 65530, out: 100 }); // baseline
    await send('store/door/main', { in: 4, out: 103 }); // wrapped: +10 in, +3 out
    // The PUBACK came back, so the event is already committed: no waiting.
    expect(storedEvents(gateway, 'door_count')).toEqual([expect.objectContaining({ sensor: 'door-main', in: 10, out: 3 })]);

    await send('store/pos/till-1', { id: 'T-1', amount: 19.9, items: 2 });
    await send('store/pos/till-1', { id: 'T-1', amount: 19.9, items: 2 }); // a till's retry
    await send('store/feedback', '4');
    await send('store/fridge', { temp: 4.5 });
    await send('store/fridge', { temp: 'warm' });
    await send('store/unknown-device', { x: 1 });
    expect(storedEvents(gateway, 'pos_transaction')).toEqual([expect.objectContaining({ register: 'till', amount: 19.9, currency: 'EUR', items: 2 })]);
    expect(storedEvents(gateway, 'feedback_vote')).toEqual([expect.objectContaining({ terminal: 'exit-smiley', zone: 'exit', score: 4, scale: 4 })]);
    expect(storedEvents(gateway, 'sensor_reading')).toEqual([expect.objectContaining({ sensor: 'fridge', value: 4.5, unit: '°C' })]);

    // The installer's view: sensor health and the dead letters with their reasons.
    const app = buildServer(gateway, ctx);
    const auth = { authorization: `Bearer ${apiTokens(gateway.config)[0]!.token}` };
    const letters = (await app.inject({ url: '/api/v1/dead-letters', headers: auth })).json<{ dead_letters: { sensor: string | null; code: string; reason: string; payload: string }[] }>().dead_letters;
    expect(letters).toEqual([
      expect.objectContaining({ sensor: null, code: 'unknown_topic', reason: expect.stringContaining('store/unknown-device') }),
      expect.objectContaining({ sensor: 'fridge', code: 'wrong_type', payload: '{"temp":"warm"}' }),
    ]);
    expect((await app.inject({ url: '/api/v1/dead-letters' })).statusCode).toBe(401);
    const status = (await app.inject({ url: '/api/v1/sensors', headers: auth })).json<{ broker: { mode: string; port: number }; sensors: { id: string; accepted: number; rejected: number; duplicates: number }[] }>();
    expect(status.broker).toMatchObject({ mode: 'embedded', port });
    expect(status.sensors.find((s) => s.id === 'till')).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(status.sensors.find((s) => s.id === 'fridge')).toMatchObject({ accepted: 1, rejected: 1 });
    await app.close();

    // Upstream: every sensor event reaches the analytics broker with a valid envelope.
    const check = upstreamValidators();
    const sensorEvents = await until(
      () => upstream.unique().filter((r) => /events\/(door_count|pos_transaction|feedback_vote|sensor_reading)$/.test(r.topic)),
      (r) => r.length === 4,
      30_000,
      'sensor events upstream',
    );
    for (const r of sensorEvents) expect(check.envelope(r.envelope)).toEqual([]);

    // Restart: the counter's last total was committed with its event, so the next reading counts exactly.
    await device.endAsync();
    await gateway.stop();
    gateways.length = 0;
    gateway = await startGateway(ctx, dataDir, { ...config, sensors: { ...sensorsConfig, broker: { ...sensorsConfig.broker, port } } });
    const again = await mqtt.connectAsync(url, { ...SENSOR_USER, reconnectPeriod: 0 });
    await again.publishAsync('store/door/main', JSON.stringify({ in: 9, out: 103 }), { qos: 1 });
    expect(storedEvents(gateway, 'door_count').map((e) => (e as { in: number }).in)).toEqual([10, 5]);
    await again.endAsync();
    await upstream.close();
  }, 120_000);

  it('external broker: a persistent subscription on mosquitto keeps readings sent while the gateway is down', async () => {
    const dataDir = await tempDir('sensors-external');
    const ctx = testContext();
    const config = { sensors: { broker: { mode: 'external', url: broker().authUrl, username: MQTT_USER, password: MQTT_PASSWORD, client_id: `gw-sensors-${Date.now()}` }, mqtt: SENSORS } };
    let gateway = await startGateway(ctx, dataDir, config);
    await until(() => gateway.sensors!.status().broker, (b) => b.mode === 'external' && b.connected, 30_000, 'subscription');
    const device = await mqtt.connectAsync(broker().authUrl, { username: MQTT_USER, password: MQTT_PASSWORD, reconnectPeriod: 0 });
    // The subscription is made right after CONNACK: wait until a reading gets through.
    await until(
      async () => {
        await device.publishAsync('store/fridge', JSON.stringify({ temp: 3 }), { qos: 1 });
        return storedEvents(gateway, 'sensor_reading').length;
      },
      (n) => n > 0,
      30_000,
      'first reading',
    );
    await device.publishAsync('store/door/main', JSON.stringify({ in: 10, out: 10 }), { qos: 1 });
    await device.publishAsync('store/door/main', JSON.stringify({ in: 13, out: 11 }), { qos: 1 });
    await until(() => storedEvents(gateway, 'door_count'), (e) => e.length === 1, 30_000, 'door count');

    await gateway.stop();
    gateways.length = 0;
    for (let i = 1; i <= 3; i++) await device.publishAsync('store/pos/till-2', JSON.stringify({ id: `T-${i}`, amount: i * 10 }), { qos: 1 });
    await device.publishAsync('store/door/main', JSON.stringify({ in: 20, out: 15 }), { qos: 1 });

    gateway = await startGateway(ctx, dataDir, config);
    const sales = await until(() => storedEvents(gateway, 'pos_transaction'), (e) => e.length === 3, 30_000, 'queued sales');
    expect(sales.map((e) => (e as { amount: number }).amount).sort()).toEqual([10, 20, 30]);
    const doors = await until(() => storedEvents(gateway, 'door_count'), (e) => e.length === 2, 30_000, 'queued door count');
    expect(doors[1]).toMatchObject({ in: 7, out: 4 });
    await device.endAsync();
  }, 240_000);
});
