/**
 * A simulated store's upstream messages, made by the gateway's own code: door-counter and till
 * events, the KPI bins the gateway's KPI engine computes from them, and the messages its outbox
 * would publish (same keys, same bodies). Used by the central tests and `npm run bench:central`
 * (`--fleet-day` streams a whole fleet's day minute by minute: streamGateway).
 * Deterministic for a seed, so a test can recompute exactly what a gateway sent.
 */
import type { StoreEvent } from '../kpi/events.js';
import { computeKpis, type KpiBin, type KpiSettings } from '../kpi/kpiEngine.js';
import { binStart, nextBinStart } from '../kpi/timeBins.js';
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
 * The MQTT messages a gateway's uplink publishes for `messages` (sequence numbers from `firstSeq`),
 * for publishing them without a gateway's outbox (the benchmark).
 */
export function publications(gw: SimulatedGateway, messages: readonly OutboxMessage[], queuedAt: number, topicRoot = 'storepulse', firstSeq = 1): { topic: string; payload: string }[] {
  const prefix = topicPrefix(topicRoot, gw);
  return messages.map((m, i) => ({
    topic: `${prefix}/${m.topic}`,
    payload: envelope({ seq: firstSeq + i, key: m.key, kind: m.kind, topic: m.topic, payload: JSON.stringify(m.body), created_at: queuedAt }, gw),
  }));
}

/** The status message a gateway's uplink publishes (retained) on connecting and on a clean stop. */
export function statusPublication(gw: SimulatedGateway, state: 'online' | 'offline', at: number, reason?: 'shutdown' | 'connection lost', topicRoot = 'storepulse'): { topic: string; payload: string } {
  return {
    topic: `${topicPrefix(topicRoot, gw)}/status`,
    payload: JSON.stringify({ v: 1, store_id: gw.storeId, gateway_id: gw.gatewayId, state, ...(reason ? { reason } : {}), at: new Date(at).toISOString() }),
  };
}

/** One minute of a simulated gateway, as `streamGateway` yields it. */
export interface SimulatedMinute {
  /** Start of the minute (epoch ms). */
  from: number;
  /** What the gateway's outbox received during this minute, in publication order. */
  messages: OutboxMessage[];
  /** This minute's 1-minute bin at its final (highest) revision. */
  bin: { trafficIn: number; transactions: number; sales: number; revision: number };
  /** The 1-hour bin that closed with this minute (with `hourly`). */
  hour?: { from: number; trafficIn: number; transactions: number; sales: number };
}

/**
 * `simulateGateway`, minute by minute: the same messages in the same order (same seed, same draws),
 * with only the current minute and hour held, so that a benchmark can stream a whole fleet's day
 * without building it in memory, and each minute costs the same however long the simulation runs
 * (simulateGateway's one KPI-engine call over the period filters every event for every bin).
 *
 * The KPI engine needs the day so far only for occupancy, which it carries from one bin to the next;
 * here that carry is a synthetic door count just before the bin (`in` = the previous bin's closing
 * occupancy): outside the bin, so it adds no traffic, and on the same side of the store's opening
 * time as the gateway's last real reading, so the engine resets it at opening exactly as it would the
 * real history. The simulation has no staff badges or zone visits, the other state the engine carries.
 */
export function* streamGateway(gw: SimulatedGateway, options: SimulationOptions): Generator<SimulatedMinute, void, undefined> {
  const random = seededRandom(options.seed);
  const settings = settingsFor(gw);
  const reviseEvery = options.reviseEvery ?? 0;
  const carry = (at: number, occupancy: number): StoreEvent[] => (occupancy > 0 ? [{ type: 'door_count', ts: at - 1, sensor: 'door', in: occupancy, out: 0 }] : []);
  const kpis = (events: StoreEvent[], from: number, to: number, size: '1m' | '1h'): KpiBin => computeKpis(events, settings, { from, to, size })[0]!;

  let eventId = 0;
  let occupancy = 0; // at the start of the current minute
  // The current 1-hour bin, its events so far and the occupancy it started with.
  let hour = { from: 0, to: 0 };
  let hourEvents: StoreEvent[] = [];
  let hourOccupancy = 0;
  for (let i = 0; i < options.minutes; i++) {
    const from = options.start + i * MINUTE;
    const to = from + MINUTE;
    if (options.hourly && from >= hour.to) {
      hour = { from: binStart(from, '1h', gw.timeZone), to: nextBinStart(from, '1h', gw.timeZone) };
      hourEvents = [];
      hourOccupancy = occupancy;
    }
    // The same draws in the same order as simulateGateway.
    const busy = 1 + Math.sin((i / 60) * 1.3);
    const visitors = Math.floor(random() * 4 * busy);
    const onTime: StoreEvent[] = [{ type: 'door_count', ts: from + 30_000, sensor: 'door', in: visitors, out: Math.floor(random() * 4 * busy) }];
    for (let v = 0; v < visitors; v++) {
      if (random() < 0.25) onTime.push({ type: 'pos_transaction', ts: from + 40_000 + v, register: 'till-1', amount: Math.round(random() * 8000) / 100, currency: 'EUR', items: 1 + Math.floor(random() * 4) });
    }
    const late: StoreEvent | undefined = reviseEvery > 0 && i % reviseEvery === reviseEvery - 1 ? { type: 'pos_transaction', ts: from + 50_000, register: 'till-2', amount: 12.5, currency: 'EUR', items: 1 } : undefined;

    const messages: OutboxMessage[] = [];
    const withCarry = [...carry(from, occupancy), ...onTime];
    for (const e of onTime) messages.push(eventMessage(e, ++eventId, gw));
    const first = kpis(withCarry, from, to, '1m');
    messages.push(kpiMessage('1m', first, 1, gw.timeZone, gw));
    let final = { bin: first, revision: 1 };
    if (late) {
      messages.push(eventMessage(late, ++eventId, gw));
      final = { bin: kpis([...withCarry, late], from, to, '1m'), revision: 2 };
      messages.push(kpiMessage('1m', final.bin, 2, gw.timeZone, gw));
    }
    occupancy = first.occupancy.end; // a late till event moves nobody

    let closedHour: SimulatedMinute['hour'];
    if (options.hourly) {
      hourEvents.push(...onTime, ...(late ? [late] : []));
      // A bin that started before the simulation is incomplete: never published, as in simulateGateway.
      if (to === hour.to && hour.from >= options.start) {
        const h = kpis([...carry(hour.from, hourOccupancy), ...hourEvents], hour.from, hour.to, '1h');
        messages.push(kpiMessage('1h', h, 1, gw.timeZone, gw));
        closedHour = { from: h.from, trafficIn: h.traffic.in, transactions: h.transactions, sales: h.sales };
      }
    }
    yield {
      from,
      messages,
      bin: { trafficIn: final.bin.traffic.in, transactions: final.bin.transactions, sales: final.bin.sales, revision: final.revision },
      ...(closedHour ? { hour: closedHour } : {}),
    };
  }
}
