/** Any numeric sensor (temperature, CO2, a queue-length counter …): one field of the payload, or a bare number. */
import type { SensorReading } from '../../kpi/events.js';
import type { NumericConfig } from '../sensorConfigSchema.js';
import { decodeJson, eventTime, isObject, numberField, selectField } from '../payload.js';
import type { ReadOutcome, SensorProfile } from './profile.js';

export class NumericProfile implements SensorProfile {
  constructor(private readonly config: NumericConfig) {}

  get id(): string {
    return this.config.id;
  }

  read(payload: Uint8Array, receivedAt: number): ReadOutcome {
    const json = decodeJson(payload);
    if (!json.ok) return json;
    const body = json.value;
    const raw = isObject(body) ? selectField(body, this.config.field) : body;
    const value = numberField(raw ?? undefined, this.config.field, { min: this.config.min, max: this.config.max });
    if (!value.ok) return value;
    const ts = eventTime(body, this.config.time_field, receivedAt);
    if (!ts.ok) return ts;
    const reading: SensorReading = { type: 'sensor_reading', ts: ts.value, sensor: this.config.id, value: value.value };
    if (this.config.unit !== undefined) reading.unit = this.config.unit;
    return { ok: true, events: [reading] };
  }
}
