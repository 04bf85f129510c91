/**
 * The gateway's sensor side: the MQTT transport (embedded broker or external subscription) feeding
 * SensorIngest, and the BLE scanner feeding BleInterpreter, all recording into the DataStore.
 * Follows config reloads: a changed sensor list applies at once, a changed broker or adapter
 * restarts only that transport.
 */
import path from 'node:path';
import type { GatewayConfig } from '../gateway/config/configSchema.js';
import type { GatewayContext } from '../gateway/context.js';
import type { StoreEvent } from '../kpi/events.js';
import { generatedSecret } from '../common/secretFile.js';
import { getMeta, setMeta } from '../store/database.js';
import type { DataStore } from '../store/dataStore.js';
import { BleInterpreter } from './ble/bleInterpreter.js';
import { BluezScanner } from './ble/bluezScanner.js';
import { EmbeddedBroker } from './mqtt/embeddedBroker.js';
import { ExternalSubscriber } from './mqtt/externalSubscriber.js';
import type { DoorCounterMemory } from './profiles/index.js';
import type { BleConfig } from './sensorConfigSchema.js';
import { SensorIngest, type IngestResult } from './sensorIngest.js';

export const BROKER_PASSWORD_FILE = 'mqtt-password';
export const GENERATED_BROKER_USER = 'sensors';

export interface SensorHealth {
  id: string;
  kind: string;
  last_message_at: number | null;
  accepted: number;
  rejected: number;
  duplicates: number;
}

export interface SensorServiceStatus {
  broker:
    | { mode: 'off' }
    | { mode: 'embedded'; port: number | null; state: 'listening' | 'error'; error?: string }
    | { mode: 'external'; connected: boolean };
  sensors: SensorHealth[];
  ble: { state: 'off' | 'up' | 'down'; reason: string | null; present: string[] };
  dead_letters: number;
}

export class SensorService {
  private readonly ingest: SensorIngest;
  private broker: EmbeddedBroker | undefined;
  private subscriber: ExternalSubscriber | undefined;
  private brokerKey: string | undefined;
  private brokerError: string | undefined;
  private scanner: BluezScanner | undefined;
  private interpreter: BleInterpreter | undefined;
  private bleKey: string | undefined;
  private bleReason: string | null = null;
  private presenceTimer: NodeJS.Timeout | undefined;
  private readonly health = new Map<string, SensorHealth>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly config: () => GatewayConfig,
    private readonly store: DataStore,
  ) {
    const db = store.db;
    this.ingest = new SensorIngest(
      config().sensors.mqtt,
      {
        record: (event, sideWrite) => store.record(event, sideWrite),
        deadLetter: (letter) => store.deadLetters.add(letter),
        loadMemory: (sensor) => {
          const raw = getMeta(db, `door_counter:${sensor}`);
          return raw ? (JSON.parse(raw) as DoorCounterMemory) : undefined;
        },
        saveMemory: (sensor, memory) => setMeta(db, `door_counter:${sensor}`, JSON.stringify(memory)),
      },
      ctx,
    );
  }

  /** Starts or re-applies everything from the current config (also the reload path). */
  async apply(): Promise<void> {
    const config = this.config();
    this.ingest.configure(config.sensors.mqtt);
    await this.applyBroker(config);
    this.subscriber?.syncSubscriptions();
    await this.applyBle(config.sensors.ble);
  }

  /** A message from any MQTT transport (exposed for the benchmark). */
  async handleMessage(topic: string, payload: Buffer): Promise<IngestResult> {
    const receivedAt = this.ctx.now();
    const { result, sensor } = await this.ingest.handle(topic, payload, receivedAt);
    if (sensor) {
      const h = this.healthOf(sensor, 'mqtt');
      h.last_message_at = receivedAt;
      if (result === 'accepted') h.accepted++;
      else if (result === 'rejected') h.rejected++;
      else h.duplicates++;
    }
    return result;
  }

  status(): SensorServiceStatus {
    const config = this.config();
    let broker: SensorServiceStatus['broker'] = { mode: 'off' };
    if (this.broker || this.brokerError) broker = { mode: 'embedded', port: this.broker?.port ?? null, state: this.broker ? 'listening' : 'error', ...(this.brokerError ? { error: this.brokerError } : {}) };
    else if (this.subscriber) broker = { mode: 'external', connected: this.subscriber.connected };
    const ids = [...config.sensors.mqtt.map((s) => [s.id, s.profile] as const), ...(config.sensors.ble?.sensors.map((s) => [s.id, 'ble'] as const) ?? [])];
    return {
      broker,
      sensors: ids.map(([id, kind]) => ({ ...(this.health.get(id) ?? { id, kind, last_message_at: null, accepted: 0, rejected: 0, duplicates: 0 }), kind })),
      ble: { state: !this.scanner ? 'off' : this.scanner.up ? 'up' : 'down', reason: this.bleReason, present: this.interpreter?.present() ?? [] },
      dead_letters: this.store.deadLetters.count(),
    };
  }

  get brokerPort(): number | undefined {
    return this.broker?.port;
  }

  async stop(): Promise<void> {
    await this.stopBroker();
    await this.stopBle();
  }

  private healthOf(id: string, kind: string): SensorHealth {
    let h = this.health.get(id);
    if (!h) {
      h = { id, kind, last_message_at: null, accepted: 0, rejected: 0, duplicates: 0 };
      this.health.set(id, h);
    }
    return h;
  }

  private async applyBroker(config: GatewayConfig): Promise<void> {
    const { broker, mqtt } = config.sensors;
    // No MQTT sensor, no open port.
    const key = mqtt.length === 0 ? 'off' : JSON.stringify(broker);
    if (key === this.brokerKey) return;
    await this.stopBroker();
    this.brokerKey = key;
    if (mqtt.length === 0) return;
    const onMessage = (topic: string, payload: Buffer) => this.handleMessage(topic, payload);
    if (broker.mode === 'embedded') {
      let users = broker.users;
      if (users.length === 0) {
        users = [{ username: GENERATED_BROKER_USER, password: generatedSecret(config.data_dir, BROKER_PASSWORD_FILE) }];
        this.ctx.log.info({ username: GENERATED_BROKER_USER, password_file: path.resolve(config.data_dir, BROKER_PASSWORD_FILE) }, 'sensor broker: no users configured, generated one');
      }
      try {
        this.broker = await EmbeddedBroker.start({ host: broker.host, port: broker.port, users, ctx: this.ctx, onMessage });
        this.brokerError = undefined;
      } catch (err) {
        this.brokerError = (err as Error).message;
        this.ctx.log.error({ err: this.brokerError, port: broker.port }, 'sensor broker cannot listen: MQTT sensors are not received');
      }
    } else {
      this.subscriber = new ExternalSubscriber({
        url: broker.url,
        username: broker.username,
        password: broker.password,
        ca: broker.ca,
        clientId: broker.client_id ?? `storepulse-${config.store_id}-${config.gateway_id}-sensors`,
        topics: () => this.ingest.topics(),
        ctx: this.ctx,
        onMessage,
      });
      this.subscriber.start();
    }
  }

  private async stopBroker(): Promise<void> {
    const broker = this.broker;
    const subscriber = this.subscriber;
    this.broker = undefined;
    this.subscriber = undefined;
    this.brokerError = undefined;
    this.brokerKey = undefined;
    await broker?.close();
    await subscriber?.stop();
  }

  private async applyBle(ble: BleConfig | undefined): Promise<void> {
    const key = ble?.enabled ? (ble.adapter ?? '(first)') : 'off';
    if (key === this.bleKey) return;
    await this.stopBle();
    this.bleKey = key;
    if (!ble?.enabled) return;
    const bleConfig = (): BleConfig => this.config().sensors.ble ?? ble;
    const interpreter = new BleInterpreter(bleConfig);
    this.interpreter = interpreter;
    const { metrics, log, now } = this.ctx;
    const record = (events: StoreEvent[]): void => {
      for (const event of events) {
        if (event.type === 'staff_presence') metrics.blePresent.set({ device: event.badge }, event.present ? 1 : 0);
        if (event.type === 'beacon_presence') metrics.blePresent.set({ device: event.beacon }, event.present ? 1 : 0);
        if (event.type === 'sensor_reading') {
          const sensorId = event.sensor.split('.')[0]!;
          const h = this.healthOf(sensorId, 'ble');
          h.last_message_at = event.ts;
          h.accepted++;
        }
        this.store.record(event).catch((err: Error) => log.error({ err: err.message, type: event.type }, 'BLE event not stored'));
      }
    };
    this.scanner = new BluezScanner({
      adapter: ble.adapter,
      log,
      onAdvert: (ad) => {
        const { matched, events } = interpreter.advert(ad, now());
        metrics.bleAdverts.inc({ result: matched ? 'matched' : 'ignored' });
        record(events);
        return matched;
      },
      onDeviceGone: (device) => interpreter.forgetDevice(device),
      onRadio: (up, reason) => {
        this.bleReason = reason;
        metrics.bleAdapterUp.set(up ? 1 : 0);
        if (up) {
          interpreter.resume(now());
          log.info({ reason }, 'BLE scanning');
        } else {
          log.warn({ reason }, 'BLE radio unavailable: retrying (presence is held, not timed out, meanwhile)');
        }
      },
    });
    this.presenceTimer = setInterval(() => {
      if (this.scanner?.up) record(interpreter.tick(now()));
    }, 500);
    this.presenceTimer.unref();
    await this.scanner.start().catch((err: Error) => {
      this.bleReason = err.message;
      log.error({ err: err.message }, 'BLE: cannot reach the system D-Bus; BLE is off until the next reload');
    });
  }

  private async stopBle(): Promise<void> {
    clearInterval(this.presenceTimer);
    const scanner = this.scanner;
    this.scanner = undefined;
    this.interpreter = undefined;
    this.bleKey = undefined;
    this.ctx.metrics.bleAdapterUp.set(0);
    await scanner?.stop();
  }
}
