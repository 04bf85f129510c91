import type { MqttSensorConfig } from '../sensorConfigSchema.js';
import { DoorCounterProfile, type DoorCounterMemory } from './doorCounter.js';
import { FeedbackProfile } from './feedbackTerminal.js';
import { NumericProfile } from './numericSensor.js';
import { PosProfile } from './posTransaction.js';
import type { SensorProfile } from './profile.js';

export function createProfile(config: MqttSensorConfig, memory?: DoorCounterMemory): SensorProfile {
  switch (config.profile) {
    case 'door_counter':
      return new DoorCounterProfile(config, memory);
    case 'feedback':
      return new FeedbackProfile(config);
    case 'pos':
      return new PosProfile(config);
    case 'numeric':
      return new NumericProfile(config);
  }
}

export { DoorCounterProfile, FeedbackProfile, NumericProfile, PosProfile };
export type { DoorCounterMemory, SensorProfile };
export type { ReadOutcome } from './profile.js';
