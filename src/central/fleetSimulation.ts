/**
 * A simulated store's upstream messages, made by the gateway's own code: door-counter and till
 * events, the KPI bins the gateway's KPI engine computes from them, and the messages its outbox
 * would publish (same keys, same bodies). Used by the central tests and `npm run bench:central`.
 * Deterministic for a seed, so a test can recompute exactly what a gateway sent.
 */
import type { StoreEvent } from '../kpi/events.js';
import { computeKpis, type KpiSettings } from '../kpi/kpiEngine.js';
import { seededRandom } from '../common/seededRandom.js';
import { envelope, eventMessage, kpiMessage, topicPrefix, type GatewayIdentity, type OutboxMessage } from '../upstream/messages.js';

export interface SimulatedGateway extends GatewayIdentity {
  timeZone: string;
}

export interface SimulationOptions {
  /** First minute simulated (epoch ms, on a minute boundary). */
  start: number;
  minutes: number;
  seed: number;
  /**
   * Every n-th 1-minute bin is republished with revision 2 (a late till event changed it), as a
   * gateway does when a late event lands in a closed bin. 0: never.
   */
  reviseEvery?: number;
  /** Also the 1-hour KPI bins, published when each hour closes (the fleet analytics read them). */
  hourly?: boolean;
}

export interface SimulatedTraffic {
  /** In publication order, as the gateway's outbox holds them. */
  messages: OutboxMessage[];
  events: number;
  kpiBins: number;
  revisions: number;
  /** The final (highest revision) traffic in and sales per 1-minute bin start. */
  finalBins: Map<number, { trafficIn: number; sales: number; revision: number }>;
  /** Per 1-hour bin start (with `hourly`). */
  hourlyBins: Map<number, { trafficIn: number; transactions: number; sales: number }>;
}

const MINUTE = 60_000;

const settingsFor = (gw: SimulatedGateway): KpiSettings => ({
  timeZone: gw.timeZone,
  openingTime: '00:00',
  entrances: [{ sensor: 'door' }],
  engagedDwellMs: 30_000,
  bounceMs: 5_000,
  queueZones: [],
});

export function simulateGateway(gw: SimulatedGateway, options: SimulationOptions): SimulatedTraffic {
  const random = seededRandom(options.seed);
  const settings = settingsFor(gw);
  const end = options.start + options.minutes * MINUTE;
  const reviseEvery = options.reviseEvery ?? 0;
  const isRevised = (minute: number): boolean => reviseEvery > 0 && minute % reviseEvery === reviseEvery - 1;

  // What happened, minute by minute. Busier at some hours than others, and each visitor buys with
  // some probability: sales follow footfall, as the fleet analytics expect to find.
  const onTime: StoreEvent[][] = [];
  const late: (StoreEvent | undefined)[] = [];
  for (let i = 0; i < options.minutes; i++) {
    const from = options.start + i * MINUTE;
    const busy = 1 + Math.sin((i / 60) * 1.3);
    const visitors = Math.floor(random() * 4 * busy);
    const minute: StoreEvent[] = [{ type: 'door_count', ts: from + 30_000, sensor: 'door', in: visitors, out: Math.floor(random() * 4 * busy) }];
    for (let v = 0; v < visitors; v++) {
      if (random() < 0.25) minute.push({ type: 'pos_transaction', ts: from + 40_000 + v, register: 'till-1', amount: Math.round(random() * 8000) / 100, currency: 'EUR', items: 1 + Math.floor(random() * 4) });
    }
    onTime.push(minute);
    // A till event that reaches the gateway after its minute closed.
    late.push(isRevised(i) ? { type: 'pos_transaction', ts: from + 50_000, register: 'till-2', amount: 12.5, currency: 'EUR', items: 1 } : undefined);
  }

  // The gateway's KPI engine over the whole period at once (one call per size, not one per bin):
  // the first publication of each bin lacks its late event, the revision has it.
  const lateEvents = late.filter((e): e is StoreEvent => e !== undefined);
  const withoutLate = onTime.flat();
  const first = computeKpis(withoutLate, settings, { from: options.start, to: end, size: '1m' });
  const revised = computeKpis([...withoutLate, ...lateEvents], settings, { from: options.start, to: end, size: '1m' });
  const hours = options.hourly ? computeKpis([...withoutLate, ...lateEvents], settings, { from: options.start, to: end, size: '1h' }) : [];

  const messages: OutboxMessage[] = [];
  const finalBins = new Map<number, { trafficIn: number; sales: number; revision: number }>();
  const hourlyBins = new Map<number, { trafficIn: number; transactions: number; sales: number }>();
  let eventId = 0;
  let revisions = 0;
  let kpiBins = 0;
  const publishEvent = (event: StoreEvent): void => void messages.push(eventMessage(event, ++eventId, gw));
  for (let i = 0; i < options.minutes; i++) {
    const from = options.start + i * MINUTE;
    onTime[i]!.forEach(publishEvent);
    const bin = first[i]!;
    messages.push(kpiMessage('1m', bin, 1, gw.timeZone, gw));
    kpiBins += 1;
    finalBins.set(from, { trafficIn: bin.traffic.in, sales: bin.sales, revision: 1 });
    const lateEvent = late[i];
    if (lateEvent) {
      publishEvent(lateEvent);
      const again = revised[i]!;
      messages.push(kpiMessage('1m', again, 2, gw.timeZone, gw));
      revisions += 1;
      finalBins.set(from, { trafficIn: again.traffic.in, sales: again.sales, revision: 2 });
    }
    const hour = hours.find((h) => h.to === from + MINUTE);
    if (hour && hour.from >= options.start) {
      messages.push(kpiMessage('1h', hour, 1, gw.timeZone, gw));
      kpiBins += 1;
      hourlyBins.set(hour.from, { trafficIn: hour.traffic.in, transactions: hour.transactions, sales: hour.sales });
    }
  }
  return { messages, events: eventId, kpiBins, revisions, finalBins, hourlyBins };
}

/** `count` gateways, one per store, with stable ids. */
export function simulatedFleet(count: number, timeZone = 'Europe/Paris'): SimulatedGateway[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(i + 1).padStart(3, '0');
    return { storeId: `store-${n}`, gatewayId: `gw-${n}`, databaseId: `db${n}`.padEnd(8, '0'), timeZone };
  });
}

/**
 * The MQTT messages a gateway's uplink publishes for `messages` (sequence numbers from 1), for
 * publishing them without a gateway's outbox (the benchmark).
 */
export function publications(gw: SimulatedGateway, messages: readonly OutboxMessage[], queuedAt: number, topicRoot = 'storepulse'): { topic: string; payload: string }[] {
  const prefix = topicPrefix(topicRoot, gw);
  return messages.map((m, i) => ({
    topic: `${prefix}/${m.topic}`,
    payload: envelope({ seq: i + 1, key: m.key, kind: m.kind, topic: m.topic, payload: JSON.stringify(m.body), created_at: queuedAt }, gw),
  }));
}
