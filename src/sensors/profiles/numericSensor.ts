/** Any numeric sensor (temperature, CO2, a queue-length counter …): one field of the payload, or a bare number. */
import type { SensorReading } from '../../kpi/events.js';
import type { NumericConfig } from '../sensorConfigSchema.js';
import { isObject, numberField, selectField, type JsonValue } from '../payload.js';
import { JsonProfile, type ReadOutcome } from './profile.js';

export class NumericProfile extends JsonProfile<NumericConfig> {
  protected interpret(body: JsonValue, receivedAt: number): ReadOutcome {
    const raw = isObject(body) ? selectField(body, this.config.field) : body;
    const value = numberField(raw ?? undefined, this.config.field, { min: this.config.min, max: this.config.max });
    if (!value.ok) return value;
    const ts = this.timeOf(body, receivedAt);
    if (!ts.ok) return ts;
    const reading: SensorReading = { type: 'sensor_reading', ts: ts.value, sensor: this.config.id, value: value.value };
    if (this.config.unit !== undefined) reading.unit = this.config.unit;
    return { ok: true, events: [reading] };
  }
}
