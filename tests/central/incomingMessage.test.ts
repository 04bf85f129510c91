/**
 * Central's validation agrees with the published JSON Schemas (schemas/upstream/v1): every message
 * the gateway's own builders make is accepted by both, and each kind of damage is refused by
 * central with a reason that names it. Batch planning resolves duplicates and revisions.
 */
import { describe, expect, it } from 'vitest';
import { deadLetterRow, monthsTouched, planBatch, type ReceivedMessage } from '../../src/central/batchPlan.js';
import { publications, simulatedFleet, simulateGateway } from '../../src/central/fleetSimulation.js';
import { classifyMessage, parseTopic } from '../../src/central/incomingMessage.js';
import { monthPartition } from '../../src/central/monthPartitions.js';
import { upstreamValidators } from '../helpers/upstreamSchemas.js';
import { journeysPublication } from './journeysSample.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0);
const START = Date.UTC(2026, 11, 2, 9, 0);
const [GW] = simulatedFleet(1);
const TRAFFIC = simulateGateway(GW!, { start: START, minutes: 30, seed: 4, reviseEvery: 3 });
const MESSAGES = publications(GW!, TRAFFIC.messages, START + 31 * 60_000);
const bytes = (s: string): Uint8Array => Buffer.from(s);
const received = (m: { topic: string; payload: string }): ReceivedMessage => ({ topic: m.topic, payload: bytes(m.payload), receivedAt: NOW });

describe('classifyMessage', () => {
  it('accepts every message the gateway builds, and the JSON Schemas accept them too', () => {
    const schemas = upstreamValidators();
    expect(MESSAGES.length).toBeGreaterThan(60);
    for (const m of MESSAGES) {
      expect(schemas.envelope(JSON.parse(m.payload)), m.topic).toEqual([]);
      const result = classifyMessage(m.topic, bytes(m.payload), 'storepulse', NOW);
      expect(result, m.payload.slice(0, 200)).toMatchObject({ ok: true });
    }
    const status = { v: 1, store_id: GW!.storeId, gateway_id: GW!.gatewayId, state: 'offline', reason: 'connection lost', at: new Date(NOW).toISOString() };
    expect(schemas.status(status)).toEqual([]);
    expect(classifyMessage(`storepulse/v1/${GW!.storeId}/${GW!.gatewayId}/status`, bytes(JSON.stringify(status)), 'storepulse', NOW)).toEqual({
      ok: true,
      message: { kind: 'status', storeId: GW!.storeId, gatewayId: GW!.gatewayId, state: 'offline', reason: 'connection lost', at: new Date(NOW) },
    });
  });

  const event = MESSAGES.find((m) => m.topic.endsWith('/events/door_count'))!;
  const bin = MESSAGES.find((m) => m.topic.endsWith('/metrics/1m'))!;
  type Body = Record<string, unknown> & { data: Record<string, unknown> };
  const edit = (m: { payload: string }, change: (body: Body) => void): string => {
    const body = JSON.parse(m.payload) as Body;
    change(body);
    return JSON.stringify(body);
  };

  it.each([
    ['a topic outside storepulse/v1', 'other/v1/s/g/events/door_count', event.payload, /unexpected topic/],
    ['a topic with an empty level', `storepulse/v1/${GW!.storeId}//events/door_count`, event.payload, /unexpected topic/],
    ['not JSON', event.topic, '{"v":1', /not JSON/],
    ['an unknown envelope field (the schema is closed)', event.topic, edit(event, (b) => (b.extra = 1)), /invalid envelope/],
    ['a negative door count', event.topic, edit(event, (b) => (b.data.in = -1)), /invalid envelope: data\.in/],
    ['an event of another type than its topic says', event.topic.replace('door_count', 'line_crossing'), event.payload, /an event of type door_count on topic/],
    ['a store id that is not the topic\'s', event.topic.replace(GW!.storeId, 'store-999'), event.payload, /do not match the topic/],
    ['an event from before 2020 (a gateway clock at its epoch)', event.topic, edit(event, (b) => (b.data.time = '1970-01-01T00:00:00.000Z')), /before 2020/],
    ['an event three days ahead', event.topic, edit(event, (b) => (b.data.time = new Date(NOW + 3 * 86_400_000).toISOString())), /in the future/],
    ['a KPI bin that is not an IANA time zone', bin.topic, edit(bin, (b) => (b.data.time_zone = 'Mars/Olympus')), /time_zone: not an IANA time zone/],
    ['a KPI bin ending before it starts', bin.topic, edit(bin, (b) => (b.data.to = b.data.from)), /ends before it starts/],
    ['a 1-minute bin on a kpis/1h topic', bin.topic.replace('metrics/1m', 'kpis/1h'), bin.payload, /a metrics 1m bin on topic/],
    ['a revision 0', bin.topic, edit(bin, (b) => (b.data.revision = 0)), /revision/],
    ['a NUL character (PostgreSQL text cannot hold it)', event.topic, edit(event, (b) => (b.data.sensor = 'door\u0000')), /NUL/],
  ])('refuses %s', (_what, topic, payload, reason) => {
    const result = classifyMessage(topic, bytes(payload), 'storepulse', NOW);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });

  it('parses topics under a custom root only', () => {
    expect(parseTopic('chain/v1/s1/g1/events/pos_transaction', 'chain')).toEqual({ storeId: 's1', gatewayId: 'g1', rest: 'events/pos_transaction' });
    expect(parseTopic('storepulse/v1/s1/g1/status', 'chain')).toBeUndefined();
    expect(parseTopic('chain/v1/s1/g1', 'chain')).toBeUndefined();
  });
});

describe('messages added by other parts of the gateway', () => {
  it('a KPI bin with a floor-plan section: valid for the JSON Schemas and for central', () => {
    const schemas = upstreamValidators();
    const dwell = { visits: 3, passes: 1, engaged: 1, dwell_mean_s: 40, dwell_p50_s: 35, dwell_p90_s: 70, bounce_rate: 0.25, visit_rate: null, occupancy_mean: 0.8, occupancy_max: 2 };
    const bin = MESSAGES.find((m) => m.topic.endsWith('/metrics/1m'))!;
    const body = JSON.parse(bin.payload) as { data: { kpis: Record<string, unknown> } };
    body.data.kpis.plan = { lines: { entrance: { in: 4, out: 3 } }, zones: { promo: dwell }, queues: {} };
    const withPlan = JSON.stringify(body);
    expect(schemas.envelope(JSON.parse(withPlan))).toEqual([]);
    expect(classifyMessage(bin.topic, bytes(withPlan), 'storepulse', NOW)).toMatchObject({ ok: true });
  });

  it('journey aggregates and floor-plan events: valid for the JSON Schemas and for central', () => {
    const schemas = upstreamValidators();
    const journeys = journeysPublication(GW!, 7, START);
    expect(schemas.envelope(JSON.parse(journeys.payload))).toEqual([]);
    expect(classifyMessage(journeys.topic, bytes(journeys.payload), 'storepulse', NOW)).toMatchObject({ ok: true, message: { kind: 'journeys', from: new Date(START) } });
    const wrongTopic = classifyMessage(journeys.topic.replace('journeys/1h', 'journeys/1d'), bytes(journeys.payload), 'storepulse', NOW);
    expect(wrongTopic.ok ? '' : wrongTopic.reason).toMatch(/a journeys 1h bin on topic/);

    const plan = { type: 'plan_zone_visit', ts: START, zone: 'promo', enter_ts: START - 60_000, dwell_ms: 60_000, counted: true };
    const envelope = { v: 1, key: 'gw-001:db001000:e9', seq: 9, store_id: GW!.storeId, gateway_id: GW!.gatewayId, kind: 'event', queued_at: new Date(START).toISOString(), data: { id: 9, time: new Date(START).toISOString(), ...plan } };
    expect(schemas.envelope(envelope)).toEqual([]);
    expect(classifyMessage(`storepulse/v1/${GW!.storeId}/${GW!.gatewayId}/events/plan_zone_visit`, bytes(JSON.stringify(envelope)), 'storepulse', NOW)).toMatchObject({ ok: true });
  });

  it('a journey bin delivered twice is planned once', () => {
    const j = journeysPublication(GW!, 7, START);
    const plan = planBatch([received(j), received(j)], 'storepulse', NOW);
    expect(plan.journeyBins).toHaveLength(1);
    expect(plan.journeyBins[0]).toMatchObject({ binSize: '1h', journeys: 12, from: new Date(START) });
  });
});

describe('planBatch', () => {
  it('keeps one row per event key, the highest revision per bin, the newest status, and counts a repeated bad message', () => {
    const all = MESSAGES.map(received);
    const reversed = [...all].reverse(); // revision 2 before revision 1, re-deliveries after
    const garbage: ReceivedMessage = { topic: event().topic, payload: bytes('nope'), receivedAt: NOW };
    const plan = planBatch([...all, ...reversed, garbage, garbage], 'storepulse', NOW);
    expect(plan.received).toBe(all.length * 2 + 2);
    expect(plan.events).toHaveLength(TRAFFIC.events);
    expect(plan.kpiBins).toHaveLength(TRAFFIC.kpiBins);
    for (const row of plan.kpiBins) {
      const final = TRAFFIC.finalBins.get(row.from.getTime())!;
      expect({ revision: row.revision, trafficIn: row.trafficIn, sales: row.sales }).toEqual(final);
    }
    expect(plan.deadLetters).toHaveLength(1);
    expect(plan.deadLetters[0]).toMatchObject({ deliveries: 2, reason: expect.stringMatching(/not JSON/) });
    expect(plan.activity).toEqual([{ storeId: GW!.storeId, gatewayId: GW!.gatewayId, lastSeq: MESSAGES.length, lastQueuedAt: new Date(START + 31 * 60_000), lastReceivedAt: new Date(NOW) }]);
    // Sorted by key: two workers writing overlapping batches take row locks in the same order.
    const keys = plan.events.map((e) => e.key);
    expect(keys).toEqual([...keys].sort());
  });

  it('a reason quoting control characters is stored without them (PostgreSQL text refuses NUL)', () => {
    const row = deadLetterRow({ topic: 'storepulse/v1/a/b/events/x', payload: Buffer.from([0x00, 0x7b]), receivedAt: NOW }, 'Unexpected token \u0000 in JSON\n');
    expect(row.reason).toBe('Unexpected token   in JSON ');
  });

  it('the same bad bytes on another topic are another dead letter', () => {
    const a = deadLetterRow({ topic: 'storepulse/v1/a/b/events/x', payload: bytes('x'), receivedAt: NOW }, 'r');
    const b = deadLetterRow({ topic: 'storepulse/v1/a/c/events/x', payload: bytes('x'), receivedAt: NOW }, 'r');
    expect(a.digest.equals(b.digest)).toBe(false);
  });

  it('names the UTC months a batch touches, for their partitions', () => {
    const plan = planBatch([received(event())], 'storepulse', NOW);
    expect(monthsTouched(plan)).toEqual({ events: [new Date(Date.UTC(2026, 11, 1))], kpiBins: [], journeyBins: [] });
    expect(monthPartition('events', new Date('2026-12-31T23:59:59.999Z'))).toEqual({
      name: 'events_y2026m12',
      from: new Date('2026-12-01T00:00:00Z'),
      to: new Date('2027-01-01T00:00:00Z'),
    });
    expect(monthPartition('kpi_bins', new Date('2027-01-01T00:00:00Z')).name).toBe('kpi_bins_y2027m01');
  });

  function event(): { topic: string; payload: string } {
    return MESSAGES.find((m) => m.topic.endsWith('/events/door_count'))!;
  }
});
