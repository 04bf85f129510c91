/**
 * IR door counters. Cumulative counters report totals since they started: the reading minus the
 * previous one is the traffic, with a smaller total meaning either a wrap-around (near the counter's
 * modulus) or a reset (power cycle: it counts again from 0). Delta counters report the people since
 * their last message; an optional `seq` lets a redelivered message be recognised.
 */
import type { DoorCount } from '../../kpi/events.js';
import type { DoorCounterConfig } from '../sensorConfigSchema.js';
import { isObject, numberField, reject, selectField, type JsonValue, type Rejection } from '../payload.js';
import { JsonProfile, type ReadOutcome } from './profile.js';

/** What must survive a gateway restart so the first reading after it is not lost or doubled. */
export interface DoorCounterMemory {
  in?: number;
  out?: number;
  seq?: number;
}

const MAX_COUNT = 2 ** 53 - 1;

export class DoorCounterProfile extends JsonProfile<DoorCounterConfig> {
  private memory: DoorCounterMemory;

  constructor(config: DoorCounterConfig, memory: DoorCounterMemory = {}) {
    super(config);
    this.memory = { ...memory };
  }

  snapshot(): DoorCounterMemory {
    return { ...this.memory };
  }

  protected interpret(body: JsonValue, receivedAt: number): ReadOutcome {
    if (!isObject(body)) return reject('not_object', `a door counter sends an object such as {"${this.config.in_field}": 12, "${this.config.out_field}": 9}`);
    const inValue = numberField(selectField(body, this.config.in_field), this.config.in_field, { integer: true, min: 0, max: MAX_COUNT });
    if (!inValue.ok) return inValue;
    const outValue = numberField(selectField(body, this.config.out_field), this.config.out_field, { integer: true, min: 0, max: MAX_COUNT });
    if (!outValue.ok) return outValue;
    const ts = this.timeOf(body, receivedAt);
    if (!ts.ok) return ts;

    let delta: { in: number; out: number } | Rejection | 'duplicate';
    if (this.config.counting === 'delta') {
      delta = this.fromDelta(body, inValue.value, outValue.value);
    } else {
      delta = this.fromTotals(inValue.value, outValue.value);
    }
    if (delta === 'duplicate') return { ok: true, events: [], duplicate: true };
    if ('ok' in delta) return delta;
    if (delta.in === 0 && delta.out === 0) return { ok: true, events: [] };
    const [people_in, people_out] = this.config.swap_directions ? [delta.out, delta.in] : [delta.in, delta.out];
    const event: DoorCount = { type: 'door_count', ts: ts.value, sensor: this.config.id, in: people_in, out: people_out };
    return { ok: true, events: [event] };
  }

  private fromDelta(body: Record<string, unknown>, dIn: number, dOut: number): { in: number; out: number } | Rejection | 'duplicate' {
    const max = this.config.max_per_reading;
    if (dIn > max || dOut > max) return reject('implausible', `${Math.max(dIn, dOut)} people in one message is over max_per_reading (${max})`);
    if (body.seq !== undefined) {
      const seq = numberField(body.seq as never, 'seq', { integer: true, min: 0, max: MAX_COUNT });
      if (!seq.ok) return seq;
      // A sequence number not above the last one is a redelivery (or a device that restarted at 0:
      // a jump back by more than a few thousand is taken as that restart).
      if (this.memory.seq !== undefined && seq.value <= this.memory.seq && this.memory.seq - seq.value < 10_000) return 'duplicate';
      this.memory.seq = seq.value;
    }
    return { in: dIn, out: dOut };
  }

  private fromTotals(totalIn: number, totalOut: number): { in: number; out: number } | Rejection {
    const previous = this.memory;
    const next = { in: totalIn, out: totalOut, seq: previous.seq };
    if (previous.in === undefined || previous.out === undefined) {
      // The first total only sets the baseline: what the counter counted before we knew it is not today's traffic.
      this.memory = next;
      return { in: 0, out: 0 };
    }
    const dIn = this.step(previous.in, totalIn);
    const dOut = this.step(previous.out, totalOut);
    this.memory = next;
    const max = this.config.max_per_reading;
    if (dIn > max || dOut > max) {
      // Re-baselined above: a replaced or re-programmed counter must not block every later reading.
      return reject('implausible', `a jump of ${Math.max(dIn, dOut)} people since the previous total is over max_per_reading (${max}); counting restarts from this total`);
    }
    return { in: dIn, out: dOut };
  }

  /** People between two totals. */
  private step(previous: number, current: number): number {
    if (current >= previous) return current - previous;
    const wrap = this.config.wrap_at;
    // Just below the modulus before, just above 0 now: the counter wrapped.
    if (wrap !== undefined && previous < wrap && previous - current > wrap / 2) return wrap - previous + current;
    // Otherwise it was reset and has counted `current` since.
    return current;
  }
}
