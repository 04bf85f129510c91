/** What every MQTT sensor profile does: one payload in, the events it means (or why it was refused). */
import type { StoreEvent } from '../../kpi/events.js';
import { decodeJson, eventTime, type JsonValue, type Rejection, type Result } from '../payload.js';

export type ReadOutcome =
  | { ok: true; events: StoreEvent[]; /** A redelivered reading already counted (QoS 1 is at-least-once). */ duplicate?: boolean }
  | Rejection;

export interface SensorProfile {
  readonly id: string;
  /** Pure except for the profile's own memory (a counter's last totals, recent transaction ids). */
  read(payload: Uint8Array, receivedAt: number): ReadOutcome;
}

/** A profile whose payloads are JSON (or a bare value): decoding and the reading's time are shared. */
export abstract class JsonProfile<C extends { id: string; time_field: string }> implements SensorProfile {
  constructor(protected readonly config: C) {}

  get id(): string {
    return this.config.id;
  }

  read(payload: Uint8Array, receivedAt: number): ReadOutcome {
    const json = decodeJson(payload);
    return json.ok ? this.interpret(json.value, receivedAt) : json;
  }

  protected abstract interpret(body: JsonValue, receivedAt: number): ReadOutcome;

  protected timeOf(body: JsonValue, receivedAt: number): Result<number> {
    return eventTime(body, this.config.time_field, receivedAt);
  }
}
