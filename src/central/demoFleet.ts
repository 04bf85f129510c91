/**
 * The simulated fleet of `storepulse central --demo`: N gateways publishing to the broker as real
 * gateways do (one MQTT connection each, QoS 1, the retained online status with an offline will),
 * from messages made by the gateway's own KPI engine (fleetSimulation.ts):
 *  - history: the 1-hour KPI bins of the last `historyDays` days, published at once, so that the
 *    correlation and the conversion ranking have something to show from the first minute;
 *  - live: from the start of the current hour, each minute's door counts, till events and 1-minute
 *    KPI bin once that minute is over (what was missed since the hour began goes out at start),
 *    and the 1-hour bin when the hour closes.
 * Two gateways misbehave so that the dashboard has something to point at: the last one loses its
 * connection after the history (the broker publishes its will: offline, connection lost), the one
 * before it delivers 15 minutes late (an outbox catching up: a delivery lag of 15 minutes).
 * Every other well-behaved gateway recorded a change six days ago ("Promo start: end-cap display",
 * an annotation) after which its footfall is a fifth higher, for the dashboard's before/after.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { KpiBin } from '../kpi/kpiEngine.js';
import { seededRandom } from '../common/seededRandom.js';
import { annotationMessage, envelope, kpiMessage, topicPrefix, type OutboxMessage } from '../upstream/messages.js';
import { simulatedFleet, simulateGateway, type SimulatedGateway } from './fleetSimulation.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** How late the lagging gateway delivers. */
export const DEMO_LAG_MS = 15 * MINUTE;
/** The demo's change: its annotation text, and how much footfall rises after it. */
export const DEMO_CHANGE = { text: 'Promo start: end-cap display', subject: 'zone:promo', lift: 1.2, daysAgo: 6 } as const;

export interface DemoFleetOptions {
  brokerUrl: string;
  gateways: number;
  historyDays: number;
  topicRoot: string;
  log: Logger;
  now?: () => number;
}

interface Due {
  /** Epoch ms from which it may be published. */
  at: number;
  topic: string;
  message: OutboxMessage;
}

interface DemoGateway {
  gw: SimulatedGateway;
  client: MqttClient | undefined;
  seq: number;
  live: Due[];
  next: number;
  /** End of the hour `live` holds. */
  chunkEnd: number;
  role: 'normal' | 'lagging' | 'lost';
}

/** When a message of the simulated day may go out: an event at its time, a bin once it closes. */
function dueAt(m: OutboxMessage): number {
  const body = m.body as { time?: string; to?: string };
  return new Date(m.kind === 'event' ? body.time! : body.to!).getTime();
}

export class DemoFleet {
  private readonly gateways: DemoGateway[];
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  published = 0;

  constructor(private readonly options: DemoFleetOptions) {
    this.now = options.now ?? Date.now;
    const count = options.gateways;
    this.gateways = simulatedFleet(count).map((gw, i) => ({
      gw,
      client: undefined,
      seq: 0,
      live: [],
      next: 0,
      chunkEnd: 0,
      role: count >= 3 && i === count - 1 ? 'lost' : count >= 3 && i === count - 2 ? 'lagging' : 'normal',
    }));
  }

  /** Connects every gateway, publishes the history and what is due of the current hour; then keeps publishing each minute. */
  async start(): Promise<void> {
    const hourStart = Math.floor(this.now() / HOUR) * HOUR;
    for (const [i, g] of this.gateways.entries()) {
      const prefix = topicPrefix(this.options.topicRoot, g.gw);
      g.client = await mqtt.connectAsync(this.options.brokerUrl, {
        clientId: `demo-${g.gw.gatewayId}`,
        protocolVersion: 5,
        will: { topic: `${prefix}/status`, payload: Buffer.from(this.status(g, 'offline', 'connection lost')), qos: 1, retain: true },
        reconnectPeriod: 1000,
      });
      await g.client.publishAsync(`${prefix}/status`, this.status(g, 'online'), { qos: 1, retain: true });
      // The late gateway's live messages start an hour earlier, so that at start it has delivered
      // up to 15 minutes ago, as an outbox catching up has.
      const liveStart = g.role === 'lagging' ? hourStart - HOUR : hourStart;
      this.nextChunk(g, i, liveStart);
      const template = g.live.find((d) => d.message.kind === 'kpi')!.message.body as { kpis: KpiBin };
      const changed = g.role === 'normal' && i % 2 === 0;
      const changeAt = hourStart - DEMO_CHANGE.daysAgo * 24 * HOUR + 30 * MINUTE;
      const history = historyBins(g.gw, template.kpis, liveStart - this.options.historyDays * 24 * HOUR, liveStart, 1 + i, changed ? { at: changeAt + 30 * MINUTE, factor: DEMO_CHANGE.lift } : undefined);
      await Promise.all(history.map((m) => this.publish(g, `${prefix}/${m.topic}`, m, dueAt(m))));
      if (changed) {
        const note = { id: 1, ts: changeAt, text: DEMO_CHANGE.text, subject: DEMO_CHANGE.subject, created_by: null, created_at: changeAt };
        const m = annotationMessage(note, g.gw);
        await this.publish(g, `${prefix}/${m.topic}`, m, changeAt);
      }
      if (g.role === 'lost') {
        // It loses its connection. (Its will carries the time of its connection, older than the
        // online status it published after: central keeps the newer state, so the status that
        // counts is published explicitly, as a gateway's uplink does when it notices the loss.)
        await g.client.publishAsync(`${prefix}/status`, this.status(g, 'offline', 'connection lost'), { qos: 1, retain: true });
        g.client.stream.destroy();
        g.client.end(true);
        g.client = undefined;
      }
    }
    await this.tick();
    this.timer = setInterval(() => void this.tick(), 1000);
    this.options.log.info({ gateways: this.gateways.length, published: this.published }, 'central demo: simulated fleet publishing');
  }

  /**
   * The gateway's messages of the hour starting at `hourStart`, by the KPI engine. Each hour is a
   * separate simulation whose event ids restart at 1: a database id per hour keeps the event keys
   * apart (as a gateway whose database was replaced would).
   */
  private nextChunk(g: DemoGateway, index: number, hourStart: number): void {
    const hourIndex = Math.floor(hourStart / HOUR);
    const gw = { ...g.gw, databaseId: `h${hourIndex.toString(36)}`.padEnd(8, '0').slice(0, 8) };
    const prefix = topicPrefix(this.options.topicRoot, g.gw);
    const hour = simulateGateway(gw, { start: hourStart, minutes: 60, seed: 1000 + index * 100_000 + (hourIndex % 100_000), hourly: true, reviseEvery: 10 });
    g.live = hour.messages.map((m) => ({ at: dueAt(m), topic: `${prefix}/${m.topic}`, message: m }));
    g.next = 0;
    g.chunkEnd = hourStart + HOUR;
  }

  private status(g: DemoGateway, state: 'online' | 'offline', reason?: string): string {
    return JSON.stringify({ v: 1, store_id: g.gw.storeId, gateway_id: g.gw.gatewayId, state, ...(reason ? { reason } : {}), at: new Date(this.now()).toISOString() });
  }

  private async publish(g: DemoGateway, topic: string, m: OutboxMessage, queuedAt: number): Promise<void> {
    g.seq += 1;
    const payload = envelope({ seq: g.seq, key: m.key, kind: m.kind, topic: m.topic, payload: JSON.stringify(m.body), created_at: queuedAt }, g.gw);
    await g.client!.publishAsync(topic, payload, { qos: 1 });
    this.published += 1;
  }

  private ticking = false;

  /** Publishes every live message that is due (for the lagging gateway, 15 minutes after it is due). */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.now();
      for (const [i, g] of this.gateways.entries()) {
        if (!g.client) continue;
        const delay = g.role === 'lagging' ? DEMO_LAG_MS : 0;
        for (;;) {
          const start = g.next;
          while (g.next < g.live.length && g.live[g.next]!.at + delay <= now) g.next += 1;
          // In order, without waiting for each acknowledgement (the broker keeps a client's order).
          await Promise.all(g.live.slice(start, g.next).map((due) => this.publish(g, due.topic, due.message, due.at)));
          if (g.next < g.live.length || g.chunkEnd + delay > now) break;
          this.nextChunk(g, i, g.chunkEnd);
        }
      }
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'central demo: a simulated gateway could not publish (retrying)');
    } finally {
      this.ticking = false;
    }
  }

  /** Stops publishing; each gateway says it is shutting down, as a real one does. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const g of this.gateways) {
      if (!g.client) continue;
      const prefix = topicPrefix(this.options.topicRoot, g.gw);
      await g.client.publishAsync(`${prefix}/status`, this.status(g, 'offline', 'shutdown'), { qos: 1, retain: true }).catch(() => undefined);
      await g.client.endAsync().catch(() => undefined);
      g.client = undefined;
    }
  }
}

/**
 * Hourly KPI bins of [from, to) for one gateway, made directly: footfall with a daily shape (closed
 * at night, busiest in the afternoon) and a store-specific level, each visitor buying with a store-
 * specific probability. Everything else in a bin is the template's (a bin the KPI engine made).
 * `lift`: footfall multiplied by `factor` from `at` on (the demo's change).
 */
export function historyBins(gw: SimulatedGateway, template: KpiBin, from: number, to: number, seed: number, lift?: { at: number; factor: number }): OutboxMessage[] {
  const random = seededRandom(seed);
  const level = 20 + random() * 40;
  const buyRate = 0.15 + random() * 0.2;
  const basket = 15 + random() * 30;
  const out: OutboxMessage[] = [];
  for (let at = from; at < to; at += HOUR) {
    const hourOfDay = new Date(at).getUTCHours();
    const shape = hourOfDay < 7 || hourOfDay >= 20 ? 0 : Math.sin(((hourOfDay - 7) / 13) * Math.PI);
    const visitors = Math.round(level * shape * (0.7 + random() * 0.6) * (lift && at >= lift.at ? lift.factor : 1));
    let transactions = 0;
    let sales = 0;
    for (let v = 0; v < visitors; v++) {
      if (random() < buyRate) {
        transactions += 1;
        sales += Math.round(basket * (0.3 + random() * 1.4) * 100) / 100;
      }
    }
    sales = Math.round(sales * 100) / 100;
    const out_ = Math.max(0, visitors - Math.round(random() * 2));
    const bin: KpiBin = {
      ...template,
      from: at,
      to: at + HOUR,
      traffic: { ...template.traffic, in: visitors, out: out_, by_entrance: { door: { in: visitors, out: out_ } } },
      transactions,
      sales,
      conversion: visitors > 0 ? Math.round((transactions / visitors) * 1000) / 1000 : null,
      sales_per_visitor: visitors > 0 ? Math.round((sales / visitors) * 100) / 100 : null,
    };
    out.push(kpiMessage('1h', bin, 1, gw.timeZone, gw));
  }
  return out;
}
