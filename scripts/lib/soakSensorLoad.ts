/**
 * The sensors of the soak test: a few MQTT devices (door counter, till, feedback terminal,
 * thermometer) publishing QoS 1 readings to the gateway's embedded broker at a steady total rate.
 * The rate is kept by counting what should have been sent since the start, not by fixed sleeps, so a
 * late timer on a busy machine is caught up rather than silently lowering the load; at most
 * `maxInFlight` readings wait for their acknowledgement, so a stalled gateway is not buried either.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface SensorLoadOptions {
  url: string;
  username: string;
  password: string;
  /** Messages per second, all devices together. */
  rate: number;
  /** Topic root; the gateway config subscribes `${root}/<kind>/+`. */
  topicRoot: string;
  maxInFlight?: number;
  now?: () => number;
}

export interface SensorLoadCounts {
  sent: number;
  acked: number;
  failed: number;
  /** Readings skipped (never sent) because `maxInFlight` were still unacknowledged: the gateway could not keep up. */
  deferred: number;
}

export const SENSOR_KINDS = ['door', 'pos', 'feedback', 'temp'] as const;

function reading(kind: (typeof SENSOR_KINDS)[number], i: number): string {
  if (kind === 'door') return JSON.stringify({ in: 1 + (i % 2), out: i % 3 === 0 ? 1 : 0 });
  if (kind === 'pos') return JSON.stringify({ amount: 5 + (i % 500) / 10, items: 1 + (i % 4) });
  if (kind === 'feedback') return String(1 + (i % 4));
  return JSON.stringify({ value: 20 + (i % 50) / 10 });
}

const TICK_MS = 20;

export class SensorLoad {
  readonly counts: SensorLoadCounts = { sent: 0, acked: 0, failed: 0, deferred: 0 };
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private startedAt = 0;

  private constructor(
    private readonly clients: MqttClient[],
    private readonly options: SensorLoadOptions,
  ) {}

  static async start(options: SensorLoadOptions): Promise<SensorLoad> {
    const clients = await Promise.all(
      SENSOR_KINDS.map((kind) => mqtt.connectAsync(options.url, { username: options.username, password: options.password, clientId: `soak-${kind}-${process.pid}`, reconnectPeriod: 500 })),
    );
    const load = new SensorLoad(clients, options);
    load.startedAt = load.now();
    load.timer = setInterval(() => load.tick(), TICK_MS);
    return load;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private tick(): void {
    const due = Math.floor(((this.now() - this.startedAt) / 1000) * this.options.rate);
    const maxInFlight = this.options.maxInFlight ?? Math.max(50, this.options.rate);
    while (this.counts.sent + this.counts.deferred < due) {
      if (this.inFlight >= maxInFlight) {
        this.counts.deferred += due - this.counts.sent - this.counts.deferred;
        return;
      }
      this.publishOne(this.counts.sent++);
    }
  }

  private publishOne(i: number): void {
    const k = i % SENSOR_KINDS.length;
    const kind = SENSOR_KINDS[k]!;
    this.inFlight++;
    this.clients[k]!.publishAsync(`${this.options.topicRoot}/${kind}/${kind}-1`, reading(kind, i), { qos: 1 }).then(
      () => this.counts.acked++,
      () => this.counts.failed++,
    ).finally(() => this.inFlight--);
  }

  /** Stops publishing and waits (bounded) for the acknowledgements still due. */
  async stop(): Promise<SensorLoadCounts> {
    clearInterval(this.timer);
    const deadline = this.now() + 30_000;
    while (this.inFlight > 0 && this.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await Promise.all(this.clients.map((c) => c.endAsync()));
    return { ...this.counts };
  }
}
