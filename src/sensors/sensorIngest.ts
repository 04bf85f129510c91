/**
 * Routes a sensor message to its sensor's profile and stores what it means. Transport-agnostic: the
 * embedded broker and the external-broker subscriber both call `handle` and acknowledge the message
 * to the device only after it resolves, i.e. after the events are committed (or the refusal is
 * recorded), so a power cut loses nothing the device believes delivered.
 */
import type { GatewayContext } from '../gateway/context.js';
import type { StoreEvent } from '../kpi/events.js';
import { RateLimitedLog } from '../common/rateLimitedLog.js';
import type { DeadLetter } from '../store/deadLetters.js';
import { maskCardNumbers } from './cardNumbers.js';
import { reject, type Rejection } from './payload.js';
import { createProfile, DoorCounterProfile, type DoorCounterMemory, type SensorProfile } from './profiles/index.js';
import type { MqttSensorConfig } from './sensorConfigSchema.js';
import { topicMatches } from './mqtt/topicFilter.js';

export type IngestResult = 'accepted' | 'rejected' | 'duplicate';

export interface IngestSink {
  /** Durably stores an event; `sideWrite` commits in the same transaction. */
  record(event: StoreEvent, sideWrite?: () => void): Promise<unknown>;
  deadLetter(letter: DeadLetter): void;
  /** Door counters' last totals across restarts. */
  loadMemory(sensor: string): DoorCounterMemory | undefined;
  saveMemory(sensor: string, memory: DoorCounterMemory): void;
}

interface Route {
  config: MqttSensorConfig;
  profile: SensorProfile;
}

export class SensorIngest {
  private routes: Route[] = [];
  private readonly rateLimited: RateLimitedLog;

  constructor(
    sensors: readonly MqttSensorConfig[],
    private readonly sink: IngestSink,
    private readonly ctx: GatewayContext,
  ) {
    this.rateLimited = new RateLimitedLog(ctx.log, ctx.now);
    this.configure(sensors);
  }

  /** Applies a new sensor list; unchanged sensors keep their memory (counter totals, recent ids). */
  configure(sensors: readonly MqttSensorConfig[]): void {
    const previous = new Map(this.routes.map((r) => [r.config.id, r]));
    this.routes = sensors.map((config) => {
      const old = previous.get(config.id);
      if (old && JSON.stringify(old.config) === JSON.stringify(config)) return old;
      return { config, profile: createProfile(config, config.profile === 'door_counter' ? this.sink.loadMemory(config.id) : undefined) };
    });
  }

  /** The topic filters to subscribe to (external broker mode). */
  topics(): string[] {
    return [...new Set(this.routes.map((r) => r.config.topic))];
  }

  async handle(topic: string, payload: Uint8Array, receivedAt = this.ctx.now()): Promise<{ result: IngestResult; sensor: string | undefined }> {
    const route = this.routes.find((r) => topicMatches(r.config.topic, topic));
    if (!route) {
      this.refuse(topic, undefined, payload, receivedAt, reject('unknown_topic', `no sensor is configured for topic "${topic.slice(0, 120)}"`));
      return { result: 'rejected', sensor: undefined };
    }
    const { profile } = route;
    const sensor = profile.id;
    const { metrics } = this.ctx;
    metrics.sensorLastSeen.set({ sensor }, receivedAt / 1000);
    let outcome;
    try {
      outcome = profile.read(payload, receivedAt);
    } catch (err) {
      // A parser bug must cost one message, not the gateway.
      const message = maskCardNumbers((err as Error).message);
      outcome = reject('wrong_type', `internal parser error: ${message}`);
      this.ctx.log.error({ sensor, err: message }, 'sensor parser failed');
    }
    if (!outcome.ok) {
      this.refuse(topic, sensor, payload, receivedAt, outcome);
      if (profile instanceof DoorCounterProfile) this.sink.saveMemory(sensor, profile.snapshot()); // a re-baseline
      return { result: 'rejected', sensor };
    }
    if (outcome.duplicate) {
      metrics.sensorMessages.inc({ sensor, result: 'duplicate' });
      return { result: 'duplicate', sensor };
    }
    const memory = profile instanceof DoorCounterProfile ? profile.snapshot() : undefined;
    const remember = memory ? () => this.sink.saveMemory(sensor, memory) : undefined;
    if (outcome.events.length === 0) remember?.();
    // The counter's new totals commit with its event: no double count or loss across a power cut.
    await Promise.all(outcome.events.map((event, i) => this.sink.record(event, i === 0 ? remember : undefined)));
    metrics.sensorMessages.inc({ sensor, result: 'accepted' });
    return { result: 'accepted', sensor };
  }

  private refuse(topic: string, sensor: string | undefined, payload: Uint8Array, receivedAt: number, why: Rejection): void {
    const label = sensor ?? '(unknown)';
    this.ctx.metrics.sensorMessages.inc({ sensor: label, result: 'rejected' });
    this.ctx.metrics.sensorRejected.inc({ sensor: label, code: why.code });
    this.sink.deadLetter({ receivedAt, channel: 'mqtt', topic, sensor, code: why.code, reason: why.reason, payload });
    // The reason can quote the payload (a JSON syntax error, an out-of-range number): no card number in the log.
    this.rateLimited.warn(`${label}:${why.code}`, { sensor: label, topic: topic.slice(0, 120), code: why.code, reason: maskCardNumbers(why.reason) }, 'sensor message refused (kept in dead letters)');
  }
}
