/**
 * Everything durable, behind one object: the SQLite file, the event log, the KPI recorder, retention
 * and quota, and the upstream uplink that drains the outbox. The gateway records events into it and
 * the REST API reads from it. Settings are read through `config()` so a reload applies at once.
 */
import path from 'node:path';
import type { CameraEvent } from '../gateway/cameraPipeline.js';
import type { GatewayConfig, MqttUpstreamConfig } from '../gateway/config/configSchema.js';
import type { GatewayContext } from '../gateway/context.js';
import type { StoreEvent } from '../kpi/events.js';
import { entranceRefOf, planKpiSettingsOf } from '../kpi/entranceConfig.js';
import type { KpiSettings } from '../kpi/kpiEngine.js';
import { eventMessage, type GatewayIdentity } from '../upstream/messages.js';
import { MqttUplink, type UplinkStatus } from '../upstream/mqttUplink.js';
import { AnnotationStore } from './annotationStore.js';
import { getMeta, openDatabase, usedBytes, type Db } from './database.js';
import { DeadLetters } from './deadLetters.js';
import { EventStore } from './eventStore.js';
import { KpiRecorder } from './kpiRecorder.js';
import { Outbox } from './outbox.js';
import { Retention } from './retention.js';

export const DATABASE_FILE = 'storepulse.db';

export interface DataStoreOptions {
  ctx: GatewayContext;
  config: () => GatewayConfig;
  /** Defaults to data_dir/storepulse.db. */
  file?: string;
  /** How often closed KPI bins are computed (tests shorten it). */
  tickMs?: number;
}

export function kpiSettings(config: GatewayConfig): KpiSettings {
  const k = config.kpi;
  return {
    timeZone: config.timezone,
    openingTime: k.opening_time,
    entrances: k.entrances.map(entranceRefOf),
    outsideLine: k.outside_line,
    engagedDwellMs: k.engaged_dwell_s * 1000,
    bounceMs: k.bounce_s * 1000,
    queueZones: k.queue_zones,
    plan: planKpiSettingsOf(config.plan),
  };
}

/** A camera's analytics event as stored: no track id (nothing that follows a person leaves the pipeline). */
export function storeEventOf(event: CameraEvent): StoreEvent {
  if (event.type === 'line_crossing') return { type: 'line_crossing', ts: event.timestampMs, camera: event.camera, line: event.line, direction: event.direction };
  return { type: 'zone_visit', ts: event.exitMs, camera: event.camera, zone: event.zone, enter_ts: event.enterMs, dwell_ms: event.dwellMs, counted: event.counted };
}

export class DataStore {
  readonly events: EventStore;
  readonly outbox: Outbox;
  readonly recorder: KpiRecorder;
  readonly retention: Retention;
  readonly deadLetters: DeadLetters;
  private uplink: MqttUplink | undefined;
  private uplinkConfig: string | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly databaseId: string;

  private constructor(
    readonly db: Db,
    readonly file: string,
    private readonly options: DataStoreOptions,
  ) {
    const { ctx, config } = options;
    this.databaseId = getMeta(db, 'database_id')!;
    this.outbox = new Outbox(db);
    this.deadLetters = new DeadLetters(db, ctx);
    this.retention = new Retention(
      db,
      () => {
        const s = config().storage;
        return { eventsDays: s.retention_days.events, aggregatesDays: s.retention_days.aggregates, quotaBytes: s.quota_mb * 1024 * 1024 };
      },
      ctx,
    );
    this.events = new EventStore(db, {
      ctx,
      outbox: this.outbox,
      toMessage: (event, id) => eventMessage(event, id, this.identity()),
      makeRoom: () => this.retention.enforceQuota(true),
    });
    this.recorder = new KpiRecorder(db, { ctx, events: this.events, outbox: this.outbox, settings: () => kpiSettings(config()), identity: () => this.identity() });
    this.events.onCommitted(() => this.uplink?.wake());
    new AnnotationStore(db, { outbox: this.outbox, identity: () => this.identity() }).queueEarlierOnes(ctx.now());
  }

  static open(options: DataStoreOptions): DataStore {
    const file = options.file ?? path.join(options.config().data_dir, DATABASE_FILE);
    return new DataStore(openDatabase(file), file, options);
  }

  identity(): GatewayIdentity {
    const c = this.options.config();
    return { storeId: c.store_id, gatewayId: c.gateway_id, databaseId: this.databaseId };
  }

  record(event: StoreEvent, sideWrite?: () => void): Promise<number> {
    return this.events.append(event, sideWrite);
  }

  start(): void {
    const { ctx } = this.options;
    const every = (ms: number, job: () => void, what: string): void => {
      const timer = setInterval(() => {
        try {
          job();
        } catch (err) {
          ctx.log.error({ err: (err as Error).message }, `${what} failed`);
        }
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.tickMs ?? 5_000, () => this.tick(), 'KPI computation');
    every(3_600_000, () => this.retention.applyRetention(), 'retention');
    every(30_000, () => this.retention.enforceQuota(), 'disk quota check');
    this.retention.applyRetention();
    this.retention.enforceQuota();
    this.applyUpstreamConfig();
  }

  /** Computes closed KPI bins and wakes the uplink for them. */
  tick(): void {
    this.events.flush();
    if (this.recorder.tick().length) this.uplink?.wake();
    const backlog = this.outbox.backlog();
    this.options.ctx.metrics.outboxBacklog.set(backlog.count);
    this.options.ctx.metrics.outboxOldestAge.set(backlog.oldestCreatedAt ? (this.options.ctx.now() - backlog.oldestCreatedAt) / 1000 : 0);
  }

  /** (Re)starts the uplink when its settings changed (config reload). */
  applyUpstreamConfig(): void {
    const mqtt = this.options.config().upstream.mqtt;
    const serialised = JSON.stringify(mqtt ?? null);
    if (serialised === this.uplinkConfig) return;
    this.uplinkConfig = serialised;
    const previous = this.uplink;
    this.uplink = undefined;
    void previous?.stop();
    if (!mqtt) return;
    this.uplink = new MqttUplink(this.outbox, uplinkSettings(mqtt, this.identity()), () => this.identity(), this.options.ctx);
    this.uplink.start();
  }

  status(): { file: string; used_bytes: number; quota_bytes: number; upstream: UplinkStatus | { state: 'disabled'; backlog: number } } {
    const config = this.options.config();
    return {
      file: this.file,
      used_bytes: usedBytes(this.db),
      quota_bytes: config.storage.quota_mb * 1024 * 1024,
      upstream: this.uplink?.status() ?? { state: 'disabled', backlog: this.outbox.backlog().count },
    };
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.events.flush();
    this.deadLetters.flush();
    await this.uplink?.stop();
    this.db.close();
  }
}

export function uplinkSettings(m: MqttUpstreamConfig, id: GatewayIdentity) {
  return {
    url: m.url,
    username: m.username,
    password: m.password,
    caFile: m.ca,
    certFile: m.cert,
    keyFile: m.key,
    clientId: m.client_id ?? `storepulse-${id.storeId}-${id.gatewayId}`,
    protocol: m.protocol,
    topicRoot: m.topic_root,
    keepaliveS: m.keepalive_s,
    connectTimeoutS: m.connect_timeout_s,
    reconnect: { initialS: m.reconnect.initial_s, maxS: m.reconnect.max_s },
    window: m.window,
  };
}
