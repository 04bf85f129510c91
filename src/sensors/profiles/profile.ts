/** What every MQTT sensor profile does: one payload in, the events it means (or why it was refused). */
import type { StoreEvent } from '../../kpi/events.js';
import type { Rejection } from '../payload.js';

export type ReadOutcome =
  | { ok: true; events: StoreEvent[]; /** A redelivered reading already counted (QoS 1 is at-least-once). */ duplicate?: boolean }
  | Rejection;

export interface SensorProfile {
  readonly id: string;
  /** Pure except for the profile's own memory (a counter's last totals, recent transaction ids). */
  read(payload: Uint8Array, receivedAt: number): ReadOutcome;
}
