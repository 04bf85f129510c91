/**
 * Change annotations go upstream: an annotation added through the gateway's real HTTP API reaches a
 * real mosquitto on …/annotations through the outbox, without its author; removing it publishes a
 * tombstone; a removal that removed nothing publishes nothing. Central's validation accepts both.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyMessage } from '../../src/central/incomingMessage.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { tempDir, testContext, until } from '../helpers/gatewayHarness.js';
import { hasMosquitto } from '../helpers/mosquitto.js';
import { useMosquitto } from '../helpers/mosquittoSuite.js';
import { UpstreamSubscriber } from '../helpers/upstreamSubscriber.js';

const TOKEN = 'anna-installer-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const TOPIC = 'storepulse/v1/nantes-03/gw-ann/annotations';

const running: { gateway: Gateway; app: FastifyInstance; subscriber: UpstreamSubscriber }[] = [];
afterEach(async () => {
  for (const { gateway, app, subscriber } of running.splice(0)) {
    await app.close();
    await gateway.stop();
    await subscriber.close();
  }
});

describe.skipIf(!hasMosquitto())('annotations upstream (real mosquitto)', () => {
  const broker = useMosquitto();

  it('an added annotation is published once on …/annotations without its author; a removal publishes a tombstone', async () => {
    const subscriber = await UpstreamSubscriber.connect(broker().url, 'storepulse/v1/nantes-03/gw-ann/#', 'analytics-annotations');
    const dataDir = await tempDir('annotation-uplink');
    const ctx = testContext();
    const gateway = await Gateway.start({
      ctx,
      rawConfig: {
        store_id: 'nantes-03',
        gateway_id: 'gw-ann',
        data_dir: dataDir,
        timezone: 'Europe/Paris',
        api: { tokens: [{ name: 'anna', token: TOKEN }] },
        upstream: { mqtt: { url: broker().url, reconnect: { initial_s: 0.1, max_s: 0.5 } } },
      },
    });
    const app = buildServer(gateway, ctx);
    await app.ready();
    running.push({ gateway, app, subscriber });

    const added = await app.inject({ method: 'POST', url: '/api/v1/annotations', headers: AUTH, payload: { time: '2026-11-30T09:30:00+01:00', text: 'Promo start: end-cap display', subject: 'zone:promo' } });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ id: 1, created_by: 'token:anna' }); // kept on the box for the installer's audit

    const annotations = () => subscriber.received.filter((r) => r.topic === TOPIC);
    await until(() => annotations().length, (n) => n >= 1, 30_000, 'the annotation upstream');
    const [first] = annotations();
    expect(first!.envelope).toMatchObject({ v: 1, kind: 'annotation', store_id: 'nantes-03', gateway_id: 'gw-ann' });
    expect(first!.envelope.key).toMatch(/^gw-ann:[0-9a-f]{8}:a1$/);
    expect(first!.envelope.data).toEqual({
      id: 1,
      source: expect.stringMatching(/^[0-9a-f]{8}$/),
      deleted: false,
      time: '2026-11-30T08:30:00.000Z',
      ts: Date.parse('2026-11-30T08:30:00Z'),
      text: 'Promo start: end-cap display',
      subject: 'zone:promo',
      created_at: expect.any(String),
    });
    expect(JSON.stringify(first!.envelope)).not.toMatch(/anna|created_by/);
    expect(classifyMessage(first!.topic, Buffer.from(JSON.stringify(first!.envelope)), 'storepulse', Date.parse(first!.envelope.queued_at))).toMatchObject({ ok: true });

    // Removing it: a tombstone; removing it again: a 404 and nothing more upstream.
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/annotations/1', headers: AUTH })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/annotations/1', headers: AUTH })).statusCode).toBe(404);
    await until(() => annotations().length, (n) => n >= 2, 30_000, 'the tombstone upstream');
    const tombstone = annotations()[1]!;
    expect(tombstone.envelope.key).toBe(`${first!.envelope.key}:deleted`);
    expect(tombstone.envelope.data).toEqual({ id: 1, source: first!.envelope.data.source, deleted: true, deleted_at: expect.any(String) });
    expect(tombstone.envelope.seq).toBe(first!.envelope.seq + 1);
    expect(classifyMessage(tombstone.topic, Buffer.from(JSON.stringify(tombstone.envelope)), 'storepulse', Date.parse(tombstone.envelope.queued_at))).toMatchObject({ ok: true });

    // A later annotation arrives after the tombstone: nothing else was queued by the second DELETE.
    expect((await app.inject({ method: 'POST', url: '/api/v1/annotations', headers: AUTH, payload: { time: '2026-12-01T10:00:00+01:00', text: 'Display moved back' } })).statusCode).toBe(201);
    await until(() => annotations().length, (n) => n >= 3, 30_000, 'the second annotation upstream');
    expect(subscriber.unique().filter((r) => r.topic === TOPIC).map((r) => [r.envelope.data.id, r.envelope.data.deleted])).toEqual([
      [1, false],
      [1, true],
      [2, false],
    ]);
    expect(gateway.store!.outbox.backlog().count).toBe(0);
  }, 90_000);
});
