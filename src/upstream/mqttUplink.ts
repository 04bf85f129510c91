/**
 * Drains the outbox to the upstream MQTT broker. Messages go out in sequence order with QoS 1 and a
 * bounded window in flight; a row is deleted only after its PUBACK (acknowledgements arrive in
 * order, so the acknowledged prefix is deleted in one statement). Any failure drops the connection;
 * the next one restarts from the oldest row still in the outbox, so a message is delivered at least
 * once and a re-delivery carries the same key and sequence number.
 *
 * The status topic is the exception to store-and-forward: it is state, not data, so it is published
 * retained on every connection and replaced by the broker's last will when the gateway vanishes.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { GatewayContext } from '../gateway/context.js';
import { backoffDelayMs } from '../common/backoff.js';
import type { Outbox } from '../store/outbox.js';
import { classifyConnectionError, type UpstreamFailure } from './connectionErrors.js';
import { envelope, topicPrefix, type GatewayIdentity, type OutboxRow } from './messages.js';

export interface MqttUplinkConfig {
  url: string;
  username?: string;
  password?: string;
  /** PEM files: the CA that signed the broker's certificate; a client certificate and key. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  clientId: string;
  /** 'auto': MQTT 5, falling back to 3.1.1 when the broker refuses it. */
  protocol: 'auto' | '5' | '3.1.1';
  topicRoot: string;
  keepaliveS: number;
  connectTimeoutS: number;
  reconnect: { initialS: number; maxS: number };
  /** Messages published but not yet acknowledged. */
  window: number;
}

export type UplinkState = 'connecting' | 'connected' | 'waiting' | 'stopped';

export interface UplinkStatus {
  state: UplinkState;
  broker: string;
  protocol: '5' | '3.1.1';
  last_error: { reason: UpstreamFailure; message: string; at: string } | undefined;
  connected_since: string | undefined;
  acked: number;
  backlog: number;
  oldest_queued_at: string | undefined;
}

interface InFlight {
  seq: number;
  acked: boolean;
}

export class MqttUplink {
  private client: MqttClient | undefined;
  private state: UplinkState = 'waiting';
  private protocol: '5' | '3.1.1';
  private generation = 0;
  private attempt = 0;
  private lastSent = 0;
  private inFlight: InFlight[] = [];
  private ackedUpTo = 0;
  private deleteScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private lastError: UplinkStatus['last_error'];
  private connectedSince: number | undefined;
  private acked = 0;
  private stopped = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly config: MqttUplinkConfig,
    private readonly identity: () => GatewayIdentity,
    private readonly ctx: GatewayContext,
  ) {
    this.protocol = config.protocol === '3.1.1' ? '3.1.1' : '5';
  }

  start(): void {
    this.stopped = false;
    this.connect();
    // New rows normally arrive through wake(); the poll catches anything else (another writer).
    this.pollTimer = setInterval(() => this.pump(), 1000);
    this.pollTimer.unref();
  }

  /** New messages were committed to the outbox. */
  wake(): void {
    if (this.state === 'connected') this.pump();
  }

  status(): UplinkStatus {
    const backlog = this.outbox.backlog();
    return {
      state: this.state,
      broker: redact(this.config.url),
      protocol: this.protocol,
      last_error: this.lastError,
      connected_since: this.connectedSince ? new Date(this.connectedSince).toISOString() : undefined,
      acked: this.acked,
      backlog: backlog.count,
      oldest_queued_at: backlog.oldestCreatedAt ? new Date(backlog.oldestCreatedAt).toISOString() : undefined,
    };
  }

  /** Publishes the offline status (a clean shutdown is not a lost connection) and disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    clearInterval(this.pollTimer);
    const client = this.client;
    this.client = undefined;
    this.generation += 1;
    this.flushAcks();
    this.ctx.metrics.upstreamConnected.set(0);
    if (!client) return;
    if (client.connected) {
      await client.publishAsync(this.statusTopic(), this.statusPayload('offline', 'shutdown'), { qos: 1, retain: true }).catch(() => undefined);
    }
    await client.endAsync().catch(() => undefined);
  }

  private statusTopic(): string {
    return `${topicPrefix(this.config.topicRoot, this.identity())}/status`;
  }

  private statusPayload(state: 'online' | 'offline', reason?: string): string {
    const id = this.identity();
    return JSON.stringify({ v: 1, store_id: id.storeId, gateway_id: id.gatewayId, state, ...(reason ? { reason } : {}), at: new Date(this.ctx.now()).toISOString() });
  }

  private connectOptions(): IClientOptions {
    const c = this.config;
    const read = (file: string | undefined): Buffer | undefined => (file ? readFileSync(file) : undefined);
    return {
      clientId: c.clientId,
      protocolVersion: this.protocol === '5' ? 5 : 4,
      clean: true,
      keepalive: c.keepaliveS,
      connectTimeout: c.connectTimeoutS * 1000,
      reconnectPeriod: 0, // reconnection is ours (backoff, fallback, restart from the outbox)
      queueQoSZero: false,
      username: c.username,
      password: c.password,
      ca: read(c.caFile),
      cert: read(c.certFile),
      key: read(c.keyFile),
      rejectUnauthorized: true,
      will: { topic: this.statusTopic(), payload: Buffer.from(this.statusPayload('offline', 'connection lost')), qos: 1, retain: true },
    };
  }

  private connect(): void {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.state = 'connecting';
    let options: IClientOptions;
    try {
      options = this.connectOptions();
    } catch (err) {
      this.onFailure(generation, Object.assign(new Error(`cannot read a TLS file: ${(err as Error).message}`), { code: 'EFILE' }));
      return;
    }
    const client = mqtt.connect(this.config.url, options);
    this.client = client;
    client.on('connect', () => {
      if (generation !== this.generation) return;
      this.attempt = 0;
      this.state = 'connected';
      this.connectedSince = this.ctx.now();
      this.lastSent = 0;
      this.inFlight = [];
      this.ctx.metrics.upstreamConnected.set(1);
      this.ctx.log.info({ broker: redact(this.config.url), protocol: this.protocol, backlog: this.outbox.backlog().count }, 'upstream connected');
      client.publish(this.statusTopic(), this.statusPayload('online'), { qos: 1, retain: true });
      this.pump();
    });
    client.on('error', (err) => this.onFailure(generation, err as Error & { code?: string | number }));
    client.on('close', () => this.onFailure(generation, Object.assign(new Error('connection closed'), { code: 'ECLOSED' })));
  }

  private onFailure(generation: number, err: Error & { code?: string | number }): void {
    if (generation !== this.generation || this.stopped) return;
    this.generation += 1; // every later callback of this client is stale
    const classified = classifyConnectionError(err);
    const wasConnected = this.state === 'connected';
    const client = this.client;
    this.client = undefined;
    client?.removeAllListeners();
    client?.on('error', () => undefined);
    client?.end(true);
    this.flushAcks();
    this.inFlight = [];
    this.state = 'waiting';
    this.connectedSince = undefined;
    this.ctx.metrics.upstreamConnected.set(0);
    this.ctx.metrics.upstreamErrors.inc({ reason: classified.reason });
    const fallback = classified.unsupportedProtocol || (this.config.protocol === 'auto' && this.protocol === '5' && !wasConnected && classified.reason === 'closed');
    if (fallback && this.config.protocol === 'auto' && this.protocol === '5') {
      this.protocol = '3.1.1';
      this.ctx.log.warn({ broker: redact(this.config.url) }, 'the broker refused MQTT 5: using MQTT 3.1.1');
      this.retryTimer = setTimeout(() => this.connect(), 0);
      return;
    }
    this.lastError = { reason: classified.reason, message: classified.message, at: new Date(this.ctx.now()).toISOString() };
    const delay = backoffDelayMs(this.attempt++, { initialMs: this.config.reconnect.initialS * 1000, maxMs: this.config.reconnect.maxS * 1000 });
    const level = this.attempt <= 1 || classified.reason === 'auth' || classified.reason === 'tls' ? 'error' : 'warn';
    this.ctx.log[level]({ reason: classified.reason, err: classified.message, retry_in_ms: Math.round(delay), backlog: this.outbox.backlog().count }, 'upstream unavailable: buffering in the outbox');
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private pump(): void {
    const client = this.client;
    if (!client || this.state !== 'connected') return;
    const generation = this.generation;
    while (this.inFlight.length < this.config.window) {
      const rows = this.outbox.next(this.lastSent, this.config.window - this.inFlight.length);
      if (rows.length === 0) break;
      for (const row of rows) this.send(client, generation, row);
    }
  }

  private send(client: MqttClient, generation: number, row: OutboxRow): void {
    const prefix = topicPrefix(this.config.topicRoot, this.identity());
    const entry: InFlight = { seq: row.seq, acked: false };
    this.inFlight.push(entry);
    this.lastSent = row.seq;
    const properties = this.protocol === '5' ? { properties: { contentType: 'application/json' } } : {};
    client.publish(`${prefix}/${row.topic}`, envelope(row, this.identity()), { qos: 1, ...properties }, (err) => {
      if (generation !== this.generation) return;
      if (err) {
        this.onFailure(generation, Object.assign(new Error(`publish refused: ${err.message}`), { code: 'EPUBLISH' }));
        return;
      }
      entry.acked = true;
      this.acked += 1;
      this.ctx.metrics.upstreamPublished.inc({ kind: row.kind });
      while (this.inFlight[0]?.acked) this.ackedUpTo = this.inFlight.shift()!.seq;
      this.scheduleDelete();
      this.pump();
    });
  }

  private scheduleDelete(): void {
    if (this.deleteScheduled) return;
    this.deleteScheduled = true;
    setImmediate(() => this.flushAcks());
  }

  /** Deletes the acknowledged prefix (one statement for a whole burst of PUBACKs). */
  private flushAcks(): void {
    this.deleteScheduled = false;
    if (this.ackedUpTo === 0) return;
    try {
      this.outbox.acknowledge(this.ackedUpTo);
    } catch (err) {
      // Not fatal: the rows stay and are re-delivered with the same keys.
      this.ctx.log.error({ err: (err as Error).message }, 'cannot delete acknowledged outbox rows');
      return;
    }
    this.ackedUpTo = 0;
    const backlog = this.outbox.backlog();
    this.ctx.metrics.outboxBacklog.set(backlog.count);
    this.ctx.metrics.outboxOldestAge.set(backlog.oldestCreatedAt ? (this.ctx.now() - backlog.oldestCreatedAt) / 1000 : 0);
  }
}

/** The broker URL without a password (for logs and the API). */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
