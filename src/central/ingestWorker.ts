/**
 * One central ingest worker: an MQTT 5 shared subscription to every gateway's messages, written to
 * PostgreSQL in batches, each message acknowledged only once its batch has committed.
 *
 * Exactly once in effect: the broker delivers at least once (QoS 1, a persistent session under a
 * stable client id, so a killed worker's unacknowledged messages are re-delivered when it comes
 * back), and the database makes a re-delivery change nothing (batchWriter.ts).
 *
 * Failures never lose a message and never stop the worker: a bad message becomes a dead letter; a
 * batch the database refuses for its data is retried one message at a time so that only the culprit
 * becomes a dead letter; a database that is down is retried with backoff while the messages stay
 * unacknowledged (the broker stops sending once `receive_maximum` are pending: natural backpressure).
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import pg from 'pg';
import type { Logger } from 'pino';
import { backoffDelayMs } from '../common/backoff.js';
import { RateLimitedLog } from '../common/rateLimitedLog.js';
import { deadLetterPlan, deadLetterRow, planBatch, type BatchPlan, type ReceivedMessage } from './batchPlan.js';
import { writeBatch, type WriteResult } from './batchWriter.js';
import { sharedSubscription, type CentralConfig } from './centralConfig.js';
import type { CentralMetrics } from './centralMetrics.js';
import { classifyMessage } from './incomingMessage.js';
import { deferAcks, sendPubAck } from './manualAck.js';
import { migrate } from './migrations.js';
import { PartitionKeeper } from './monthPartitions.js';
import { RetentionJob } from './retention.js';

export interface CentralContext {
  log: Logger;
  metrics: CentralMetrics;
  /** Wall clock in ms. */
  now: () => number;
}

interface Pending extends ReceivedMessage {
  messageId: number | undefined;
  /** The connection it arrived on: a PUBACK is only valid on that one. */
  connection: number;
}

export interface WorkerStats {
  received: number;
  acknowledged: number;
  batches: number;
  deadLetters: number;
}

/**
 * PostgreSQL refused the data itself (SQLSTATE class 22 data exception, 23 integrity, 54 limits):
 * retrying the same batch would fail forever.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class IngestWorker {
  private client: MqttClient | undefined;
  private connection = 0;
  private buffer: Pending[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopping = false;
  /** Messages taken from the buffer and being written. */
  private writing = 0;
  private readonly partitions = new PartitionKeeper();
  private readonly retention: RetentionJob;
  private readonly warn: RateLimitedLog;
  private readonly counts: WorkerStats = { received: 0, acknowledged: 0, batches: 0, deadLetters: 0 };

  constructor(
    private readonly config: CentralConfig,
    private readonly pool: pg.Pool,
    private readonly ctx: CentralContext,
  ) {
    this.warn = new RateLimitedLog(ctx.log, ctx.now);
    // An idle pooled connection that dies (database restart) is reported here; unhandled, it would end the process.
    pool.on('error', (err) => this.warn.warn('pool', { err: err.message }, 'central: idle PostgreSQL connection lost'));
    // On a connection of its own, so that a long run never holds up the ingest pool (retention.ts).
    this.retention = new RetentionJob({
      config: config.retention,
      connect: async () => {
        const client = new pg.Client({
          connectionString: config.postgres.url,
          application_name: `storepulse-central retention ${config.mqtt.client_id}`,
          // A stop waits for a run in progress: never for an unreachable server's TCP timeout.
          connectionTimeoutMillis: 10_000,
        });
        try {
          await client.connect();
        } catch (err) {
          await client.end().catch(() => undefined);
          throw err;
        }
        return client;
      },
      log: ctx.log,
      metrics: ctx.metrics,
      now: ctx.now,
      onDropped: () => this.partitions.forget(),
    });
  }

  stats(): WorkerStats {
    return { ...this.counts };
  }

  /** Brings the schema up to date, connects and subscribes; resolves once the broker granted the subscription. */
  async start(): Promise<void> {
    const db = await this.pool.connect();
    try {
      const applied = await migrate(db);
      if (applied.length > 0) this.ctx.log.info({ versions: applied }, 'central: database schema migrated');
    } finally {
      db.release();
    }
    // In the background: at start, then every retention.interval_minutes (one worker at a time).
    this.retention.start();
    const c = this.config.mqtt;
    const client = mqtt.connect(c.url, this.connectOptions());
    this.client = client;
    deferAcks(client, (packet) => this.take(packet));
    client.on('close', () => {
      // PUBACKs of this connection's messages can no longer be sent: forget what is not yet being
      // written (the broker re-delivers it), and let a batch in flight commit without acknowledging.
      this.connection += 1;
      this.buffer = [];
      this.ctx.metrics.connected.set(0);
      this.updatePending();
    });
    client.on('error', (err) => this.warn.warn(`mqtt:${err.message}`, { err: err.message, broker: redact(c.url) }, 'central: broker connection error'));
    client.on('offline', () => this.ctx.log.warn({ broker: redact(c.url) }, 'central: broker unreachable, reconnecting'));
    const subscribed = new Promise<void>((resolve, reject) => {
      client.on('connect', (connack) => {
        this.ctx.metrics.connected.set(1);
        this.ctx.log.info({ broker: redact(c.url), client_id: c.client_id, session_present: connack.sessionPresent }, 'central: connected');
        // Subscribing again on every connection is needed, not only harmless: mosquitto 2.0 restores a
        // persistent session after a restart but not its shared subscriptions (measured with 2.0.11).
        // mqtt.js's own re-subscription is off because it skips filters it believes still active.
        client.subscribe(sharedSubscription(c), { qos: 1 }, (err, granted) => {
          const refused = granted?.find((g) => g.qos !== 0 && g.qos !== 1 && g.qos !== 2);
          if (err || refused) {
            const message = err?.message ?? `the broker refused the subscription (reason code ${refused!.qos})`;
            this.ctx.log.error({ err: message, filter: sharedSubscription(c) }, 'central: cannot subscribe');
            reject(new Error(`cannot subscribe to ${sharedSubscription(c)}: ${message}`));
            return;
          }
          this.ctx.log.info({ filter: sharedSubscription(c) }, 'central: subscribed');
          resolve();
        });
      });
    });
    await subscribed;
    this.ctx.log.info({ filter: sharedSubscription(c), group: c.group }, 'central: ingesting');
  }

  /**
   * Commits and acknowledges what has been received, then disconnects. Messages arriving meanwhile
   * stay unacknowledged in the session (the broker keeps them for this client id).
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.flushTimer);
    await Promise.all([this.flush(), this.retention.stop()]);
    const client = this.client;
    this.client = undefined;
    this.ctx.metrics.connected.set(0);
    await client?.endAsync().catch(() => undefined);
  }

  private connectOptions(): IClientOptions {
    const c = this.config.mqtt;
    const read = (file: string | undefined): Buffer | undefined => (file ? readFileSync(file) : undefined);
    return {
      clientId: c.client_id,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: c.session_expiry_s, receiveMaximum: c.receive_maximum },
      resubscribe: false,
      keepalive: c.keepalive_s,
      reconnectPeriod: c.reconnect_s * 1000,
      connectTimeout: 10_000,
      username: c.username,
      password: c.password,
      ca: read(c.ca_file),
      cert: read(c.cert_file),
      key: read(c.key_file),
    };
  }

  private take(packet: IPublishPacket): void {
    // While stopping, take nothing new: unacknowledged, it waits in the session for the next start.
    if (this.stopping) return;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const receivedAt = this.ctx.now();
    const classified = classifyMessage(packet.topic, payload, this.config.mqtt.topic_root, receivedAt);
    this.buffer.push({ topic: packet.topic, payload, receivedAt, classified, messageId: packet.qos > 0 ? packet.messageId : undefined, connection: this.connection });
    this.counts.received += 1;
    this.ctx.metrics.received.inc();
    this.updatePending();
    if (this.buffer.length >= this.config.batch.max_messages) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), this.config.batch.max_wait_ms);
  }

  /** Writes batches until the buffer is empty; one writer at a time. */
  private flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
      if (this.buffer.length > 0 && !this.stopping) this.flushTimer ??= setTimeout(() => void this.flush(), this.config.batch.max_wait_ms);
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.config.batch.max_messages);
      this.writing = batch.length;
      const written = await this.commit(batch);
      if (written) this.acknowledge(batch);
      this.writing = 0;
      this.updatePending();
    }
  }

  private updatePending(): void {
    this.ctx.metrics.pending.set(this.buffer.length + this.writing);
  }

  /** Commits the batch, retrying until it is written or no longer worth writing. Never throws. */
  private async commit(batch: Pending[]): Promise<boolean> {
    const connection = this.connection;
    for (let attempt = 0; ; attempt++) {
      // The connection the messages came on is gone: they will be re-delivered; writing them now
      // would only delay the worker.
      if (connection !== this.connection && attempt > 0) return false;
      try {
        const plan = planBatch(batch, this.config.mqtt.topic_root, this.ctx.now());
        this.record(await this.write(plan), plan);
        return true;
      } catch (batchErr) {
        let err = batchErr;
        if (isDataError(err)) {
          this.ctx.metrics.writeErrors.inc({ kind: 'data' });
          // A row of a month whose partition retention dropped (here or in another worker) finds no
          // partition: look at the catalogue again, so that the retry re-creates it.
          this.partitions.forget();
          this.warn.warn('batch-data', { err: (err as Error).message, messages: batch.length }, 'central: the database refused a batch; writing its messages one by one');
          try {
            await this.commitOneByOne(batch);
            return true;
          } catch (oneByOneErr) {
            err = oneByOneErr; // the database went away meanwhile: retry the whole batch (writes are idempotent)
          }
        }
        this.ctx.metrics.writeErrors.inc({ kind: 'database' });
        const delay = backoffDelayMs(attempt, { initialMs: 200, maxMs: 10_000 });
        this.warn.warn('batch-db', { err: (err as Error).message, retry_in_ms: Math.round(delay), messages: batch.length }, 'central: cannot write to PostgreSQL; messages stay unacknowledged');
        if (this.stopping) return false;
        await sleep(delay);
      }
    }
  }

  /** A batch with a message PostgreSQL refuses: everything else is written, the culprit becomes a dead letter. */
  private async commitOneByOne(batch: Pending[]): Promise<void> {
    for (const message of batch) {
      const plan = planBatch([message], this.config.mqtt.topic_root, this.ctx.now());
      try {
        this.record(await this.write(plan), plan);
      } catch (err) {
        if (!isDataError(err)) throw err;
        const refused = deadLetterPlan([deadLetterRow(message, `the database refused it: ${(err as Error).message}`)]);
        this.record(await this.write(refused), refused);
      }
    }
  }

  private async write(plan: BatchPlan): Promise<WriteResult> {
    const db = await this.pool.connect();
    try {
      const endTimer = this.ctx.metrics.commitSeconds.startTimer();
      const result = await writeBatch(db, plan, this.partitions);
      endTimer();
      db.release();
      return result;
    } catch (err) {
      // A connection that failed mid-transaction is not reused.
      db.release(err as Error);
      throw err;
    }
  }

  private record(result: WriteResult, plan: BatchPlan): void {
    const m = this.ctx.metrics;
    m.batches.inc();
    m.batchSize.observe(plan.received);
    m.stored.inc({ table: 'events' }, result.eventsInserted);
    m.stored.inc({ table: 'kpi_bins' }, result.binsWritten);
    m.stored.inc({ table: 'journey_bins' }, result.journeyBinsInserted);
    m.stored.inc({ table: 'annotations' }, result.annotationsWritten);
    m.stored.inc({ table: 'gateways' }, result.statusesApplied);
    m.deadLetters.inc(result.deadLetters);
    m.partitionsCreated.inc(result.partitionsCreated.length);
    this.counts.batches += 1;
    this.counts.deadLetters += result.deadLetters;
    for (const name of result.partitionsCreated) this.ctx.log.info({ partition: name }, 'central: partition created');
    for (const d of plan.deadLetters) this.warn.warn(`dead:${d.reason.slice(0, 40)}`, { topic: d.topic, reason: d.reason }, 'central: message refused, kept in dead_letters');
  }

  private acknowledge(batch: Pending[]): void {
    const client = this.client;
    let acked = 0;
    for (const message of batch) {
      if (message.connection !== this.connection || message.messageId === undefined || !client?.connected) continue;
      sendPubAck(client, message.messageId);
      acked += 1;
    }
    this.counts.acknowledged += acked;
    this.ctx.metrics.acknowledged.inc(acked);
  }
}

/** The broker URL without a password (for logs). */
export const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
