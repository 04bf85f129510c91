/**
 * One ingest worker against a real mosquitto and a real PostgreSQL: a simulated gateway's messages
 * (made by the gateway's own KPI engine and message builders) land once each, revisions replace
 * older bins, statuses feed the fleet view, bad messages become dead letters, and a database outage
 * loses nothing.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publications, simulatedFleet, simulateGateway } from '../../src/central/fleetSimulation.js';
import { until } from '../helpers/gatewayHarness.js';
import { hasMosquitto } from '../helpers/mosquitto.js';
import { useMosquitto } from '../helpers/mosquittoSuite.js';
import { postgresUnavailable, usePostgres } from '../helpers/postgres.js';
import { sql, startWorker, tableCounts, workerConfig } from './centralHarness.js';

const START = Date.UTC(2026, 10, 30, 23, 30); // the simulated half hour crosses into December: two monthly partitions

describe.skipIf(postgresUnavailable() !== undefined || !hasMosquitto())('central ingest worker (real mosquitto, real PostgreSQL)', () => {
  const broker = useMosquitto();
  const postgres = usePostgres();
  let databaseUrl: string;
  let publisher: MqttClient;
  let testNumber = 0;

  beforeEach(async () => {
    testNumber += 1;
    databaseUrl = await postgres().createDatabase(`ingest_${testNumber}`);
    publisher = await mqtt.connectAsync(broker().url, { clientId: `gateway-sim-${testNumber}`, protocolVersion: 5 });
  });
  afterEach(async () => {
    await publisher.endAsync();
  });

  const config = (clientId = `worker-${testNumber}`) => workerConfig({ brokerUrl: broker().url, databaseUrl, clientId, group: `group-${testNumber}` });
  const publishAll = async (messages: { topic: string; payload: string | Buffer }[]): Promise<void> => {
    await Promise.all(messages.map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
  };

  it('stores every message once, even when the gateway re-delivers all of them, and keeps the highest KPI revision', async () => {
    const [gw] = simulatedFleet(1);
    const traffic = simulateGateway(gw!, { start: START, minutes: 40, seed: 7, reviseEvery: 4 });
    const messages = publications(gw!, traffic.messages, START + 41 * 60_000);
    const { worker } = await startWorker(config());
    await publishAll(messages);
    await publishAll(messages); // the gateway's outbox re-sends everything after a lost connection

    await until(() => worker.stats().acknowledged, (n) => n === messages.length * 2, 30_000, 'every delivery acknowledged');
    const counts = await tableCounts(databaseUrl);
    expect(counts).toEqual({ events: traffic.events, kpi_bins: traffic.kpiBins, dead_letters: 0, gateways: 1 });
    const keys = await sql<{ n: string }>(databaseUrl, 'SELECT count(DISTINCT key) AS n FROM events');
    expect(Number(keys[0]!.n)).toBe(traffic.events);

    const bins = await sql<{ bin_from: Date; revision: number; traffic_in: number; sales: number }>(databaseUrl, "SELECT bin_from, revision, traffic_in, sales FROM kpi_bins WHERE bin_size = '1m'");
    expect(bins).toHaveLength(traffic.finalBins.size);
    for (const b of bins) {
      const expected = traffic.finalBins.get(b.bin_from.getTime())!;
      expect({ revision: b.revision, trafficIn: b.traffic_in, sales: b.sales }).toEqual(expected);
    }
    expect(bins.filter((b) => b.revision === 2)).toHaveLength(traffic.revisions);
    expect(traffic.revisions).toBe(10);

    const partitions = await sql<{ relname: string }>(databaseUrl, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname IN ('events', 'kpi_bins') ORDER BY 1");
    expect(partitions.map((p) => p.relname)).toEqual(['events_y2026m11', 'events_y2026m12', 'kpi_bins_y2026m11', 'kpi_bins_y2026m12']);
  });

  it('a revision arriving before the older one is kept: the older one does not overwrite it', async () => {
    const [gw] = simulatedFleet(1);
    const traffic = simulateGateway(gw!, { start: START, minutes: 4, seed: 3, reviseEvery: 4 });
    const messages = publications(gw!, traffic.messages, START);
    const bins = messages.filter((m) => m.topic.endsWith('/metrics/1m'));
    const revised = bins.at(-1)!; // revision 2 of the last minute
    const original = bins.at(-2)!; // its revision 1
    expect(JSON.parse(revised.payload).data.revision).toBe(2);
    expect(JSON.parse(original.payload).data.from).toBe(JSON.parse(revised.payload).data.from);
    const { worker } = await startWorker(config());
    await publishAll([revised]);
    await until(() => worker.stats().acknowledged, (n) => n === 1, 30_000, 'revision 2 stored');
    await publishAll([original]);
    await until(() => worker.stats().acknowledged, (n) => n === 2, 30_000, 'revision 1 handled');
    const rows = await sql<{ revision: number; sales: number }>(databaseUrl, 'SELECT revision, sales FROM kpi_bins WHERE bin_from = $1', [new Date(JSON.parse(revised.payload).data.from)]);
    expect(rows).toEqual([{ revision: 2, sales: traffic.finalBins.get(new Date(JSON.parse(revised.payload).data.from).getTime())!.sales }]);
  });

  it('gateway status messages make the fleet view: online/offline, last message, delivery lag', async () => {
    const [a, b] = simulatedFleet(2);
    const { worker } = await startWorker(config());
    const now = Date.now();
    const traffic = simulateGateway(a!, { start: now - 10 * 60_000 - (now % 60_000), minutes: 3, seed: 1 });
    const queuedAt = now - 120_000; // the gateway is emptying a 2-minute backlog
    await publishAll(publications(a!, traffic.messages, queuedAt));
    const status = (gw: typeof a, state: string, at: number, reason?: string) => ({
      topic: `storepulse/v1/${gw!.storeId}/${gw!.gatewayId}/status`,
      payload: JSON.stringify({ v: 1, store_id: gw!.storeId, gateway_id: gw!.gatewayId, state, ...(reason ? { reason } : {}), at: new Date(at).toISOString() }),
    });
    await publishAll([status(a, 'online', now - 5000)]);
    await publishAll([status(b, 'online', now - 5000)]);
    await publishAll([status(b, 'offline', now - 1000, 'connection lost')]);
    await publishAll([status(b, 'online', now - 9000)]); // stale: older than what is stored
    const total = traffic.messages.length + 4;
    await until(() => worker.stats().acknowledged, (n) => n === total, 30_000, 'all acknowledged');

    const fleet = await sql<{ store_id: string; state: string; state_reason: string | null; last_seq: string | null; delivery_lag_s: number | null }>(
      databaseUrl,
      'SELECT store_id, state, state_reason, last_seq, delivery_lag_s FROM fleet_gateways ORDER BY store_id',
    );
    expect(fleet.map((g) => ({ store: g.store_id, state: g.state, reason: g.state_reason, lastSeq: g.last_seq === null ? null : Number(g.last_seq) }))).toEqual([
      { store: a!.storeId, state: 'online', reason: null, lastSeq: traffic.messages.length },
      { store: b!.storeId, state: 'offline', reason: 'connection lost', lastSeq: null },
    ]);
    expect(fleet[0]!.delivery_lag_s).toBeGreaterThanOrEqual(119);
    expect(fleet[1]!.delivery_lag_s).toBeNull();
  });

  it('bad messages become dead letters with their reason, counted once per distinct message; good ones next to them land', async () => {
    const [gw] = simulatedFleet(1);
    const traffic = simulateGateway(gw!, { start: START, minutes: 2, seed: 5 });
    const good = publications(gw!, traffic.messages, START);
    const prefix = `storepulse/v1/${gw!.storeId}/${gw!.gatewayId}`;
    const valid = JSON.parse(good[0]!.payload) as Record<string, unknown> & { data: Record<string, unknown> };
    const bad = [
      { topic: `${prefix}/events/door_count`, payload: 'not json {' },
      { topic: `${prefix}/events/door_count`, payload: Buffer.from([0xff, 0xfe, 0x7b]) },
      { topic: `${prefix}/events/door_count`, payload: JSON.stringify({ ...valid, key: undefined }) },
      { topic: `storepulse/v1/other-store/${gw!.gatewayId}/events/door_count`, payload: good[0]!.payload },
      { topic: `${prefix}/events/door_count`, payload: JSON.stringify({ ...valid, key: 'k-1990', data: { ...valid.data, time: '1990-01-01T00:00:00.000Z' } }) },
      { topic: `${prefix}/events/door_count`, payload: JSON.stringify({ ...valid, key: 'k-nul', data: { ...valid.data, sensor: 'door\u0000' } }) },
      { topic: `${prefix}/status`, payload: JSON.stringify({ v: 1, store_id: gw!.storeId, gateway_id: gw!.gatewayId, state: 'sleeping', at: new Date().toISOString() }) },
      // Valid for the schema, refused by PostgreSQL (traffic does not fit an integer column): only
      // this one may become a dead letter, not the batch it arrived in.
      {
        topic: `${prefix}/metrics/1m`,
        payload: (() => {
          const bin = JSON.parse(good.find((m) => m.topic.endsWith('/metrics/1m'))!.payload) as { key: string; data: { from: string; to: string; kpis: { traffic: { in: number } } } };
          bin.key = 'k-huge';
          bin.data.from = new Date(START + 3_600_000).toISOString();
          bin.data.to = new Date(START + 3_660_000).toISOString();
          bin.data.kpis.traffic.in = 3_000_000_000;
          return JSON.stringify(bin);
        })(),
      },
    ];
    const { worker, metrics } = await startWorker(config());
    await publishAll([...bad, ...good, ...bad]);
    const total = bad.length * 2 + good.length;
    await until(() => worker.stats().acknowledged, (n) => n === total, 30_000, 'all acknowledged');

    const letters = await sql<{ topic: string; reason: string; deliveries: number }>(databaseUrl, 'SELECT topic, reason, deliveries FROM dead_letters ORDER BY id');
    expect(letters).toHaveLength(bad.length);
    expect(letters.every((l) => l.deliveries === 2)).toBe(true);
    const reasons = letters.map((l) => l.reason).join('\n');
    for (const pattern of [/not JSON/, /invalid envelope: key/, /do not match the topic/, /before 2020/, /NUL/, /invalid status: state/, /database refused it: .*out of range/]) {
      expect(reasons).toMatch(pattern);
    }
    expect(await tableCounts(databaseUrl)).toMatchObject({ events: traffic.events, kpi_bins: traffic.kpiBins, dead_letters: bad.length });
    expect((await metrics.deadLetters.get()).values[0]!.value).toBe(bad.length * 2);
  });

  it('acknowledges only what is committed: with PostgreSQL down nothing is lost, and it all lands when it is back', async () => {
    const [gw] = simulatedFleet(1);
    const traffic = simulateGateway(gw!, { start: START, minutes: 20, seed: 9 });
    const messages = publications(gw!, traffic.messages, START);
    const { worker, metrics } = await startWorker(config());
    await postgres().stop();
    try {
      await publishAll(messages);
      await until(() => worker.stats().received, (n) => n >= messages.length, 30_000, 'messages received');
      await until(async () => (await metrics.writeErrors.get()).values.reduce((s, v) => s + v.value, 0), (n) => n >= 2, 30_000, 'failed writes');
      expect(worker.stats().acknowledged).toBe(0);
    } finally {
      await postgres().launch();
    }
    await until(() => worker.stats().acknowledged, (n) => n === messages.length, 60_000, 'all acknowledged after the outage');
    expect(await tableCounts(databaseUrl)).toMatchObject({ events: traffic.events, kpi_bins: traffic.kpiBins, dead_letters: 0 });
  });
});
